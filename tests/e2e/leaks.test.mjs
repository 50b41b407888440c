// End-to-end: leaked-token reports (GitHub's signed partner format, with a key pair made here
// and its public half configured), revocation by whoever holds a token, and network allowlists.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { assertProblem, createOrg, ratelimits, start } from "./harness.mjs";

const sha256 = (s) => createHash("sha256").update(s).digest("hex");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const KEY_ID = "e2e-key-1";
const KEYS = JSON.stringify([{ key_identifier: KEY_ID, key: publicKey.export({ type: "spki", format: "pem" }) }]);

let w;
before(async () => {
  w = await start({ LEAK_REPORT_KEYS: KEYS }, { limits: ratelimits({ revocations: 3 }) });
});
after(async () => {
  await w.mf.dispose();
});

/** POST a leak report, signed with the test key unless told otherwise. */
function leak(report, { keyId = KEY_ID, tamper = false, unsigned = false } = {}) {
  const raw = JSON.stringify(report);
  const signature = sign("sha256", Buffer.from(raw), privateKey).toString("base64"); // DER, as GitHub sends it
  const headers = { "content-type": "application/json" };
  if (!unsigned) {
    headers["github-public-key-identifier"] = keyId;
    headers["github-public-key-signature"] = signature;
  }
  const body = tamper ? raw.replace("content", "contenT") : raw;
  return w.api("POST", "/v1/leaks", { raw: body, headers });
}
const verify = async (token, extra = {}) =>
  (await w.api("POST", "/v1/verify", { body: { token, ...extra } })).body.code;
const found = (token, url = "https://github.com/acme/app/blob/main/.env") => ({
  token,
  type: "keyward_token",
  url,
  source: "content",
});

describe("leaked-token reports", () => {
  test("a signed report revokes a live token, answers true_positive, and leaves an audit event and notifications", async () => {
    const o = await createOrg(w.api, "Leak");
    const dev = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "d@leak.io", name: "D", role: "developer" },
    });
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "laptop", role: "developer", kind: "personal", owner_member_id: dev.body.id },
    });
    const r = await leak([found(t.body.secret)]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, [
      { token_hash: sha256(t.body.secret), token_type: "keyward_token", label: "true_positive" },
    ]);
    assert.equal(await verify(t.body.secret), "REVOKED");
    assert.equal(await verify(t.body.secret, { consistency: "strict" }), "REVOKED");
    const view = await w.api("GET", `/v1/tokens/${t.body.token.id}`, { token: o.secret });
    assert.deepEqual([view.body.state, view.body.state_set_by], ["revoked", "report"]);
    const audit = await w.api("GET", `/v1/audit?target=${t.body.token.id}`, { token: o.secret });
    assert.equal(audit.body.events[0].action, "token.revoked");
    assert.match(audit.body.events[0].summary, /github\.com\/acme\/app.*|content/);
    const notes = (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications;
    const told = notes
      .filter((n) => n.token_id === t.body.token.id && n.kind === "token.revoked")
      .map((n) => n.to)
      .sort();
    assert.deepEqual(told, ["admin@leak.io", "d@leak.io"]);
    // reported again (already revoked), unknown, junk: false_positive
    const again = await leak([found(t.body.secret), found("kw_0000000000000000000000000000003wuQEo"), found("junk")]);
    assert.deepEqual(
      again.body.map((f) => f.label),
      ["false_positive", "false_positive", "false_positive"],
    );
  });

  test("a tampered, unknown-key or unsigned report is 401 and revokes nothing", async () => {
    const o = await createOrg(w.api, "Tamper");
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "ci", role: "developer", kind: "org" },
    });
    assertProblem(await leak([found(t.body.secret)], { tamper: true }), 401, "UNAUTHENTICATED");
    assertProblem(await leak([found(t.body.secret)], { keyId: "someone-else" }), 401, "UNAUTHENTICATED");
    assertProblem(await leak([found(t.body.secret)], { unsigned: true }), 401, "UNAUTHENTICATED");
    const garbage = await w.api("POST", "/v1/leaks", {
      raw: JSON.stringify([found(t.body.secret)]),
      headers: { "github-public-key-identifier": KEY_ID, "github-public-key-signature": "bm90IGEgc2lnbmF0dXJl" },
    });
    assertProblem(garbage, 401, "UNAUTHENTICATED");
    assert.equal(await verify(t.body.secret), "VALID");
    // a signed body of the wrong shape is 400
    assertProblem(await leak({ token: t.body.secret }), 400, "BAD_REQUEST");
  });

  test("on_leak: notify tells without revoking", async () => {
    const o = await createOrg(w.api, "Notify");
    const p = await w.api("PATCH", "/v1/org", { token: o.secret, body: { policy: { on_leak: "notify" } } });
    assert.equal(p.body.policy.on_leak, "notify");
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "ci", role: "developer", kind: "org" },
    });
    const r = await leak([found(t.body.secret)]);
    assert.equal(r.body[0].label, "true_positive");
    assert.equal(await verify(t.body.secret), "VALID");
    const notes = (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications;
    assert.ok(notes.some((n) => n.token_id === t.body.token.id && n.kind === "token.leaked"));
    assertProblem(
      await w.api("PATCH", "/v1/org", { token: o.secret, body: { policy: { on_leak: "shrug" } } }),
      422,
      "VALIDATION_FAILED",
    );
  });
});

