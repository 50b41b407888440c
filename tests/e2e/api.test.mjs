// End-to-end: every docs/API.md row over HTTP against the built Worker in workerd.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { OPERATOR, ORIGIN, PNG_1x1, assertProblem, createOrg, dumpKv, start } from "./harness.mjs";

let w;
before(async () => {
  w = await start();
});
after(async () => {
  try {
    // Secrets never reach KV or the runtime's output, in any form.
    const kv = await dumpKv(w.kv);
    const logs = w.logs();
    assert.ok(w.secrets.size >= 8, `the run saw secrets to look for (${w.secrets.size})`);
    assert.ok(kv.includes("v:") && kv.includes(":u:tok_"), "the KV dump is real");
    assert.ok(!kv.includes(":t:tok_") && !kv.includes(":m:mem_"), "records live in the org authority, not KV");
    for (const s of w.secrets) {
      assert.ok(!kv.includes(s), "a secret is stored in KV");
      assert.ok(!kv.includes(s.slice(3, 33)), "a secret's body is stored in KV");
      assert.ok(!logs.includes(s.slice(3, 33)), "a secret is in the logs");
    }
    assert.ok(!logs.includes(OPERATOR), "the operator secret is in the logs");
  } finally {
    await w.mf.dispose();
  }
});

describe("service basics", () => {
  test("healthz, openapi, unknown routes and methods", async () => {
    const h = await w.api("GET", "/healthz");
    assert.equal(h.status, 200);
    const o = await w.api("GET", "/v1/openapi.json");
    assert.equal(o.status, 200);
    assert.match(o.body.openapi, /^3\.1/);
    assert.ok(o.body.paths["/v1/tokens/{id}/rotate"].post);
    assertProblem(await w.api("GET", "/v1/nothing"), 404, "NOT_FOUND");
    const m = await w.api("PUT", "/v1/tokens");
    assertProblem(m, 405, "METHOD_NOT_ALLOWED");
    assert.equal(m.headers.get("allow"), "GET, HEAD, POST");
  });

  test("HEAD answers as GET does, without the body", async () => {
    const o = await createOrg(w.api, "Heads");
    for (const path of [
      "/healthz",
      "/v1/openapi.json",
      "/v1/me",
      "/v1/tokens",
      `/v1/tokens/${o.token.id}`,
      "/v1/audit",
    ]) {
      const get = await w.api("GET", path, { token: o.secret });
      const head = await w.api("HEAD", path, { token: o.secret });
      assert.equal(get.status, 200, `${path}: ${get.text}`);
      assert.equal(head.status, 200, path);
      assert.equal(head.text, "", `${path}: no body`);
      for (const name of ["content-type", "cache-control", "etag"]) {
        assert.equal(head.headers.get(name), get.headers.get(name), `${path}: ${name}`);
      }
    }
    // a verification is not safe (it counts use, and spends a metered token's credits): no HEAD
    const verified = await w.api("HEAD", "/v1/verify?scopes=billing", { token: o.secret });
    assert.equal(verified.status, 405);
    assert.equal(verified.headers.get("allow"), "POST, GET");
    assert.equal(verified.text, "");
    // refusals keep their status and problem type
    const refused = await w.api("HEAD", "/v1/me");
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    assert.equal(refused.text, "");
    const other = await w.api("HEAD", `/v1/tokens/${o.token.id}/revoke`, { token: o.secret });
    assert.equal(other.status, 405);
    assert.equal(other.headers.get("allow"), "POST");
    const tagged = await w.api("HEAD", `/v1/tokens/${o.token.id}`, { token: o.secret });
    assert.match(tagged.headers.get("etag") ?? "", /^"\d+"$/);
  });

  test("CORS only for the listed origin", async () => {
    const ok = await w.api("GET", "/healthz", { headers: { origin: ORIGIN } });
    assert.equal(ok.headers.get("access-control-allow-origin"), ORIGIN);
    const no = await w.api("GET", "/healthz", { headers: { origin: "https://evil.example" } });
    assert.equal(no.headers.get("access-control-allow-origin"), null);
    const pre = await w.api("OPTIONS", "/v1/tokens", { headers: { origin: ORIGIN } });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get("access-control-allow-headers"), /authorization/);
    assert.equal(pre.headers.get("allow"), "GET, HEAD, POST, OPTIONS");
    // a path the API does not serve has nothing to offer a preflight either
    assertProblem(await w.api("OPTIONS", "/v1/nothing", { headers: { origin: ORIGIN } }), 404, "NOT_FOUND");
  });
});

