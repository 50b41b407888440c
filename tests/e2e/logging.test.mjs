// The runtime's output is captured (so the secret checks elsewhere mean something), and a
// misconfiguration is logged without answering more than a generic problem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertProblem, start } from "./harness.mjs";

test("a missing OPERATOR_SECRET is logged and org creation refused", async () => {
  const w = await start({ OPERATOR_SECRET: "" });
  try {
    const body = { name: "X", modules: [], admin: { email: "a@b.io", name: "A" } };
    assertProblem(await w.api("POST", "/v1/orgs", { body, token: "anything" }), 401, "UNAUTHENTICATED");
    for (let i = 0; i < 50 && !w.logs().includes("OPERATOR_SECRET"); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(w.logs(), /OPERATOR_SECRET is not set/);
    // once per isolate, not once per request
    for (let i = 0; i < 5; i++) await w.api("POST", "/v1/orgs", { body, token: "anything" });
    await new Promise((r) => setTimeout(r, 200));
    // (the runtime prints each line twice: as JSON and as text)
    const lines = w.logs().split("OPERATOR_SECRET is not set").length - 1;
    assert.ok(lines >= 1 && lines <= 2, `logged ${lines} times for 6 requests`);
  } finally {
    await w.mf.dispose();
  }
});

test("a bad TOKEN_PREFIX is an INTERNAL problem with no detail, and logged", async () => {
  const w = await start({ TOKEN_PREFIX: "NOT VALID" });
  try {
    const r = await w.api("GET", "/v1/me", { token: "kw_0000000000000000000000000000003wuQEo" });
    assertProblem(r, 500, "INTERNAL");
    assert.ok(!r.text.includes("TOKEN_PREFIX"), "internals are not echoed");
    for (let i = 0; i < 50 && !w.logs().includes("TOKEN_PREFIX"); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(w.logs(), /TOKEN_PREFIX/);
  } finally {
    await w.mf.dispose();
  }
});

test("a missing rate-limit binding is logged once per isolate, and lets requests through", async () => {
  const w = await start({}, { limits: {} });
  try {
    for (let i = 0; i < 8; i++) {
      const r = await w.api("POST", "/v1/verify", { body: { token: `kw_${"0".repeat(30)}3wuQEo` } });
      assert.equal(r.body.code, "NOT_FOUND");
    }
    for (let i = 0; i < 50 && !w.logs().includes("no binding"); i++) await new Promise((r) => setTimeout(r, 20));
    // (the runtime prints each line twice: as JSON and as text)
    const lines = w.logs().split("rate limit VERIFY_MISS_LIMIT: no binding").length - 1;
    assert.ok(lines >= 1 && lines <= 2, `logged ${lines} times for 8 misses: ${w.logs()}`);
  } finally {
    await w.mf.dispose();
  }
});
