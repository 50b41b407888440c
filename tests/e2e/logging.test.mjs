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
