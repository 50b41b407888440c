// End-to-end: the authorisation matrix, limits, members, notifications and bad input over HTTP.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PNG_1x1, assertProblem, createOrg, start } from "./harness.mjs";

let w;
before(async () => {
  w = await start();
});
after(async () => {
  await w.mf.dispose();
});

/** An org with an admin, a developer and tokens for each. */
async function world(name) {
  const o = await createOrg(w.api, name);
  const dev = await w.api("POST", "/v1/members", {
    token: o.secret,
    body: { email: `dev@${name}.io`, name: "Dev", role: "developer" },
  });
  assert.equal(dev.status, 201);
  const devTok = await w.api("POST", "/v1/tokens", {
    token: o.secret,
    body: {
      label: "dev laptop",
      role: "developer",
      kind: "personal",
      owner_member_id: dev.body.id,
      scopes: ["keyward:manage"],
    },
  });
  assert.equal(devTok.status, 201, devTok.text);
  return { o, dev: dev.body, devSecret: devTok.body.secret, devTokenId: devTok.body.token.id };
}

describe("authorisation matrix", () => {
  test("no token, junk and unusable tokens are 401", async () => {
    const { o } = await world("matrix1");
    assertProblem(await w.api("GET", "/v1/me"), 401, "UNAUTHENTICATED");
    assertProblem(await w.api("GET", "/v1/me", { token: "junk" }), 401, "UNAUTHENTICATED");
    assertProblem(
      await w.api("GET", "/v1/me", { headers: { authorization: `Basic ${o.secret}` } }),
      401,
      "UNAUTHENTICATED",
    );
    assertProblem(
      await w.api("GET", "/v1/me", { token: "kw_0000000000000000000000000000003wuQEo" }),
      401,
      "UNAUTHENTICATED",
    );
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "x", role: "admin", kind: "org", scopes: ["keyward:read"] },
    });
    const id = t.body.token.id;
    await w.api("POST", `/v1/tokens/${id}/disable`, { token: o.secret });
    assertProblem(await w.api("GET", "/v1/me", { token: t.body.secret }), 401, "UNAUTHENTICATED");
    await w.api("POST", `/v1/tokens/${id}/enable`, { token: o.secret });
    assert.equal((await w.api("GET", "/v1/me", { token: t.body.secret })).status, 200);
    await w.api("POST", `/v1/tokens/${id}/revoke`, { token: o.secret, body: { confirm_label: "x" } });
    assertProblem(await w.api("GET", "/v1/me", { token: t.body.secret }), 401, "UNAUTHENTICATED");
  });

  test("a developer reaches only their own personal tokens", async () => {
    const { o, dev, devSecret, devTokenId } = await world("matrix2");
    const d = devSecret;
    const me = await w.api("GET", "/v1/me", { token: d });
    assert.equal(me.body.member.id, dev.id);
    assertProblem(await w.api("GET", "/v1/members", { token: d }), 403, "FORBIDDEN");
    assertProblem(
      await w.api("POST", "/v1/members", { token: d, body: { email: "x@y.io", name: "X", role: "admin" } }),
      403,
      "FORBIDDEN",
    );
    assertProblem(
      await w.api("PATCH", `/v1/members/${dev.id}`, { token: d, body: { role: "admin" } }),
      403,
      "FORBIDDEN",
    );
    assertProblem(await w.api("PATCH", "/v1/org", { token: d, body: { name: "mine" } }), 403, "FORBIDDEN");
    assertProblem(await w.api("GET", "/v1/audit", { token: d }), 403, "FORBIDDEN");
    assertProblem(await w.api("GET", "/v1/notifications", { token: d }), 403, "FORBIDDEN");
    assertProblem(
      await w.api("POST", "/v1/tokens", { token: d, body: { label: "o", role: "developer", kind: "org" } }),
      403,
      "FORBIDDEN",
    );
    assertProblem(
      await w.api("POST", "/v1/tokens", { token: d, body: { label: "a", role: "admin", kind: "personal" } }),
      403,
      "FORBIDDEN",
    );
    assertProblem(
      await w.api("PATCH", `/v1/tokens/${devTokenId}`, { token: d, body: { role: "admin" } }),
      403,
      "FORBIDDEN",
    );
    // the admin's token is outside reach: 404 whatever the verb
    const adminTok = o.token.id;
    assertProblem(await w.api("GET", `/v1/tokens/${adminTok}`, { token: d }), 404, "NOT_FOUND");
    assertProblem(await w.api("POST", `/v1/tokens/${adminTok}/disable`, { token: d }), 404, "NOT_FOUND");
    assertProblem(
      await w.api("POST", `/v1/tokens/${adminTok}/revoke`, { token: d, body: { confirm_label: o.token.label } }),
      404,
      "NOT_FOUND",
    );
    assertProblem(
      await w.api("DELETE", `/v1/tokens/${adminTok}`, { token: d, body: { confirm_label: o.token.label } }),
      404,
      "NOT_FOUND",
    );
    const list = await w.api("GET", "/v1/tokens", { token: d });
    assert.deepEqual(
      list.body.tokens.map((t) => t.id),
      [devTokenId],
    );
    // their own: create, edit, rotate
    const own = await w.api("POST", "/v1/tokens", {
      token: d,
      body: { label: "mine", role: "developer", kind: "personal" },
    });
    assert.equal(own.status, 201);
    assert.equal(own.body.token.owner.id, dev.id);
    assert.equal(
      (await w.api("PATCH", `/v1/tokens/${own.body.token.id}`, { token: d, body: { description: "ok" } })).status,
      200,
    );
    assert.equal((await w.api("POST", `/v1/tokens/${own.body.token.id}/rotate`, { token: d })).status, 200);
  });

  test("another org's admin sees nothing of this org", async () => {
    const a = await world("matrix3");
    const b = await createOrg(w.api, "Other3");
    assertProblem(await w.api("GET", `/v1/tokens/${a.devTokenId}`, { token: b.secret }), 404, "NOT_FOUND");
    assertProblem(
      await w.api("PATCH", `/v1/members/${a.dev.id}`, { token: b.secret, body: { status: "deactivated" } }),
      404,
      "NOT_FOUND",
    );
    assertProblem(
      await w.api("POST", `/v1/tokens/${a.devTokenId}/revoke`, {
        token: b.secret,
        body: { confirm_label: "dev laptop" },
      }),
      404,
      "NOT_FOUND",
    );
    const list = await w.api("GET", "/v1/tokens", { token: b.secret });
    assert.deepEqual(
      list.body.tokens.map((t) => t.id),
      [b.token.id],
    );
  });

  test("deactivated and demoted owners", async () => {
    const { o, dev, devSecret } = await world("matrix4");
    const ops = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "ops@matrix4.io", name: "Ops", role: "admin" },
    });
    const opsTok = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "ops", role: "admin", kind: "personal", owner_member_id: ops.body.id, scopes: ["keyward:manage"] },
    });
    assert.equal((await w.api("GET", "/v1/members", { token: opsTok.body.secret })).status, 200);
    await w.api("PATCH", `/v1/members/${ops.body.id}`, { token: o.secret, body: { role: "developer" } });
    assertProblem(await w.api("GET", "/v1/members", { token: opsTok.body.secret }), 403, "FORBIDDEN");
    const v = await w.api("POST", "/v1/verify", { body: { token: opsTok.body.secret } });
    assert.equal(v.body.token.role, "developer", "effective role follows the owner");
    await w.api("PATCH", `/v1/members/${dev.id}`, { token: o.secret, body: { status: "deactivated" } });
    assertProblem(await w.api("GET", "/v1/me", { token: devSecret }), 401, "UNAUTHENTICATED");
    await w.api("PATCH", `/v1/members/${dev.id}`, { token: o.secret, body: { status: "active" } });
    assert.equal((await w.api("GET", "/v1/me", { token: devSecret })).status, 200);
    // the org keeps an active admin
    assertProblem(
      await w.api("PATCH", `/v1/members/${o.member.id}`, { token: o.secret, body: { status: "deactivated" } }),
      409,
      "CONFLICT",
    );
  });
});

