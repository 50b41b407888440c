// End-to-end: least authority. Each of these worked once and must not any more: a token with no
// keyward scopes minting tokens, an old secret in grace taking a token over, a developer undoing
// an admin's revoke, look-alike emails and labels, methods HTTP does not define.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertProblem, createOrg, developer, start } from "./harness.mjs";

let w;
before(async () => {
  w = await start();
});
after(async () => {
  try {
    // No hash of a secret (nor any 64-hex run) reaches the runtime's output.
    assert.doesNotMatch(w.logs(), /[0-9a-f]{64}/);
  } finally {
    await w.mf.dispose();
  }
});

const create = (caller, body) => w.api("POST", "/v1/tokens", { token: caller, body });

/** Every admin route, with a valid body where it takes one. */
function everyRoute(ids) {
  return [
    ["GET", "/v1/me"],
    ["GET", "/v1/org"],
    ["PATCH", "/v1/org", { name: "X" }],
    ["POST", "/v1/org/reconcile"],
    ["GET", "/v1/members"],
    ["POST", "/v1/members", { email: "n@x.io", name: "N", role: "developer" }],
    ["PATCH", `/v1/members/${ids.member}`, { name: "M" }],
    ["GET", "/v1/tokens"],
    ["POST", "/v1/tokens", { label: "n", role: "developer", kind: "org" }],
    ["GET", `/v1/tokens/${ids.token}`],
    ["PATCH", `/v1/tokens/${ids.token}`, { label: "t2" }],
    ["POST", `/v1/tokens/${ids.token}/disable`],
    ["POST", `/v1/tokens/${ids.token}/enable`],
    ["POST", `/v1/tokens/${ids.token}/revoke`, { confirm_label: "t" }],
    ["POST", `/v1/tokens/${ids.token}/reapprove`],
    ["POST", `/v1/tokens/${ids.token}/rotate`, {}],
    ["DELETE", `/v1/tokens/${ids.token}`, { confirm_label: "t" }],
    ["GET", "/v1/audit"],
    ["GET", "/v1/notifications"],
  ];
}

describe("keyward's own scopes", () => {
  test("a token without keyward scopes is 403 on every admin route, whatever its role, and still verifies", async () => {
    const o = await createOrg(w.api, "NoScope");
    assert.ok(o.token.scopes.includes("keyward:manage"), "the first admin token manages keyward");
    const target = await create(o.secret, { label: "t", role: "developer", kind: "org" });
    const m = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "m@noscope.io", name: "M", role: "developer" },
    });
    const ci = await create(o.secret, { label: "ci", role: "admin", kind: "org", scopes: ["billing"] });
    for (const [method, path, body] of everyRoute({ token: target.body.token.id, member: m.body.id })) {
      assertProblem(await w.api(method, path, { token: ci.body.secret, body }), 403, "FORBIDDEN");
    }
    const v = await w.api("POST", "/v1/verify", { body: { token: ci.body.secret, scopes: ["billing"] } });
    assert.equal(v.body.code, "VALID");
    // keyward:read reads, and changes nothing
    const reader = await create(o.secret, { label: "r", role: "admin", kind: "org", scopes: ["keyward:read"] });
    for (const [method, path, body] of everyRoute({ token: target.body.token.id, member: m.body.id })) {
      const r = await w.api(method, path, { token: reader.body.secret, body });
      if (method === "GET") assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
      else assertProblem(r, 403, "FORBIDDEN");
    }
  });

  test("a developer CI token with no scopes can neither mint a token nor widen itself", async () => {
    const o = await createOrg(w.api, "Mint");
    const dev = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "d@mint.io", name: "D", role: "developer" },
    });
    const ci = await create(o.secret, {
      label: "ci",
      role: "developer",
      kind: "personal",
      owner_member_id: dev.body.id,
      scopes: [],
    });
    assertProblem(
      await create(ci.body.secret, {
        label: "all",
        role: "developer",
        kind: "personal",
        scopes: ["billing", "users:read"],
      }),
      403,
      "FORBIDDEN",
    );
    const widen = await w.api("PATCH", `/v1/tokens/${ci.body.token.id}`, {
      token: ci.body.secret,
      body: { scopes: ["billing", "users:read"] },
    });
    assertProblem(widen, 403, "FORBIDDEN");
  });

  test("grants never exceed the caller's keyward scopes; module names are never keyward's", async () => {
    const o = await createOrg(w.api, "Grants");
    const manager = await create(o.secret, { label: "m", role: "admin", kind: "org", scopes: ["keyward:manage"] });
    assert.equal(manager.status, 201, manager.text);
    const fromManager = await create(manager.body.secret, {
      label: "x",
      role: "developer",
      kind: "org",
      scopes: ["keyward:read"],
    });
    assert.equal(fromManager.status, 201, fromManager.text);
    // a keyward:read token cannot grant anything (it cannot create), nor raise itself
    const reader = await create(o.secret, { label: "r", role: "admin", kind: "org", scopes: ["keyward:read"] });
    assertProblem(await create(reader.body.secret, { label: "y", role: "developer", kind: "org" }), 403, "FORBIDDEN");
    // a developer with keyward:read granted by an admin cannot be given manage by itself
    const { token: devTok } = await developer(w.api, o.secret, "d@grants.io");
    const readOnly = await create(devTok.secret, {
      label: "ro",
      role: "developer",
      kind: "personal",
      scopes: ["keyward:read"],
    });
    assert.equal(readOnly.status, 201, readOnly.text);
    assertProblem(
      await w.api("PATCH", `/v1/tokens/${readOnly.body.token.id}`, {
        token: readOnly.body.secret,
        body: { scopes: ["keyward:manage"] },
      }),
      403,
      "FORBIDDEN",
    );
    const bad = await create(o.secret, { label: "z", role: "developer", kind: "org", scopes: ["keyward:everything"] });
    assertProblem(bad, 422, "VALIDATION_FAILED");
    assert.ok(bad.body.errors.scopes);
    const org = await w.api("POST", "/v1/orgs", {
      token: "e2e-operator-secret-0123456789",
      body: { name: "K", modules: ["keyward:manage"], admin: { email: "a@k.io", name: "A" } },
    });
    assertProblem(org, 422, "VALIDATION_FAILED");
    assertProblem(
      await w.api("PATCH", "/v1/org", { token: o.secret, body: { modules: ["keyward:read"] } }),
      422,
      "VALIDATION_FAILED",
    );
  });
});