describe("orgs and the operator", () => {
  test("only the operator secret creates orgs", async () => {
    const body = { name: "Nope", modules: [], admin: { email: "a@b.io", name: "A" } };
    assertProblem(await w.api("POST", "/v1/orgs", { body }), 401, "UNAUTHENTICATED");
    assertProblem(await w.api("POST", "/v1/orgs", { body, token: "wrong" }), 401, "UNAUTHENTICATED");
    assertProblem(await w.api("POST", "/v1/orgs", { body, token: OPERATOR + "x" }), 401, "UNAUTHENTICATED");
    const r = await w.api("POST", "/v1/orgs", { body: { ...body, name: "Yes" }, token: OPERATOR });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("cache-control"), "no-store");
    assert.match(r.body.secret, /^kw_[0-9A-Za-z]{36}$/);
    assert.equal(r.body.member.role, "admin");
    assert.equal(r.body.token.masked, `kw_••••••••${r.body.secret.slice(-4)}`);
    assert.equal(r.body.org.policy.max_personal_tokens, 10);
    const bad = await w.api("POST", "/v1/orgs", { token: OPERATOR, body: { name: "", modules: ["Bad"], admin: {} } });
    assertProblem(bad, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(bad.body.errors).sort(), ["admin.email", "admin.name", "modules", "name"]);
  });

  test("me, org, and org changes", async () => {
    const o = await createOrg(w.api, "Meco");
    const me = await w.api("GET", "/v1/me", { token: o.secret });
    assert.equal(me.status, 200);
    assert.equal(me.body.member.id, o.member.id);
    assert.deepEqual(me.body.personal_tokens, { used: 1, limit: 10 });
    assert.equal(me.body.token.id, o.token.id);
    const lower = await w.api("GET", "/v1/me", { headers: { authorization: `bEaReR ${o.secret}` } });
    assert.equal(lower.status, 200, "the scheme name is case-insensitive");
    const org = await w.api("GET", "/v1/org", { token: o.secret });
    assert.equal(org.body.name, "Meco");
    const p = await w.api("PATCH", "/v1/org", {
      token: o.secret,
      body: { name: "Meco Ltd", policy: { max_personal_tokens: 3 } },
    });
    assert.equal(p.status, 200);
    assert.equal(p.body.policy.max_personal_tokens, 3);
    assert.equal(p.body.policy.default_ttl_days, 30);
    assertProblem(
      await w.api("PATCH", "/v1/org", { token: o.secret, body: { policy: { max_ttl_days: 0 } } }),
      422,
      "VALIDATION_FAILED",
    );
  });
});