describe("limits, members and notifications", () => {
  test("ten personal tokens, then LIMIT_REACHED", async () => {
    const { devSecret } = await world("limit");
    for (let i = 2; i <= 10; i++) {
      const r = await w.api("POST", "/v1/tokens", {
        token: devSecret,
        body: { label: `t${i}`, role: "developer", kind: "personal" },
      });
      assert.equal(r.status, 201, r.text);
    }
    const over = await w.api("POST", "/v1/tokens", {
      token: devSecret,
      body: { label: "t11", role: "developer", kind: "personal" },
    });
    assertProblem(over, 409, "LIMIT_REACHED");
    const me = await w.api("GET", "/v1/me", { token: devSecret });
    assert.deepEqual(me.body.personal_tokens, { used: 10, limit: 10 });
  });

  test("members: add, duplicate email, list", async () => {
    const o = await createOrg(w.api, "Members");
    const dup = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "ADMIN@members.IO", name: "Dup", role: "developer" },
    });
    assertProblem(dup, 409, "CONFLICT");
    const bad = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "nope", name: "", role: "root" },
    });
    assertProblem(bad, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(bad.body.errors).sort(), ["email", "name", "role"]);
    const l = await w.api("GET", "/v1/members", { token: o.secret });
    assert.equal(l.body.members.length, 1);
  });

  test("every active admin is notified of creation and rotation", async () => {
    const o = await createOrg(w.api, "Notify");
    await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "second@notify.io", name: "Second", role: "admin" },
    });
    const off = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "off@notify.io", name: "Off", role: "admin" },
    });
    await w.api("PATCH", `/v1/members/${off.body.id}`, { token: o.secret, body: { status: "deactivated" } });
    await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "dev@notify.io", name: "Dev", role: "developer" },
    });
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "watched", role: "developer", kind: "org" },
    });
    const n = await w.api("GET", "/v1/notifications", { token: o.secret });
    const about = n.body.notifications.filter((x) => x.token_id === t.body.token.id);
    assert.deepEqual(about.map((x) => x.to).sort(), ["admin@notify.io", "second@notify.io"]);
    for (const x of about) {
      assert.equal(x.created_by, o.member.id);
      assert.equal(x.masked, t.body.token.masked);
      assert.ok(x.body.includes(t.body.token.masked) && x.body.includes("admin@notify.io"));
      for (const f of ["id", "to", "subject", "body", "token_id", "created_by", "created_at", "masked"])
        assert.ok(f in x, f);
      assert.ok(!JSON.stringify(x).includes(t.body.secret.slice(3, 33)));
    }
    await w.api("POST", `/v1/tokens/${t.body.token.id}/rotate`, { token: o.secret });
    const n2 = await w.api("GET", "/v1/notifications", { token: o.secret });
    assert.equal(n2.body.notifications.filter((x) => x.token_id === t.body.token.id).length, 4);
  });
});

