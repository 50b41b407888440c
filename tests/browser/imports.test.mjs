// In www/, modules import downwards only (views → actions/dialogs → lib/state/pkg): callbacks go
// down, never an import back up. This reads the `import … from "./x.js"` (and `export … from`)
// of every www/*.js and fails on any circle, naming it. No Worker, no Chromium: it runs in a blink.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { posix } from "node:path";
import { fileURLToPath } from "node:url";

const WWW = fileURLToPath(new URL("../../www/", import.meta.url));

/** The relative specifiers `source` imports: static imports, re-exports, bare and dynamic imports. */
export function importsOf(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found = [];
  const from = /(?:^|[;}\n])\s*(?:import|export)\s+(?:[^;"'`]*?\s*from\s*)?["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of code.matchAll(from)) found.push(m[1]);
  for (const m of code.matchAll(/\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g)) found.push(m[1]);
  return found;
}

/** The page's modules (www/*.js) and what each imports among them, by file name. */
function graph() {
  const files = readdirSync(WWW).filter((f) => f.endsWith(".js"));
  const edges = new Map();
  for (const f of files) {
    const specs = importsOf(readFileSync(WWW + f, "utf8"));
    edges.set(
      f,
      specs.map((s) => posix.normalize(posix.join(posix.dirname(f), s))),
    );
  }
  return edges;
}

/** A circle in `edges` (Map name → names) as its path, first name repeated at the end; or null. */
export function findCycle(edges) {
  const state = new Map(); // name → "open" while on the path, "done" once all below it is
  const path = [];
  const visit = (n) => {
    state.set(n, "open");
    path.push(n);
    for (const m of edges.get(n) ?? []) {
      if (!edges.has(m)) continue; // outside the page's modules (www/pkg)
      if (state.get(m) === "open") return [...path.slice(path.indexOf(m)), m];
      if (!state.has(m)) {
        const found = visit(m);
        if (found) return found;
      }
    }
    path.pop();
    state.set(n, "done");
    return null;
  };
  for (const n of [...edges.keys()].sort()) {
    if (state.has(n)) continue;
    const found = visit(n);
    if (found) return found;
  }
  return null;
}

test("the import reader sees every form the page writes", () => {
  const source = [
    "// import { no } from './commented.js';",
    "/* import { nor } from './block.js'; */",
    'import init, { version } from "./pkg/keyward.js";',
    "import {",
    "  a,",
    "  b,",
    '} from "./state.js";',
    'import "./side.js";',
    'export { c } from "../up.js";',
    'const later = () => import("./lazy.js");',
    'const words = "import me from ./not.js";',
  ].join("\n");
  assert.deepEqual(importsOf(source), ["./pkg/keyward.js", "./state.js", "./side.js", "../up.js", "./lazy.js"]);
});

test("a circle is found and named, however long; none in a tree", () => {
  const g = (o) => new Map(Object.entries(o));
  assert.deepEqual(findCycle(g({ "a.js": ["b.js"], "b.js": ["a.js"] })), ["a.js", "b.js", "a.js"]);
  assert.deepEqual(findCycle(g({ "a.js": ["b.js"], "b.js": ["c.js"], "c.js": ["d.js", "b.js"], "d.js": [] })), [
    "b.js",
    "c.js",
    "b.js",
  ]);
  assert.deepEqual(findCycle(g({ "a.js": ["a.js"] })), ["a.js", "a.js"]);
  assert.equal(findCycle(g({ "a.js": ["b.js", "c.js", "pkg/x.js"], "b.js": ["c.js"], "c.js": [] })), null);
});

test("www/ has no import circle, and every import of a page module names one that exists", () => {
  const edges = graph();
  assert.ok(edges.size > 10, "the page's modules were read");
  for (const [f, targets] of edges) {
    for (const t of targets) {
      if (t.startsWith("pkg/")) continue; // the browser module, built by `make`
      assert.ok(existsSync(WWW + t), `${f} imports ${t}, which does not exist`);
    }
  }
  const cycle = findCycle(edges);
  assert.equal(cycle, null, `import circle in www/: ${cycle?.join(" → ")} (pass a callback down instead)`);
});
