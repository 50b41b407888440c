// End-to-end: the org authority under real parallel requests (8 and more in flight), each
// scenario run several times. The invariant throughout: no secret ever handed out verifies
// unless its token is live, at the edge and strictly.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { Miniflare } from "miniflare";
import { createOrg, start } from "./harness.mjs";

const RUNS = 3;
let w;
before(async () => {
  w = await start();
});
after(async () => {
  await w.mf.dispose();
});

/** The edge and the strict verdicts of a secret. */
async function verdicts(secret) {
  const edge = await w.api("POST", "/v1/verify", { body: { token: secret } });
  const strict = await w.api("POST", "/v1/verify", { body: { token: secret, consistency: "strict" } });
  assert.equal(edge.status, 200, edge.text);
  assert.equal(strict.status, 200, strict.text);
  assert.equal(edge.body.consistency, "edge");
  assert.equal(strict.body.consistency, "strict");
  return { edge: edge.body.code, strict: strict.body.code };
}

/** None of `secrets` verifies, in either mode; returns their codes. */
async function noneVerifies(secrets, why) {
  const codes = [];
  for (const s of secrets) {
    const v = await verdicts(s);
    assert.notEqual(v.edge, "VALID", `${why}: a secret verifies at the edge`);
    assert.notEqual(v.strict, "VALID", `${why}: a secret verifies strictly`);
    codes.push(v.edge);
  }
  return codes;
}

const parallel = (n, f) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