describe("secrets and states that stick", () => {
  test("an old secret in its grace verifies, and cannot rotate the token out from under its new holder", async () => {
    const o = await createOrg(w.api, "Grace");
    const t = await create(o.secret, {
      label: "leaked",
      role: "admin",
      kind: "org",
      scopes: ["keyward:manage", "billing"],
    });
    const rotated = await w.api("POST", `/v1/tokens/${t.body.token.id}/rotate`, {
      token: o.secret,
      body: { grace_seconds: 300 },
    });
    assert.equal(rotated.status, 200);
    assert.equal((await w.api("POST", "/v1/verify", { body: { token: t.body.secret } })).body.code, "VALID");
    assertProblem(
      await w.api("POST", `/v1/tokens/${t.body.token.id}/rotate`, { token: t.body.secret, body: { grace_seconds: 0 } }),
      401,
      "UNAUTHENTICATED",
    );
    assertProblem(await w.api("GET", "/v1/me", { token: t.body.secret }), 401, "UNAUTHENTICATED");
    assert.equal((await w.api("GET", "/v1/me", { token: rotated.body.secret })).status, 200);
    assert.equal((await w.api("POST", "/v1/verify", { body: { token: rotated.body.secret } })).body.code, "VALID");
  });

  test("what an admin disabled or revoked, only an admin brings back; the owner is told", async () => {
    const o = await createOrg(w.api, "Stick");
    const dev = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "d@stick.io", name: "D", role: "developer" },
    });
    const mine = await create(o.secret, {
      label: "mine",
      role: "developer",
      kind: "personal",
      owner_member_id: dev.body.id,
      scopes: ["keyward:manage"],
    });
    const other = await create(mine.body.secret, { label: "other", role: "developer", kind: "personal" });
    const id = other.body.token.id;
    const disabled = await w.api("POST", `/v1/tokens/${id}/disable`, { token: o.secret });
    assert.equal(disabled.body.state_set_by, "admin");
    assertProblem(await w.api("POST", `/v1/tokens/${id}/enable`, { token: mine.body.secret }), 403, "FORBIDDEN");
    await w.api("POST", `/v1/tokens/${id}/revoke`, { token: o.secret, body: { confirm_label: "other" } });
    assertProblem(await w.api("POST", `/v1/tokens/${id}/reapprove`, { token: mine.body.secret }), 403, "FORBIDDEN");
    assert.equal((await w.api("POST", `/v1/tokens/${id}/reapprove`, { token: o.secret })).status, 200);
    // the developer's own disable they undo themselves
    const own = await w.api("POST", `/v1/tokens/${id}/disable`, { token: mine.body.secret });
    assert.equal(own.body.state_set_by, "developer");
    assert.equal((await w.api("POST", `/v1/tokens/${id}/enable`, { token: mine.body.secret })).status, 200);
    const beforeDetour = (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications.length;
    // no detour: revoking what an admin disabled keeps it the admin's to undo
    await w.api("POST", `/v1/tokens/${id}/disable`, { token: o.secret });
    const detour = await w.api("POST", `/v1/tokens/${id}/revoke`, {
      token: mine.body.secret,
      body: { confirm_label: "other" },
    });
    assert.deepEqual([detour.status, detour.body.state, detour.body.state_set_by], [200, "revoked", "admin"]);
    assertProblem(await w.api("POST", `/v1/tokens/${id}/reapprove`, { token: mine.body.secret }), 403, "FORBIDDEN");
    // and an admin takes over a developer's own revoke
    await w.api("POST", `/v1/tokens/${id}/reapprove`, { token: o.secret });
    await w.api("POST", `/v1/tokens/${id}/revoke`, { token: mine.body.secret, body: { confirm_label: "other" } });
    const over = await w.api("POST", `/v1/tokens/${id}/revoke`, { token: o.secret, body: { confirm_label: "other" } });
    assert.deepEqual([over.status, over.body.state_set_by], [200, "admin"]);
    assertProblem(await w.api("POST", `/v1/tokens/${id}/reapprove`, { token: mine.body.secret }), 403, "FORBIDDEN");
    await w.api("POST", `/v1/tokens/${id}/reapprove`, { token: o.secret });
    const afterDetour = (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications;
    assert.ok(afterDetour.length > beforeDetour);
    const notes = afterDetour.slice(afterDetour.length - beforeDetour);
    const toOwner = notes.filter((n) => n.to === "d@stick.io" && n.token_id === id).map((n) => n.kind);
    assert.deepEqual(
      toOwner,
      ["token.reapproved", "token.revoked", "token.disabled"],
      "only the changes someone else made",
    );
    const toAdmin = notes.filter((n) => n.to === "admin@stick.io" && n.token_id === id).map((n) => n.kind);
    assert.deepEqual(toAdmin, [
      "token.enabled",
      "token.disabled",
      "token.reapproved",
      "token.revoked",
      "token.disabled",
      "token.created",
    ]);
    for (const n of notes) {
      assert.ok(n.kind && n.subject && n.body, JSON.stringify(n));
      assert.ok(!JSON.stringify(n).includes(other.body.secret.slice(3, 33)));
    }
  });
});

