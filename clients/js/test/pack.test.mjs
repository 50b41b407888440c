// What `npm publish` would publish: exactly these files, every export among them, and nothing in
// them that needs a dependency or a Node built-in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

const PUBLISHED = [
  "README.md",
  "package.json",
  "src/format.js",
  "src/hono.d.ts",
  "src/hono.js",
  "src/index.d.ts",
  "src/index.js",
];

function packed() {
  // npm is beside the node that runs this (the Node 22 that npm installs, or the machine's).
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const [entry] = JSON.parse(out);
  return entry;
}

test("npm pack publishes exactly the client's files", () => {
  const entry = packed();
  assert.equal(entry.name, "@keyward/client");
  assert.deepEqual(entry.files.map((f) => f.path).sort(), PUBLISHED);
});

test("package.json: ESM, both entry points with types, no dependencies, hono an optional peer", () => {
  assert.equal(pkg.type, "module");
  assert.equal(pkg.sideEffects, false);
  assert.equal(pkg.engines.node, ">=20");
  assert.equal(pkg.dependencies, undefined);
  assert.deepEqual(Object.keys(pkg.peerDependencies), ["hono"]);
  assert.equal(pkg.peerDependenciesMeta.hono.optional, true);
  for (const [path, target] of Object.entries({ ".": "index", "./hono": "hono" })) {
    const e = pkg.exports[path];
    assert.deepEqual(Object.keys(e), ["types", "default"], path); // types first, as resolvers read them
    assert.equal(e.types, `./src/${target}.d.ts`);
    assert.equal(e.default, `./src/${target}.js`);
    assert.ok(PUBLISHED.includes(e.types.slice(2)) && PUBLISHED.includes(e.default.slice(2)), path);
  }
});

test("the published code imports only its own files: no dependency, no Node built-in, no global Node API", () => {
  for (const file of PUBLISHED.filter((f) => f.endsWith(".js"))) {
    const code = readFileSync(new URL(`../${file}`, import.meta.url), "utf8");
    const specifiers = [
      ...code.matchAll(/\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']/g),
    ];
    for (const m of specifiers) {
      const spec = m[1] ?? m[2];
      assert.ok(spec.startsWith("./") && PUBLISHED.includes(`src/${spec.slice(2)}`), `${file} imports ${spec}`);
    }
    for (const nodeOnly of ["process.", "Buffer", "require(", "__dirname", "node:"]) {
      assert.ok(!code.includes(nodeOnly), `${file} uses ${nodeOnly}`);
    }
  }
});

test("the types import only their own files, and hono (the optional peer) for the middleware", () => {
  for (const file of PUBLISHED.filter((f) => f.endsWith(".d.ts"))) {
    const code = readFileSync(new URL(`../${file}`, import.meta.url), "utf8");
    for (const [, spec] of code.matchAll(/\bfrom\s*["']([^"']+)["']/g)) {
      const ok = spec === "./index.js" || (file === "src/hono.d.ts" && spec === "hono");
      assert.ok(ok, `${file} imports ${spec}`);
    }
  }
});