describe("reports in parallel", () => {
  test("eight reports of one live token at once: one true_positive, one revocation, one audit event", async () => {
    for (let run = 0; run < 3; run++) {
      const o = await createOrg(w.api, `Race${run}`);
      const t = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: { label: "ci", role: "developer", kind: "org" },
      });
      const answers = await Promise.all(Array.from({ length: 8 }, () => leak([found(t.body.secret)])));
      const labels = answers.map((r) => r.body[0].label);
      assert.equal(labels.filter((l) => l === "true_positive").length, 1, labels.join());
      assert.equal(await verify(t.body.secret, { consistency: "strict" }), "REVOKED");
      const audit = await w.api("GET", `/v1/audit?target=${t.body.token.id}`, { token: o.secret });
      assert.equal(audit.body.events.filter((e) => e.action === "token.revoked").length, 1);
    }
  });
});

describe("revoke what you found", () => {
  test("anyone holding a live token can kill it; the answer never says whether it existed", async () => {
    const o = await createOrg(w.api, "Holder");
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "ci", role: "developer", kind: "org" },
    });
    const headers = { "cf-connecting-ip": "198.51.100.23", "user-agent": "found-it/1.0" };
    const r = await w.api("POST", "/v1/credentials/revoke", {
      body: { tokens: [t.body.secret, "kw_0000000000000000000000000000003wuQEo", "junk", 42] },
      headers,
    });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.body, { received: 3 });
    const unknown = await w.api("POST", "/v1/credentials/revoke", {
      body: { tokens: ["kw_0000000000000000000000000000003wuQEo"] },
      headers,
    });
    assert.deepEqual([unknown.status, unknown.body], [202, { received: 1 }]);
    let code = "VALID";
    for (let i = 0; i < 40 && code === "VALID"; i++) {
      await sleep(50);
      code = await verify(t.body.secret);
    }
    assert.equal(code, "REVOKED");
    const audit = await w.api("GET", `/v1/audit?target=${t.body.token.id}`, { token: o.secret });
    assert.equal(audit.body.events[0].action, "token.revoked");
    assert.match(audit.body.events[0].summary, /198\.51\.100\.23.*found-it\/1\.0/);
    assertProblem(
      await w.api("POST", "/v1/credentials/revoke", { body: { tokens: "x" }, headers }),
      400,
      "BAD_REQUEST",
    );
    // the third call from this address (limit 3 in this test) passes, the fourth is 429
    const limited = await w.api("POST", "/v1/credentials/revoke", { body: { tokens: [] }, headers });
    assertProblem(limited, 429, "RATE_LIMITED");
  });
});

describe("network allowlists", () => {
  test("IP_NOT_ALLOWED on verify, edge and strict, POST and GET; 401 on the admin API from outside", async () => {
    const o = await createOrg(w.api, "Cidr");
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: {
        label: "office",
        role: "admin",
        kind: "org",
        scopes: ["keyward:read"],
        allowed_cidrs: ["192.0.2.77/24", "2001:db8::/32"],
      },
    });
    assert.equal(t.status, 201, t.text);
    assert.deepEqual(t.body.token.allowed_cidrs, ["192.0.2.0/24", "2001:db8::/32"]);
    const s = t.body.secret;
    assert.equal(await verify(s, { client_ip: "192.0.2.10" }), "VALID");
    assert.equal(await verify(s, { client_ip: "2001:db8:1::5", consistency: "strict" }), "VALID");
    assert.equal(await verify(s, { client_ip: "198.51.100.1" }), "IP_NOT_ALLOWED");
    assert.equal(await verify(s, { client_ip: "198.51.100.1", consistency: "strict" }), "IP_NOT_ALLOWED");
    assert.equal(await verify(s), "IP_NOT_ALLOWED", "no client_ip: refused");
    assert.equal((await w.api("GET", "/v1/verify?client_ip=192.0.2.10", { token: s })).body.code, "VALID");
    assert.equal((await w.api("GET", "/v1/verify?client_ip=10.0.0.1", { token: s })).body.code, "IP_NOT_ALLOWED");
    assertProblem(
      await w.api("POST", "/v1/verify", { body: { token: s, client_ip: "not-an-ip" } }),
      400,
      "BAD_REQUEST",
    );
    // the admin API uses the connecting address
    assert.equal(
      (await w.api("GET", "/v1/me", { token: s, headers: { "cf-connecting-ip": "192.0.2.200" } })).status,
      200,
    );
    assertProblem(
      await w.api("GET", "/v1/me", { token: s, headers: { "cf-connecting-ip": "203.0.113.9" } }),
      401,
      "UNAUTHENTICATED",
    );
    // edits: bad blocks are 422; [] lifts the allowlist
    const bad = await w.api("PATCH", `/v1/tokens/${t.body.token.id}`, {
      token: o.secret,
      body: { allowed_cidrs: ["10.0.0.0/33"] },
    });
    assertProblem(bad, 422, "VALIDATION_FAILED");
    assert.ok(bad.body.errors.allowed_cidrs);
    await w.api("PATCH", `/v1/tokens/${t.body.token.id}`, { token: o.secret, body: { allowed_cidrs: [] } });
    assert.equal(await verify(s), "VALID");
  });
});