describe("no token above its own", () => {
  /**
   * Every endpoint that returns or changes a secret, or makes a token, with a body it takes:
   * aimed at `crown`, an admin-role token holding keyward:manage.
   */
  const escalations = (crown, label) => [
    ["POST", "/v1/tokens", { label: "up", role: "admin", kind: "personal" }],
    ["POST", "/v1/tokens", { label: "up", role: "admin", kind: "org", scopes: ["keyward:manage"] }],
    ["POST", `/v1/tokens/${crown}/rotate`, {}],
    ["POST", `/v1/tokens/${crown}/rotate`, { grace_seconds: 3600 }],
    ["PATCH", `/v1/tokens/${crown}`, { scopes: ["keyward:manage", "billing"] }],
    ["PATCH", `/v1/tokens/${crown}`, { label: "mine now" }],
    ["POST", `/v1/tokens/${crown}/disable`],
    ["POST", `/v1/tokens/${crown}/enable`],
    ["POST", `/v1/tokens/${crown}/revoke`, { confirm_label: label }],
    ["POST", `/v1/tokens/${crown}/reapprove`],
    ["DELETE", `/v1/tokens/${crown}`, { confirm_label: label }],
    ["PUT", "/v1/org/webhook", { url: "https://hooks.example.com/k" }],
    ["POST", "/v1/org/webhook/rotate", {}],
    ["POST", "/v1/members", { email: "up@ceiling.io", name: "Up", role: "admin" }],
  ];

  test("every kind of caller below admin with keyward:manage is refused on every secret-returning or -changing endpoint", async () => {
    const o = await createOrg(w.api, "Ceiling");
    // The callers: developer/admin role × keyward read/manage × personal (owned by an admin
    // member, so only the token's own role limits it) / org.
    const callers = [];
    for (const kind of ["personal", "org"]) {
      for (const role of ["developer", "admin"]) {
        for (const scope of ["keyward:read", "keyward:manage"]) {
          const r = await create(o.secret, {
            label: `${kind}-${role}-${scope}`,
            role,
            kind,
            scopes: [scope, "billing"],
          });
          assert.equal(r.status, 201, r.text);
          callers.push({
            name: `${kind} ${role} ${scope}`,
            secret: r.body.secret,
            mayAll: role === "admin" && scope === "keyward:manage",
          });
        }
      }
    }
    // The crowns: the admin member's admin-role personal token, and an admin-role org token.
    const crowns = [];
    for (const kind of ["personal", "org"]) {
      const r = await create(o.secret, { label: `crown-${kind}`, role: "admin", kind, scopes: ["keyward:manage"] });
      crowns.push({ id: r.body.token.id, label: `crown-${kind}`, secret: r.body.secret });
    }
    const snapshot = async () =>
      Promise.all(crowns.map(async (c) => (await w.api("GET", `/v1/tokens/${c.id}`, { token: o.secret })).text));
    const before = await snapshot();
    const membersBefore = (await w.api("GET", "/v1/members", { token: o.secret })).body.members.length;
    for (const caller of callers.filter((c) => !c.mayAll)) {
      for (const crown of crowns) {
        for (const [method, path, body] of escalations(crown.id, crown.label)) {
          const r = await w.api(method, path, { token: caller.secret, body });
          const what = `${caller.name}: ${method} ${path} ${JSON.stringify(body)} → ${r.status} ${r.text}`;
          assert.ok(r.status === 403 || r.status === 404, what);
          assert.equal(r.headers.get("content-type"), "application/problem+json", what);
          assert.ok(!("secret" in (r.body ?? {})), what);
        }
      }
    }
    // The case the review found: a developer-role token of an admin member reaches its owner's
    // admin-role token (so the refusal is 403, not 404), and gets nothing from it.
    const dev = callers.find((c) => c.name === "personal developer keyward:manage");
    const crown = crowns[0];
    const rotate = await w.api("POST", `/v1/tokens/${crown.id}/rotate`, { token: dev.secret, body: {} });
    assertProblem(rotate, 403, "FORBIDDEN");
    assert.match(rotate.body.detail, /role or keyward access is above its own/);
    assert.deepEqual(await snapshot(), before, "no crown changed");
    assert.equal((await w.api("GET", "/v1/members", { token: o.secret })).body.members.length, membersBefore);
    for (const c of crowns) {
      assert.equal((await w.api("POST", "/v1/verify", { body: { token: c.secret } })).body.code, "VALID");
    }
    // It still reaches what is not above it: its own role and access, any modules.
    const sibling = await create(o.secret, {
      label: "sib",
      role: "developer",
      kind: "personal",
      scopes: ["keyward:manage"],
    });
    const ok = await w.api("POST", `/v1/tokens/${sibling.body.token.id}/rotate`, { token: dev.secret, body: {} });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await w.api("POST", "/v1/verify", { body: { token: ok.body.secret } })).body.token.role, "developer");
    // Admin-role callers with keyward:manage, personal and org, reach the crowns.
    for (const caller of callers.filter((c) => c.mayAll)) {
      for (const c of crowns) {
        const r = await w.api("POST", `/v1/tokens/${c.id}/rotate`, { token: caller.secret, body: {} });
        assert.equal(r.status, 200, `${caller.name}: ${r.text}`);
        assert.equal(typeof r.body.secret, "string");
      }
    }
  });

  test("a developer cannot delete what an admin restricted (and so cannot sidestep it with a new token of the same label)", async () => {
    const o = await createOrg(w.api, "NoDetour");
    const { token: mine } = await developer(w.api, o.secret, "d@nodetour.io");
    const t = await create(mine.secret, { label: "ci", role: "developer", kind: "personal" });
    const id = t.body.token.id;
    await w.api("POST", `/v1/tokens/${id}/disable`, { token: o.secret });
    const del = await w.api("DELETE", `/v1/tokens/${id}`, { token: mine.secret, body: { confirm_label: "ci" } });
    assertProblem(del, 403, "FORBIDDEN");
    assert.match(del.body.detail, /only an admin can delete/);
    assert.equal((await w.api("GET", `/v1/tokens/${id}`, { token: mine.secret })).body.state, "disabled");
    // an admin's revoke sticks the same way; the admin deletes it
    await w.api("POST", `/v1/tokens/${id}/revoke`, { token: o.secret, body: { confirm_label: "ci" } });
    assertProblem(
      await w.api("DELETE", `/v1/tokens/${id}`, { token: mine.secret, body: { confirm_label: "ci" } }),
      403,
      "FORBIDDEN",
    );
    assert.equal(
      (await w.api("DELETE", `/v1/tokens/${id}`, { token: o.secret, body: { confirm_label: "ci" } })).status,
      204,
    );
    // the developer's own disable is theirs to delete
    const u = await create(mine.secret, { label: "own", role: "developer", kind: "personal" });
    await w.api("POST", `/v1/tokens/${u.body.token.id}/disable`, { token: mine.secret });
    const gone = await w.api("DELETE", `/v1/tokens/${u.body.token.id}`, {
      token: mine.secret,
      body: { confirm_label: "own" },
    });
    assert.equal(gone.status, 204, gone.text);
  });
});