async function orgToken(admin, label) {
  const r = await w.api("POST", "/v1/tokens", {
    token: admin,
    body: { label, role: "developer", kind: "org", scopes: ["billing"] },
  });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

describe("the org authority serialises every change", () => {
  test("parallel rotations, then revoke, then delete: no secret ever handed out verifies", async () => {
    for (let run = 0; run < RUNS; run++) {
      const o = await createOrg(w.api, `Rot${run}`);
      const t = await orgToken(o.secret, "ci");
      const rotations = await parallel(8, () =>
        w.api("POST", `/v1/tokens/${t.token.id}/rotate`, { token: o.secret, body: { grace_seconds: 300 } }),
      );
      for (const r of rotations) assert.equal(r.status, 200, r.text);
      const secrets = [t.secret, ...rotations.map((r) => r.body.secret)];
      assert.equal(new Set(secrets).size, 9);
      // One current secret and at most one in grace: exactly two of the nine verify.
      let valid = 0;
      for (const s of secrets) {
        const v = await verdicts(s);
        assert.equal(v.edge, v.strict, "edge and strict agree once the change has answered");
        if (v.edge === "VALID") valid++;
      }
      assert.equal(valid, 2, "the current secret and the one in grace");
      const revoked = await w.api("POST", `/v1/tokens/${t.token.id}/revoke`, {
        token: o.secret,
        body: { confirm_label: "ci" },
      });
      assert.equal(revoked.status, 200, revoked.text);
      await noneVerifies(secrets, "after revoke");
      const del = await w.api("DELETE", `/v1/tokens/${t.token.id}`, { token: o.secret, body: { confirm_label: "ci" } });
      assert.equal(del.status, 204, del.text);
      const codes = await noneVerifies(secrets, "after delete");
      assert.ok(
        codes.every((c) => c === "NOT_FOUND"),
        codes.join(),
      );
    }
  });

  for (const [name, call, state] of [
    [
      "revoke",
      (id, tok) => w.api("POST", `/v1/tokens/${id}/revoke`, { token: tok, body: { confirm_label: "race" } }),
      "revoked",
    ],
    ["disable", (id, tok) => w.api("POST", `/v1/tokens/${id}/disable`, { token: tok }), "disabled"],
    ["delete", (id, tok) => w.api("DELETE", `/v1/tokens/${id}`, { token: tok, body: { confirm_label: "race" } }), null],
  ]) {
    test(`rotations racing ${name}: no rotated secret verifies`, async () => {
      for (let run = 0; run < RUNS; run++) {
        const o = await createOrg(w.api, `Race${name}${run}`);
        const t = await orgToken(o.secret, "race");
        const rotate = () =>
          w.api("POST", `/v1/tokens/${t.token.id}/rotate`, { token: o.secret, body: { grace_seconds: 300 } });
        const answers = await Promise.all([
          rotate(),
          rotate(),
          call(t.token.id, o.secret),
          rotate(),
          rotate(),
          rotate(),
        ]);
        const ended = answers[2];
        assert.ok([200, 204].includes(ended.status), ended.text);
        const secrets = [
          t.secret,
          ...answers.filter((r) => r.status === 200 && r.body.secret).map((r) => r.body.secret),
        ];
        for (const r of answers) assert.ok([200, 204, 404, 409].includes(r.status), r.text);
        await noneVerifies(secrets, `rotations racing ${name}`);
        const rec = await w.api("GET", `/v1/tokens/${t.token.id}`, { token: o.secret });
        if (state) assert.equal(rec.body.state, state);
        else assert.equal(rec.status, 404);
      }
    });
  }

  test("deactivation racing creates by the member and by an admin: no personal token of theirs verifies", async () => {
    for (let run = 0; run < RUNS; run++) {
      const o = await createOrg(w.api, `Deact${run}`);
      const m = await w.api("POST", "/v1/members", {
        token: o.secret,
        body: { email: `dev${run}@deact.io`, name: "Dev", role: "developer" },
      });
      const own = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: {
          label: "own",
          role: "developer",
          kind: "personal",
          owner_member_id: m.body.id,
          scopes: ["keyward:manage"],
        },
      });
      assert.equal(own.status, 201, own.text);
      const body = (i) => ({ label: `p${i}`, role: "developer", kind: "personal" });
      const answers = await Promise.all([
        ...Array.from({ length: 3 }, (_, i) => w.api("POST", "/v1/tokens", { token: own.body.secret, body: body(i) })),
        ...Array.from({ length: 3 }, (_, i) =>
          w.api("POST", "/v1/tokens", { token: o.secret, body: { ...body(10 + i), owner_member_id: m.body.id } }),
        ),
        w.api("PATCH", `/v1/members/${m.body.id}`, { token: o.secret, body: { status: "deactivated" } }),
        ...Array.from({ length: 3 }, (_, i) =>
          w.api("POST", "/v1/tokens", { token: own.body.secret, body: body(20 + i) }),
        ),
        ...Array.from({ length: 3 }, (_, i) =>
          w.api("POST", "/v1/tokens", { token: o.secret, body: { ...body(30 + i), owner_member_id: m.body.id } }),
        ),
      ]);
      assert.equal(answers[6].status, 200, answers[6].text);
      for (const r of answers) assert.ok([200, 201, 401, 422].includes(r.status), r.text);
      const secrets = [own.body.secret, ...answers.filter((r) => r.status === 201).map((r) => r.body.secret)];
      const codes = await noneVerifies(secrets, "after deactivation");
      assert.ok(
        codes.every((c) => c === "OWNER_DEACTIVATED"),
        codes.join(),
      );
      const listed = await w.api("GET", `/v1/tokens?owner=${m.body.id}`, { token: o.secret });
      assert.ok(listed.body.tokens.every((t) => t.status === "owner_deactivated"));
    }
  });

  for (const held of [0, 9]) {
    test(`12 parallel creates for a member holding ${held} of 10: exactly ${10 - held}`, async () => {
      for (let run = 0; run < RUNS; run++) {
        const o = await createOrg(w.api, `Limit${held}x${run}`);
        const m = await w.api("POST", "/v1/members", {
          token: o.secret,
          body: { email: `l${run}@limit.io`, name: "L", role: "developer" },
        });
        const create = (i) =>
          w.api("POST", "/v1/tokens", {
            token: o.secret,
            body: { label: `t${i}`, role: "developer", kind: "personal", owner_member_id: m.body.id },
          });
        for (let i = 0; i < held; i++) assert.equal((await create(100 + i)).status, 201);
        const answers = await parallel(12, create);
        const made = answers.filter((r) => r.status === 201);
        assert.equal(made.length, 10 - held);
        for (const r of answers.filter((r) => r.status !== 201)) assert.equal(r.body.code, "LIMIT_REACHED", r.text);
        const listed = await w.api("GET", `/v1/tokens?owner=${m.body.id}`, { token: o.secret });
        assert.equal(listed.body.tokens.length, 10);
      }
    });
  }

  test("two admins demoting each other: an active admin remains", async () => {
    for (let run = 0; run < RUNS; run++) {
      const o = await createOrg(w.api, `Demote${run}`);
      const b = await w.api("POST", "/v1/members", {
        token: o.secret,
        body: { email: `b${run}@demote.io`, name: "B", role: "admin" },
      });
      const bt = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: { label: "b", role: "admin", kind: "personal", owner_member_id: b.body.id, scopes: ["keyward:manage"] },
      });
      const [ab, ba] = await Promise.all([
        w.api("PATCH", `/v1/members/${b.body.id}`, { token: o.secret, body: { role: "developer" } }),
        w.api("PATCH", `/v1/members/${o.member.id}`, { token: bt.body.secret, body: { role: "developer" } }),
      ]);
      const ok = [ab, ba].filter((r) => r.status === 200);
      assert.equal(ok.length, 1, `${ab.status} ${ab.text} / ${ba.status} ${ba.text}`);
      const loser = ab.status === 200 ? ba : ab;
      assert.ok([403, 409].includes(loser.status), loser.text);
      const admin = ab.status === 200 ? o.secret : bt.body.secret;
      const members = await w.api("GET", "/v1/members", { token: admin });
      assert.equal(members.body.members.filter((m) => m.role === "admin" && m.status === "active").length, 1);
    }
  });

  test("two PATCHes with the same If-Match: one 200, one 412", async () => {
    for (let run = 0; run < RUNS; run++) {
      const o = await createOrg(w.api, `Etag${run}`);
      const t = await orgToken(o.secret, "etag");
      const got = await w.api("GET", `/v1/tokens/${t.token.id}`, { token: o.secret });
      const tag = got.headers.get("etag");
      assert.match(tag, /^"\d+"$/);
      const patch = (label) =>
        w.api("PATCH", `/v1/tokens/${t.token.id}`, { token: o.secret, body: { label }, headers: { "if-match": tag } });
      const answers = await parallel(8, (i) => patch(`etag-${i}`));
      assert.equal(answers.filter((r) => r.status === 200).length, 1);
      for (const r of answers.filter((r) => r.status !== 200)) {
        assert.equal(r.status, 412, r.text);
        assert.equal(r.body.code, "PRECONDITION_FAILED");
      }
      const winner = answers.find((r) => r.status === 200);
      assert.notEqual(winner.headers.get("etag"), tag);
      // The new tag works; `*` always does; a stale one never.
      const next = await w.api("POST", `/v1/tokens/${t.token.id}/disable`, {
        token: o.secret,
        headers: { "if-match": winner.headers.get("etag") },
      });
      assert.equal(next.status, 200, next.text);
      const any = await w.api("POST", `/v1/tokens/${t.token.id}/enable`, {
        token: o.secret,
        headers: { "if-match": "*" },
      });
      assert.equal(any.status, 200, any.text);
      const stale = await w.api("DELETE", `/v1/tokens/${t.token.id}`, {
        token: o.secret,
        body: { confirm_label: winner.body.label },
        headers: { "if-match": tag },
      });
      assert.equal(stale.status, 412, stale.text);
      // Members and the org carry versions too.
      const org = await w.api("GET", "/v1/org", { token: o.secret });
      const orgTag = org.headers.get("etag");
      assert.equal(
        (
          await w.api("PATCH", "/v1/org", {
            token: o.secret,
            body: { name: "Renamed" },
            headers: { "if-match": orgTag },
          })
        ).status,
        200,
      );
      assert.equal(
        (await w.api("PATCH", "/v1/org", { token: o.secret, body: { name: "Again" }, headers: { "if-match": orgTag } }))
          .status,
        412,
      );
    }
  });

  test("an If-Match that names no version matches nothing: sixteen parallel PATCHes are all 412 and change nothing", async () => {
    // `""` is what `If-Match: "$ETAG"` sends with the variable unset; the rest name no version
    // keyward wrote (the token is at version 1, and `"01"` or `"+1"` is not `"1"`).
    const blind = ['""', '"" , ""', ",", 'W/"1"', "1", '"x"', '"01"', '"+1"'];
    for (let run = 0; run < RUNS; run++) {
      const o = await createOrg(w.api, `EmptyTag${run}`);
      const t = await orgToken(o.secret, "empty");
      const answers = await parallel(16, (i) =>
        w.api("PATCH", `/v1/tokens/${t.token.id}`, {
          token: o.secret,
          body: { label: `blind-${i}` },
          headers: { "if-match": blind[i % blind.length] },
        }),
      );
      for (const r of answers) {
        assert.equal(r.status, 412, r.text);
        assert.equal(r.body.code, "PRECONDITION_FAILED");
      }
      const after = await w.api("GET", `/v1/tokens/${t.token.id}`, { token: o.secret });
      assert.equal(after.body.label, "empty");
      assert.equal(after.headers.get("etag"), '"1"');
      // Every write that takes If-Match reads it the same way; without the header it is unconditional.
      const org = await w.api("PATCH", "/v1/org", {
        token: o.secret,
        body: { name: "X" },
        headers: { "if-match": '""' },
      });
      assert.equal(org.status, 412, org.text);
      const del = await w.api("DELETE", `/v1/tokens/${t.token.id}`, {
        token: o.secret,
        body: { confirm_label: "empty" },
        headers: { "if-match": '""' },
      });
      assert.equal(del.status, 412, del.text);
      assert.equal(
        (await w.api("PATCH", `/v1/tokens/${t.token.id}`, { token: o.secret, body: { label: "n" } })).status,
        200,
      );
    }
  });

  test("the runtime drops a header field with an empty value before any Worker runs (why an empty If-Match is read as none)", async () => {
    // A canary: keyward reads a present-but-empty If-Match as matching nothing (a unit test of
    // IfMatch::parse holds that), but workerd never hands one over. If this starts failing, the
    // runtime passes empty fields, and the test above should send a bare empty header too.
    const echo = new Miniflare({
      modules: true,
      script: "export default { fetch: (r) => Response.json(r.headers.get('if-match')) }",
      compatibilityDate: "2025-09-01",
    });
    try {
      const url = new URL(String(await echo.ready));
      const seen = async (line) =>
        new Promise((resolve, reject) => {
          const s = connect(Number(url.port), url.hostname, () =>
            s.write(`PATCH / HTTP/1.1\r\nHost: a\r\n${line}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`),
          );
          let b = "";
          s.on("data", (d) => {
            b += d;
            const body = b.split("\r\n\r\n")[1];
            if (body && /(null|")\s*$/.test(body)) {
              s.destroy();
              resolve(JSON.parse(body.trim()));
            }
          });
          s.on("error", reject);
        });
      assert.equal(await seen("If-Match:"), null);
      assert.equal(await seen("If-Match:   "), null);
      assert.equal(await seen('If-Match: ""'), '""');
    } finally {
      await echo.dispose();
    }
  });

  test("a revoked token is refused by the admin API at once, and strict verification agrees", async () => {
    const o = await createOrg(w.api, "AtOnce");
    const m = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "dev@atonce.io", name: "Dev", role: "developer" },
    });
    const p = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "p", role: "developer", kind: "personal", owner_member_id: m.body.id, scopes: ["keyward:manage"] },
    });
    assert.equal((await w.api("GET", "/v1/me", { token: p.body.secret })).status, 200);
    await w.api("POST", `/v1/tokens/${p.body.token.id}/revoke`, { token: o.secret, body: { confirm_label: "p" } });
    assert.equal((await w.api("GET", "/v1/me", { token: p.body.secret })).status, 401);
    assert.deepEqual(await verdicts(p.body.secret), { edge: "REVOKED", strict: "REVOKED" });
    const g = await w.api("GET", "/v1/verify?consistency=strict", { token: p.body.secret });
    assert.deepEqual([g.body.code, g.body.consistency], ["REVOKED", "strict"]);
    const bad = await w.api("GET", "/v1/verify?consistency=sometimes", { token: p.body.secret });
    assert.equal(bad.status, 400);
  });
});
