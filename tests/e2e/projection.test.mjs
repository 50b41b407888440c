// End-to-end: the verify projection when KV refuses writes (the `faults` test build, whose
// `POST /v1/_test/faults` makes the authority's KV writes fail), and reconciliation of a
// `v:` entry planted in KV by hand (the release build).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createOrg, developer, sleep, start } from "./harness.mjs";

const sha256 = (s) => createHash("sha256").update(s).digest("hex");

async function verify(w, token, consistency = "edge") {
  const r = await w.api("POST", "/v1/verify", { body: { token, consistency } });
  assert.equal(r.status, 200, r.text);
  return r.body.code;
}

test("KV refusing writes: the change answers pending, strict sees it at once, the alarm finishes the job", async () => {
  const w = await start({}, { scriptPath: "build-faults/index.js" });
  try {
    const o = await createOrg(w.api, "Faults");
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "ci", role: "developer", kind: "org" },
    });
    assert.equal(await verify(w, t.body.secret), "VALID");
    assert.equal(t.headers.get("keyward-projection"), null, "nothing owed when KV accepts");

    const off = await w.api("POST", "/v1/_test/faults", { token: o.secret, body: { kv_writes: "fail" } });
    assert.equal(off.status, 200, off.text);
    const revoked = await w.api("POST", `/v1/tokens/${t.body.token.id}/revoke`, {
      token: o.secret,
      body: { confirm_label: "ci" },
    });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.body.state, "revoked");
    assert.equal(revoked.headers.get("keyward-projection"), "pending");
    // KV still holds the old entry; the authority knows better.
    assert.equal(await verify(w, t.body.secret), "VALID");
    assert.equal(await verify(w, t.body.secret, "strict"), "REVOKED");
    assert.equal((await w.api("GET", "/v1/tokens?status=revoked", { token: o.secret })).body.tokens.length, 1);
    // The alarm keeps retrying while KV refuses; give it a retry or two.
    await sleep(1500);
    assert.equal(await verify(w, t.body.secret), "VALID", "still refused, still owed");

    const on = await w.api("POST", "/v1/_test/faults", { token: o.secret, body: { kv_writes: "ok" } });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.headers.get("keyward-projection"), null, "the switch itself pays no debt");
    let code = "VALID";
    for (let i = 0; i < 100 && code === "VALID"; i++) {
      await sleep(100);
      code = await verify(w, t.body.secret);
    }
    assert.equal(code, "REVOKED", "the alarm wrote the owed entry");
    // A later change answers with nothing owed.
    const del = await w.api("DELETE", `/v1/tokens/${t.body.token.id}`, {
      token: o.secret,
      body: { confirm_label: "ci" },
    });
    assert.equal(del.status, 204);
    assert.equal(del.headers.get("keyward-projection"), null);
    assert.equal(await verify(w, t.body.secret), "NOT_FOUND");
  } finally {
    await w.mf.dispose();
  }
});

test("the faults switch does not exist in the release build", async () => {
  const w = await start();
  try {
    const o = await createOrg(w.api, "NoFaults");
    const r = await w.api("POST", "/v1/_test/faults", { token: o.secret, body: { kv_writes: "fail" } });
    assert.equal(r.status, 404, r.text);
  } finally {
    await w.mf.dispose();
  }
});

test("reconcile repairs a v: entry planted by hand and one changed by hand", async () => {
  const w = await start();
  try {
    const o = await createOrg(w.api, "Recon");
    const other = await createOrg(w.api, "Other");
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "ci", role: "developer", kind: "org" },
    });
    // A made-up, well-formed secret (docs/ARCHITECTURE.md's vector) given an entry of this org by hand.
    const fake = "kw_AbCdEfGhIjKlMnOpQrStUvWxYz012314Wc0Q";
    const entry = await w.kv.get(`v:${sha256(t.body.secret)}`, "json");
    await w.kv.put(`v:${sha256(fake)}`, JSON.stringify({ ...entry, role: "admin" }));
    // And the real token's entry widened by hand.
    await w.kv.put(`v:${sha256(t.body.secret)}`, JSON.stringify({ ...entry, scopes: ["billing"] }));
    assert.equal(await verify(w, fake), "VALID");
    assert.equal(await verify(w, fake, "strict"), "NOT_FOUND", "the authority never issued it");

    const { token: devTok } = await developer(w.api, o.secret, "d@recon.io");
    assert.equal((await w.api("POST", "/v1/org/reconcile", { token: devTok.secret })).status, 403);
    assert.equal((await w.api("POST", "/v1/org/reconcile", { token: o.secret, body: { x: 1 } })).status, 422);

    const r = await w.api("POST", "/v1/org/reconcile", { token: o.secret });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.pending, false);
    assert.ok(r.body.checked >= 3, r.text);
    assert.deepEqual(
      r.body.fixed.map((f) => [f.action, f.token_id]).sort(),
      [
        ["deleted", t.body.token.id],
        ["written", t.body.token.id],
      ].sort(),
    );
    assert.ok(!r.text.includes(sha256(fake)) && !r.text.includes(sha256(t.body.secret)), "no hash in the answer");
    assert.equal(await verify(w, fake), "NOT_FOUND");
    const v = await w.api("POST", "/v1/verify", { body: { token: t.body.secret, scopes: ["billing"] } });
    assert.equal(v.body.code, "INSUFFICIENT_SCOPE", "the scope added by hand is gone");
    // Another org's entries are left alone, and a second run finds nothing.
    assert.equal(await verify(w, other.secret), "VALID");
    assert.deepEqual((await w.api("POST", "/v1/org/reconcile", { token: o.secret })).body.fixed, []);
  } finally {
    await w.mf.dispose();
  }
});