describe("bad input gets a clear 4xx and loses nothing", () => {
  test("malformed, wrong types, unknown fields, control characters, sizes, logos", async () => {
    const o = await createOrg(w.api, "Input");
    const t = o.secret;
    const post = (body) => w.api("POST", "/v1/tokens", { token: t, body });
    const raw = (r) =>
      w.api("POST", "/v1/tokens", { token: t, raw: r, headers: { "content-type": "application/json" } });
    assertProblem(await raw("{"), 400, "BAD_REQUEST");
    assertProblem(await raw("[1,2]"), 400, "BAD_REQUEST");
    assertProblem(await raw('"label"'), 400, "BAD_REQUEST");
    assertProblem(await raw("\u0000"), 400, "BAD_REQUEST");
    const types = await post({ label: 5, role: true, scopes: "billing", kind: ["org"], expires_in_days: "30" });
    assertProblem(types, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(types.body.errors).sort(), ["expires_in_days", "kind", "label", "role", "scopes"]);
    const unknown = await post({ label: "x", role: "developer", kind: "org", secret: "mine" });
    assertProblem(unknown, 422, "VALIDATION_FAILED");
    assert.equal(unknown.body.errors.secret, "unknown field");
    assert.ok((await post({ label: "a\u0007b", role: "developer", kind: "org" })).body.errors.label);
    assert.ok((await post({ label: "x".repeat(65), role: "developer", kind: "org" })).body.errors.label);
    assert.ok((await post({ label: "   ", role: "developer", kind: "org" })).body.errors.label);
    assert.ok(
      (await post({ label: "x", description: "d".repeat(501), role: "developer", kind: "org" })).body.errors
        .description,
    );
    const svg = "data:image/svg+xml;base64," + Buffer.from("<svg onload=alert(1)/>").toString("base64");
    assert.ok((await post({ label: "x", logo: svg, role: "developer", kind: "org" })).body.errors.logo);
    const fakePng = "data:image/png;base64," + Buffer.from("GIF89a not a png").toString("base64");
    assert.ok((await post({ label: "x", logo: fakePng, role: "developer", kind: "org" })).body.errors.logo);
    assert.ok((await post({ label: "x", scopes: ["payroll"], role: "developer", kind: "org" })).body.errors.scopes);
    assert.ok(
      (await post({ label: "x", scopes: ["billing", "billing"], role: "developer", kind: "org" })).body.errors.scopes,
    );
    assert.ok(
      (await post({ label: "x", role: "developer", kind: "org", never_expires: true })).body.errors.never_expires,
    );
    assert.ok(
      (await post({ label: "x", role: "developer", kind: "org", expires_in_days: 366 })).body.errors.expires_in_days,
    );
    // 64 KiB: over is 413, with or without a declared length
    const big = JSON.stringify({ label: "x", description: "d".repeat(70 * 1024) });
    assertProblem(await raw(big), 413, "PAYLOAD_TOO_LARGE");
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const chunked = await w.mf.dispatchFetch("http://localhost/v1/tokens", {
      method: "POST",
      body: stream,
      duplex: "half",
      headers: { authorization: `Bearer ${t}` },
    });
    assert.equal(chunked.status, 413);
    await chunked.text();
    // an endpoint that takes no body refuses fields
    const tok = await post({ label: "keep", role: "developer", kind: "org", logo: PNG_1x1 });
    assertProblem(
      await w.api("POST", `/v1/tokens/${tok.body.token.id}/disable`, { token: t, body: { force: true } }),
      422,
      "VALIDATION_FAILED",
    );
    assertProblem(await w.api("GET", "/v1/tokens/not-an-id", { token: t }), 404, "NOT_FOUND");
    // nothing was lost: the token is still there and active
    const g = await w.api("GET", `/v1/tokens/${tok.body.token.id}`, { token: t });
    assert.equal(g.body.status, "active");
    assert.equal(g.body.logo, PNG_1x1);
  });

  test("the caller is decided before the body: 404 and 403 whatever it holds, then every field at once", async () => {
    const { o, devSecret } = await world("order");
    const org = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "org", role: "developer", kind: "org" },
    });
    const id = org.body.token.id;
    const junk = { zzz: 1, label: 7 };
    for (const verb of ["disable", "enable", "reapprove", "rotate"])
      assertProblem(
        await w.api("POST", `/v1/tokens/${id}/${verb}`, { token: devSecret, body: junk }),
        404,
        "NOT_FOUND",
      );
    assertProblem(await w.api("POST", "/v1/org/reconcile", { token: devSecret, body: junk }), 403, "FORBIDDEN");
    assertProblem(await w.api("DELETE", "/v1/org/webhook", { token: devSecret, body: junk }), 403, "FORBIDDEN");
    assertProblem(
      await w.api("POST", "/v1/tokens", { token: devSecret, body: { label: 1, kind: "org", role: "developer" } }),
      403,
      "FORBIDDEN",
    );
    const admin = await w.api("POST", `/v1/tokens/${id}/disable`, { token: o.secret, body: junk });
    assertProblem(admin, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(admin.body.errors).sort(), ["label", "zzz"]);
    assert.equal((await w.api("GET", `/v1/tokens/${id}`, { token: o.secret })).body.status, "active");
  });

  test("a secret sent where it does not belong is never quoted back", async () => {
    const o = await createOrg(w.api, "Quote");
    const secret = o.secret;
    const answers = [
      await w.api("PATCH", "/v1/org", { token: secret, body: { [secret]: 1, policy: { [secret]: 1 } } }),
      await w.api("PATCH", "/v1/org", { token: secret, body: { modules: [`x ${secret}`] } }),
      await w.api("POST", "/v1/tokens", {
        token: secret,
        body: { label: "x", role: "developer", kind: "org", scopes: [`${secret} `], allowed_cidrs: [`"${secret}`] },
      }),
      await w.api("POST", `/v1/tokens/${o.token.id}/disable`, { token: secret, body: { [`9${secret}`]: 1 } }),
    ];
    for (const a of answers) {
      assertProblem(a, 422, "VALIDATION_FAILED");
      assert.ok(!a.text.includes(secret.slice(3, 20)), a.text);
      assert.ok(a.text.includes("(a secret, not shown)"), a.text);
    }
    // Stored text refuses a secret outright, so no list, audit event, email or webhook repeats it.
    const stored = [
      await w.api("POST", "/v1/tokens", {
        token: secret,
        body: { label: `CI ${secret}`, role: "developer", kind: "org" },
      }),
      await w.api("PATCH", "/v1/org", { token: secret, body: { name: `Quote ${secret}` } }),
      await w.api("PUT", "/v1/org/webhook", { token: secret, body: { url: `https://example.com/h?k=${secret}` } }),
    ];
    for (const a of stored) {
      assertProblem(a, 422, "VALIDATION_FAILED");
      assert.ok(!a.text.includes(secret.slice(3, 20)), a.text);
      assert.match(a.text, /must not contain a token or webhook secret/);
    }
  });

  test("a flood of malformed requests leaves the Worker answering", async () => {
    const junk = ["{", "null", "[]", "\u00ff\u00fe", '{"token":{}}', "x".repeat(1000)];
    const reqs = [];
    for (let i = 0; i < 300; i++) {
      const body = junk[i % junk.length];
      const path = ["/v1/verify", "/v1/tokens", "/v1/orgs", "/v1/tokens/%00/rotate"][i % 4];
      reqs.push(w.api("POST", path, { raw: body, token: i % 3 ? "kw_junk" : undefined }).then((r) => r.status));
    }
    const statuses = await Promise.all(reqs);
    assert.ok(
      statuses.every((s) => s >= 400 && s < 500),
      `only 4xx: ${[...new Set(statuses)]}`,
    );
    assert.equal((await w.api("GET", "/healthz")).status, 200);
  });
});