describe("token lifecycle over HTTP", () => {
  test("create, read, list, edit, disable, enable, revoke, reapprove, rotate, delete", async () => {
    const o = await createOrg(w.api, "Life");
    const t = o.secret;
    const c = await w.api("POST", "/v1/tokens", {
      token: t,
      body: {
        label: "Deploy",
        description: "CI deploys",
        logo: PNG_1x1,
        role: "developer",
        scopes: ["billing"],
        kind: "org",
        expires_in_days: 7,
      },
    });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.headers.get("cache-control"), "no-store");
    const { secret, token } = c.body;
    assert.equal(token.masked, `kw_••••••••${secret.slice(-4)}`);
    assert.equal(token.logo, PNG_1x1);
    assert.equal(token.created_by.id, o.member.id);
    assert.equal(token.created_with, o.token.id);
    for (const f of [
      "id",
      "kind",
      "label",
      "description",
      "logo",
      "role",
      "scopes",
      "masked",
      "prefix",
      "hint",
      "status",
      "state",
      "owner",
      "created_by",
      "created_with",
      "created_at",
      "updated_at",
      "expires_at",
      "last_used_at",
      "revoked_at",
      "rotated_at",
      "previous_valid_until",
    ]) {
      assert.ok(f in token, `token view has ${f}`);
    }
    const verify = async (s, scopes) => (await w.api("POST", "/v1/verify", { body: { token: s, scopes } })).body.code;
    assert.equal(await verify(secret, ["billing"]), "VALID");

    const g = await w.api("GET", `/v1/tokens/${token.id}`, { token: t });
    assert.equal(g.status, 200);
    assert.ok(!g.text.includes(secret));
    const l = await w.api("GET", "/v1/tokens", { token: t });
    assert.equal(l.status, 200);
    assert.equal(l.body.tokens.length, 2);
    assert.equal(l.body.cursor, null);
    const row = l.body.tokens.find((x) => x.id === token.id);
    for (const f of ["label", "masked", "role", "scopes", "created_by", "created_at", "expires_at", "last_used_at"])
      assert.ok(f in row, f);
    assert.ok(!l.text.includes(secret) && !l.text.includes(secret.slice(3, 33)));
    assert.equal((await w.api("GET", "/v1/tokens?kind=org", { token: t })).body.tokens.length, 1);
    assert.equal((await w.api("GET", "/v1/tokens?status=revoked", { token: t })).body.tokens.length, 0);
    assertProblem(await w.api("GET", "/v1/tokens?status=zombie", { token: t }), 422, "VALIDATION_FAILED");
    assertProblem(await w.api("GET", "/v1/tokens?cursor=nonsense", { token: t }), 422, "VALIDATION_FAILED");

    const e = await w.api("PATCH", `/v1/tokens/${token.id}`, {
      token: t,
      body: { label: "Deploy v2", scopes: ["users:read"], logo: null },
    });
    assert.equal(e.status, 200, e.text);
    assert.equal(e.body.label, "Deploy v2");
    assert.equal(e.body.logo, null);
    assert.equal(await verify(secret, ["billing"]), "INSUFFICIENT_SCOPE");
    assert.equal(await verify(secret, ["users:read"]), "VALID");

    assert.equal((await w.api("POST", `/v1/tokens/${token.id}/disable`, { token: t })).body.status, "disabled");
    assert.equal(await verify(secret), "DISABLED");
    assertProblem(await w.api("POST", `/v1/tokens/${token.id}/disable`, { token: t }), 409, "CONFLICT");
    assert.equal((await w.api("POST", `/v1/tokens/${token.id}/enable`, { token: t })).body.status, "active");
    assert.equal(await verify(secret), "VALID");

    assertProblem(
      await w.api("POST", `/v1/tokens/${token.id}/revoke`, { token: t, body: { confirm_label: "deploy v2" } }),
      422,
      "CONFIRMATION_MISMATCH",
    );
    assertProblem(
      await w.api("POST", `/v1/tokens/${token.id}/revoke`, { token: t, body: {} }),
      422,
      "VALIDATION_FAILED",
    );
    const rv = await w.api("POST", `/v1/tokens/${token.id}/revoke`, { token: t, body: { confirm_label: "Deploy v2" } });
    assert.equal(rv.body.status, "revoked");
    assert.ok(rv.body.revoked_at);
    assert.equal(await verify(secret), "REVOKED");
    assertProblem(
      await w.api("POST", `/v1/tokens/${token.id}/revoke`, { token: t, body: { confirm_label: "Deploy v2" } }),
      409,
      "CONFLICT",
    );
    assert.equal((await w.api("POST", `/v1/tokens/${token.id}/reapprove`, { token: t })).body.status, "active");
    assertProblem(await w.api("POST", `/v1/tokens/${token.id}/reapprove`, { token: t }), 409, "CONFLICT");
    assert.equal(await verify(secret), "VALID");

    const r1 = await w.api("POST", `/v1/tokens/${token.id}/rotate`, { token: t, body: { grace_seconds: 3600 } });
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r1.headers.get("cache-control"), "no-store");
    assert.notEqual(r1.body.secret, secret);
    assert.ok(r1.body.token.previous_valid_until);
    assert.equal(await verify(secret), "VALID", "old secret in grace");
    assert.equal(await verify(r1.body.secret), "VALID");
    const r2 = await w.api("POST", `/v1/tokens/${token.id}/rotate`, { token: t });
    assert.equal(r2.status, 200);
    assert.equal(await verify(r1.body.secret), "NOT_FOUND", "no grace: old secret stops at once");
    assert.equal(await verify(secret), "NOT_FOUND", "an older secret in grace stops too");
    assert.equal(await verify(r2.body.secret), "VALID");
    assertProblem(
      await w.api("POST", `/v1/tokens/${token.id}/rotate`, { token: t, body: { grace_seconds: 86401 } }),
      422,
      "VALIDATION_FAILED",
    );

    assertProblem(
      await w.api("DELETE", `/v1/tokens/${token.id}`, { token: t, body: { confirm_label: "nope" } }),
      422,
      "CONFIRMATION_MISMATCH",
    );
    const d = await w.api("DELETE", `/v1/tokens/${token.id}`, { token: t, body: { confirm_label: "Deploy v2" } });
    assert.equal(d.status, 204);
    assertProblem(await w.api("GET", `/v1/tokens/${token.id}`, { token: t }), 404, "NOT_FOUND");
    assert.equal(await verify(r2.body.secret), "NOT_FOUND");

    const audit = await w.api("GET", `/v1/audit?target=${token.id}`, { token: t });
    assert.equal(audit.status, 200);
    const actions = audit.body.events.map((e) => e.action);
    assert.deepEqual(actions, [
      "token.deleted",
      "token.rotated",
      "token.rotated",
      "token.reapproved",
      "token.revoked",
      "token.enabled",
      "token.disabled",
      "token.updated",
      "token.created",
    ]);
    for (const ev of audit.body.events) {
      assert.equal(ev.actor_member_id, o.member.id);
      assert.equal(ev.actor_token_id, o.token.id);
    }
    const byToken = await w.api("GET", `/v1/audit?actor_token=${o.token.id}&limit=2`, { token: t });
    assert.equal(byToken.body.events.length, 2);
    assert.ok(byToken.body.cursor);
    const next = await w.api(
      "GET",
      `/v1/audit?actor_token=${o.token.id}&limit=2&cursor=${encodeURIComponent(byToken.body.cursor)}`,
      { token: t },
    );
    assert.equal(next.status, 200);
    assert.notDeepEqual(
      next.body.events.map((e) => e.id),
      byToken.body.events.map((e) => e.id),
    );
    assertProblem(await w.api("GET", "/v1/audit?limit=0", { token: t }), 422, "VALIDATION_FAILED");
    // filters that are not ids say so, all at once, instead of listing nothing
    const badIds = await w.api("GET", `/v1/audit?target=${o.member.email}&actor_token=${o.member.id}&limit=x`, {
      token: t,
    });
    assertProblem(badIds, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(badIds.body.errors).sort(), ["actor_token", "limit", "target"]);
    const badOwner = await w.api("GET", `/v1/tokens?owner=${o.token.id}`, { token: t });
    assertProblem(badOwner, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(badOwner.body.errors), ["owner"]);
    assert.match(badOwner.body.errors.owner, /member id \(mem_…\)/);
    const auditText = (await w.api("GET", "/v1/audit?limit=100", { token: t })).text;
    for (const s of [secret, r1.body.secret, r2.body.secret]) assert.ok(!auditText.includes(s.slice(3, 33)));
  });

  test("every verify code over HTTP, POST and GET", async () => {
    const o = await createOrg(w.api, "Verif");
    const v = async (token, scopes) => w.api("POST", "/v1/verify", { body: scopes ? { token, scopes } : { token } });
    const junk = (await v("junk")).body;
    assert.deepEqual(junk, {
      valid: false,
      code: "MALFORMED",
      consistency: "edge",
      checked_at: junk.checked_at,
      max_staleness_s: 65,
    });
    assert.ok(Math.abs(Date.parse(junk.checked_at) - Date.now()) < 60_000, junk.checked_at);
    assert.equal((await v(o.secret.slice(0, -1) + (o.secret.endsWith("A") ? "B" : "A"))).body.code, "MALFORMED");
    assert.equal((await v("kw_0000000000000000000000000000003wuQEo")).body.code, "NOT_FOUND");
    const ok = await v(o.secret, ["billing"]);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.token, {
      id: o.token.id,
      org_id: o.org.id,
      kind: "personal",
      owner_member_id: o.member.id,
      role: "admin",
      scopes: ["billing", "users:read", "keyward:manage"],
      expires_at: o.token.expires_at,
      meta: null,
      external_id: null,
    });
    assert.equal((await v(o.secret, ["payroll"])).body.code, "INSUFFICIENT_SCOPE");
    const g = await w.api("GET", "/v1/verify?scopes=billing,users:read", { token: o.secret });
    assert.equal(g.body.code, "VALID");
    assert.equal((await w.api("GET", "/v1/verify?scopes=nope", { token: o.secret })).body.code, "INSUFFICIENT_SCOPE");
    assert.equal((await w.api("GET", "/v1/verify")).body.code, "MALFORMED");
    // A repeated parameter is refused, never read as one of its values: scopes=billing&scopes=payroll
    // asks for both, and reading the first alone would answer VALID for a token without payroll.
    for (const q of [
      "scopes=billing&scopes=payroll",
      "scopes=payroll&scopes=billing",
      "consistency=edge&consistency=x",
    ]) {
      const r = await w.api("GET", `/v1/verify?${q}`, { token: o.secret });
      assertProblem(r, 400, "BAD_REQUEST");
      assert.equal(r.body.detail, "each query parameter may be given only once");
    }
    // An unknown parameter is refused too: a misspelt scope= must not verify with no scope check.
    for (const q of ["scope=payroll", "scopes=billing&SCOPES=payroll", "token=x"]) {
      const r = await w.api("GET", `/v1/verify?${q}`, { token: o.secret });
      assertProblem(r, 400, "BAD_REQUEST");
      assert.equal(r.body.detail, "GET /v1/verify takes only scopes, consistency, client_ip and cost");
    }
    // A body repeating a key is refused, never read as its last copy: scopes as [] last would
    // verify with no scope check. Checked on verify, a create and an edit.
    const repeated = '{"token":"SECRET","scopes":["payroll"],"scopes":[]}'.replace("SECRET", o.secret);
    for (const raw of [
      repeated,
      repeated.replace('"scopes":["payroll"],', '"consistency":"strict","consistency":"edge",'),
    ]) {
      const r = await w.api("POST", "/v1/verify", { raw, headers: { "content-type": "application/json" } });
      assertProblem(r, 400, "BAD_REQUEST");
      assert.equal(r.body.detail, "the body repeats a key; each may be given only once");
    }
    const twice = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      raw: '{"label":"twice","kind":"org","role":"developer","role":"admin"}',
      headers: { "content-type": "application/json" },
    });
    assertProblem(twice, 400, "BAD_REQUEST");
    const nested = await w.api("PATCH", "/v1/org", {
      token: o.secret,
      raw: '{"policy":{"max_ttl_days":30,"max_ttl_days":365}}',
      headers: { "content-type": "application/json" },
    });
    assertProblem(nested, 400, "BAD_REQUEST");
    for (const path of [
      `/v1/tokens?owner=x&owner=${o.member.id}`,
      "/v1/audit?limit=0&limit=5",
      "/v1/tokens?kind=&kind=",
    ]) {
      assertProblem(await w.api("GET", path, { token: o.secret }), 400, "BAD_REQUEST");
    }
    // owner deactivated: personal tokens stop, org tokens made by them go on
    const m = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "ops@verif.io", name: "Ops", role: "admin" },
    });
    const p = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "ops", role: "admin", kind: "personal", owner_member_id: m.body.id, scopes: ["keyward:manage"] },
    });
    const orgTok = await w.api("POST", "/v1/tokens", {
      token: p.body.secret,
      body: { label: "robot", role: "developer", kind: "org" },
    });
    assert.equal(orgTok.status, 201);
    const deact = await w.api("PATCH", `/v1/members/${m.body.id}`, {
      token: o.secret,
      body: { status: "deactivated" },
    });
    assert.equal(deact.body.status, "deactivated");
    assert.equal((await v(p.body.secret)).body.code, "OWNER_DEACTIVATED");
    assert.equal((await v(orgTok.body.secret)).body.code, "VALID");
    const listed = await w.api("GET", `/v1/tokens/${p.body.token.id}`, { token: o.secret });
    assert.equal(listed.body.status, "owner_deactivated");
    // expired: no token lives less than a day, so age a fresh one's verify entry in KV itself
    // (it has not been verified yet, so no isolate holds it in its cache)
    const old = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "old", role: "developer", kind: "personal", expires_in_days: 1, scopes: ["keyward:manage"] },
    });
    assert.equal(old.status, 201, old.text);
    const key = `v:${createHash("sha256").update(old.body.secret).digest("hex")}`;
    const entry = await w.kv.get(key, "json");
    assert.equal(entry.token_id, old.body.token.id, "the verify entry is keyed by the secret's SHA-256");
    assert.equal(typeof entry.expires_at, "number", "verify entries keep times as epoch milliseconds");
    await w.kv.put(key, JSON.stringify({ ...entry, expires_at: Date.now() - 60_000 }));
    const expired = (await v(old.body.secret)).body;
    assert.deepEqual(expired, { ...expired, valid: false, code: "EXPIRED", consistency: "edge", max_staleness_s: 65 });
    assert.deepEqual(Object.keys(expired).sort(), ["checked_at", "code", "consistency", "max_staleness_s", "valid"]);
    // The authority decides from its records, not from KV: for it the token is still live.
    assert.equal((await w.api("GET", "/v1/me", { token: old.body.secret })).status, 200);
    const strict = await w.api("POST", "/v1/verify", { body: { token: old.body.secret, consistency: "strict" } });
    assert.equal(strict.body.code, "VALID");
    assert.equal(strict.body.consistency, "strict");
    // verify bodies of the wrong shape are 400
    for (const raw of [
      "{",
      "[]",
      '{"token": 5}',
      '{"token": "x", "scopes": "billing"}',
      '{"token": "x", "extra": 1}',
      "{}",
      '{"token": "x", "consistency": "eventual"}',
    ]) {
      assertProblem(
        await w.api("POST", "/v1/verify", { raw, headers: { "content-type": "application/json" } }),
        400,
        "BAD_REQUEST",
      );
    }
  });

  test("last use is recorded off the response path", async () => {
    const o = await createOrg(w.api, "Used");
    await w.api("POST", "/v1/verify", { body: { token: o.secret } });
    let seen = null;
    for (let i = 0; i < 50 && !seen; i++) {
      seen = (await w.api("GET", `/v1/tokens/${o.token.id}`, { token: o.secret })).body.last_used_at;
      if (!seen) await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(seen, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});