describe("safe text and methods", () => {
  test("look-alike emails and invisible or direction-changing labels are refused", async () => {
    const o = await createOrg(w.api, "Text");
    const emails = [
      "dup-x@example.com",
      "dup-x\u200b@example.com",
      "dup-x\u200d@example.com",
      "dup-x\u00ad@example.com",
      "\u202edup-x@example.com",
      "dup-x@ex\u0430mple.com",
      "dup\u0435-x@example.com",
    ];
    const answers = [];
    for (const email of emails) {
      answers.push(
        (await w.api("POST", "/v1/members", { token: o.secret, body: { email, name: "Dup", role: "developer" } }))
          .status,
      );
    }
    assert.deepEqual(answers, [201, 422, 422, 422, 422, 422, 422]);
    for (const label of ["abc\u202Eexe.txt", "\u200b", "a\u2066b", "x\ufeff", "\u3164", "prod\u3164", "a\ufe0fb"]) {
      const r = await create(o.secret, { label, role: "developer", kind: "org" });
      assertProblem(r, 422, "VALIDATION_FAILED");
      assert.ok(r.body.errors.label, label);
    }
    assertProblem(
      await w.api("POST", "/v1/members", {
        token: o.secret,
        body: { email: "n@text.io", name: "N\u202e", role: "developer" },
      }),
      422,
      "VALIDATION_FAILED",
    );
    const t = await create(o.secret, { label: "Café ☕", role: "developer", kind: "org" });
    assert.equal(t.status, 201, t.text);
    // confirmation compares exactly what was stored
    assertProblem(
      await w.api("POST", `/v1/tokens/${t.body.token.id}/revoke`, {
        token: o.secret,
        body: { confirm_label: "Cafe\u0301 ☕" },
      }),
      422,
      "CONFIRMATION_MISMATCH",
    );
    assert.equal(
      (
        await w.api("POST", `/v1/tokens/${t.body.token.id}/revoke`, {
          token: o.secret,
          body: { confirm_label: "Café ☕" },
        })
      ).status,
      200,
    );
  });

  test("a live secret or a hash split by a space, a line break or an invisible character is refused in a description", async () => {
    const o = await createOrg(w.api, "Split");
    const live = await create(o.secret, { label: "live", role: "developer", kind: "org" });
    const secret = live.body.secret;
    const hash = "ab".repeat(32);
    for (const gap of [" ", "\n", "\u200b", " \n\u2060 "]) {
      for (const [text, why] of [
        [`${secret.slice(0, 12)}${gap}${secret.slice(12)}`, /token or webhook secret/],
        [`${hash.slice(0, 30)}${gap}${hash.slice(30)}`, /64 or more hex digits/],
      ]) {
        const r = await create(o.secret, { label: "d", role: "developer", kind: "org", description: `see ${text}` });
        assertProblem(r, 422, "VALIDATION_FAILED");
        assert.match(r.body.errors.description, why, JSON.stringify(gap));
        assert.ok(!r.text.includes(secret.slice(14, 30)), "the message does not quote it back");
        const p = await w.api("PATCH", `/v1/tokens/${live.body.token.id}`, {
          token: o.secret,
          body: { description: text },
        });
        assertProblem(p, 422, "VALIDATION_FAILED");
      }
    }
    // prose with spaces and line breaks is still prose
    const fine = await create(o.secret, {
      label: "d",
      role: "developer",
      kind: "org",
      description: "Deploys\nthe billing app",
    });
    assert.equal(fine.status, 201, fine.text);
  });

  test("methods a route does not serve are 405, including ones HTTP does not define", async () => {
    const o = await createOrg(w.api, "Methods");
    for (const [method, path] of [
      ["QUERY", "/v1/tokens"],
      ["PROPFIND", "/v1/tokens"],
      ["PURGE", "/v1/verify"],
      ["COPY", "/v1/me"],
      ["PUT", "/v1/org"],
    ]) {
      const r = await w.api(method, path, { token: o.secret });
      assertProblem(r, 405, "METHOD_NOT_ALLOWED");
      assert.ok(r.headers.get("allow"), `${method} ${path}`);
    }
  });
});
