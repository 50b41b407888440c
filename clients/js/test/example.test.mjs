// The example API's README shows its code: the "Protect your API" section's blocks are the
// example's wrangler.toml and src/index.ts, character for character.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const example = (p) => readFileSync(new URL(`../../../examples/hono-api/${p}`, import.meta.url), "utf8");

for (const [name, readme] of [
  ["the example's README", () => example("README.md")],
  ["keyward's README", () => readFileSync(new URL("../../../README.md", import.meta.url), "utf8")],
]) {
  test(`${name}: the "Protect your API" section is the example's wrangler.toml and src/index.ts`, () => {
    const text = readme();
    const start = text.indexOf("## Protect your API");
    const next = text.indexOf("\n## ", start + 1);
    const section = text.slice(start, next === -1 ? undefined : next);
    assert.ok(section.startsWith("## Protect your API"), "no such section");
    const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, lang, code]) => [lang, code]);
    assert.deepEqual(blocks, [
      ["toml", example("wrangler.toml")],
      ["ts", example("src/index.ts")],
    ]);
  });
}
