// The binding path has a deadline too, and a Retry-After keyward could not mean is not passed on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KeywardError, createClient } from "../src/index.js";

const TOKEN = "kw_000000000000000000000000000000" + "3wuQEo";

test("a binding that never answers is UNAVAILABLE after timeoutMs, never a verdict", async () => {
  const client = createClient({ binding: { verify: () => new Promise(() => {}) }, timeoutMs: 50 });
  const started = Date.now();
  await assert.rejects(client.verify(TOKEN), (e) => e instanceof KeywardError && e.code === "UNAVAILABLE");
  assert.ok(Date.now() - started < 2000);
});

test("retry_after outside 0..86400 whole seconds is dropped", async () => {
  for (const [retry, expected] of [
    [60, 60],
    [0, 0],
    [86_400, 86_400],
    [-3, null],
    [1e21, null],
    [1.5, null],
    ["60", null],
  ]) {
    const problem = { type: "t", title: "t", status: 429, detail: "d", code: "RATE_LIMITED", retry_after: retry };
    const client = createClient({ binding: { verify: async () => problem } });
    await assert.rejects(client.verify(TOKEN), (e) => e.retryAfter === expected, String(retry));
  }
});
