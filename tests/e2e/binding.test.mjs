// End-to-end: a consumer Worker calls keyward through a service binding to the named
// entrypoint `KeywardVerifier` (shim/index.js), as a deployment binds it:
//   services = [{ binding = "KEYWARD", service = "keyward", entrypoint = "KeywardVerifier" }]
// Every answer must be the HTTP answer byte for byte, `checked_at` aside (the two calls are made
// one after the other, so it is only checked to be a recent RFC 3339 instant).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createOrg, ratelimits, start, until } from "./harness.mjs";

/** The consumer: `POST /` with `{token, options}` → the binding's answer, as JSON text. */
const CONSUMER = `
export default {
  async fetch(request, env) {
    const { token, options, verifyOnly, kind } = await request.json();
    const target = verifyOnly ? env.KEYWARD_VERIFY : env.KEYWARD;
    try {
      let answer;
      if (kind === "proto") answer = await target.verify(token, JSON.parse('{"__proto__":{"scopes":["users:read"]}}'));
      else if (kind === "map") answer = await target.verify(token, new Map([["scopes", ["users:read"]]]));
      else answer = options === undefined ? await target.verify(token) : await target.verify(token, options);
      return Response.json({ answer });
    } catch (e) {
      return Response.json({ thrown: { name: e.name, message: e.message } });
    }
  },
};`;

const MODULES = [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }];

let kw;
let consumer;
let admin;

/** The binding's answer (or what it threw) for `token` and `options`. */
async function viaBinding(token, options, { verifyOnly = false } = {}) {
  const res = await consumer.fetch("http://consumer/", {
    method: "POST",
    body: JSON.stringify({ token, options, verifyOnly }),
  });
  return res.json();
}

/** A raw call to the consumer (for options JSON cannot carry): { answer } or { thrown }. */
async function consumerCall(body) {
  const res = await consumer.fetch("http://consumer/", { method: "POST", body: JSON.stringify(body) });
  return res.json();
}

/** The HTTP answer for the same question: { status, text, body }. */
async function viaHttp(token, options = {}, headers = {}) {
  const r = await kw.api("POST", "/v1/verify", { body: { token, ...options }, headers });
  return r;
}

/** The two answers agree byte for byte once `checked_at` is set aside; answers the verdict. */
function assertSame(binding, http) {
  assert.ok(binding.answer, JSON.stringify(binding));
  const strip = (o) => {
    const { checked_at, ...rest } = o;
    if (checked_at !== undefined) {
      assert.match(checked_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(Math.abs(Date.parse(checked_at) - Date.now()) < 60_000, checked_at);
    }
    return JSON.stringify(rest);
  };
  assert.equal(strip(binding.answer), strip(JSON.parse(http.text)));
  return binding.answer;
}

before(async () => {
  kw = await start(
    { USAGE_FLUSH_SECONDS: "1" },
    {
      limits: ratelimits({ misses: 5 }),
      workers: [
        {
          name: "consumer",
          modules: true,
          script: CONSUMER,
          compatibilityDate: "2025-09-01",
          serviceBindings: {
            KEYWARD: { name: "keyward", entrypoint: "KeywardVerifier" },
            KEYWARD_VERIFY: { name: "keyward-verify", entrypoint: "KeywardVerifier" },
          },
        },
        {
          name: "keyward-verify",
          modules: true,
          scriptPath: "build-verify/index.js",
          modulesRules: MODULES,
          compatibilityDate: "2025-09-01",
          kvNamespaces: { TOKENS: "TOKENS" },
          bindings: { TOKEN_PREFIX: "kw" },
          durableObjects: { ORGS: { className: "OrgAuthority", scriptName: "keyward", useSQLite: true } },
          ratelimits: ratelimits(),
        },
      ],
    },
  );
  consumer = await kw.mf.getWorker("consumer");
  admin = (await createOrg(kw.api, "Bound")).secret;
});
after(() => kw?.mf.dispose());

/** A new org token with `body` over the defaults; answers { secret, id }. */
async function token(body = {}) {
  const r = await kw.api("POST", "/v1/tokens", {
    token: admin,
    body: { label: "svc", role: "developer", kind: "org", scopes: ["billing"], ...body },
  });
  assert.equal(r.status, 201, r.text);
  return { secret: r.body.secret, id: r.body.token.id };
}

describe("KeywardVerifier over a service binding", () => {
  test("a valid token: the HTTP answer, with freshness", async () => {
    const { secret, id } = await token();
    const v = assertSame(
      await viaBinding(secret, { scopes: ["billing"] }),
      await viaHttp(secret, { scopes: ["billing"] }),
    );
    assert.equal(v.valid, true);
    assert.equal(v.code, "VALID");
    assert.equal(v.token.id, id);
    assert.equal(v.consistency, "edge");
    assert.equal(v.max_staleness_s, 65);
    // No options at all is the same as {}.
    assertSame(await viaBinding(secret), await viaHttp(secret));
  });

  test("wrong scope, strict, revoked and malformed answer as HTTP does", async () => {
    const { secret, id } = await token({ label: "to revoke" });
    const scope = assertSame(
      await viaBinding(secret, { scopes: ["users:read"] }),
      await viaHttp(secret, { scopes: ["users:read"] }),
    );
    assert.equal(scope.code, "INSUFFICIENT_SCOPE");
    const strict = assertSame(
      await viaBinding(secret, { consistency: "strict" }),
      await viaHttp(secret, { consistency: "strict" }),
    );
    assert.equal(strict.consistency, "strict");
    assert.equal(strict.max_staleness_s, 0);
    assert.equal(strict.code, "VALID");
    const revoked = await kw.api("POST", `/v1/tokens/${id}/revoke`, {
      token: admin,
      body: { confirm_label: "to revoke" },
    });
    assert.equal(revoked.status, 200, revoked.text);
    for (const consistency of ["edge", "strict"]) {
      const v = assertSame(await viaBinding(secret, { consistency }), await viaHttp(secret, { consistency }));
      assert.equal(v.code, "REVOKED");
      assert.equal(v.token, undefined);
    }
    const junk = "kw_notatokenatall";
    const m = assertSame(
      await viaBinding(junk, { client_ip: "192.0.2.1" }),
      await viaHttp(junk, { client_ip: "192.0.2.1" }, { "cf-connecting-ip": "192.0.2.1" }),
    );
    assert.equal(m.code, "MALFORMED");
  });

  test("client_ip is checked against the token's networks", async () => {
    const { secret } = await token({ allowed_cidrs: ["192.0.2.0/24"] });
    const inside = assertSame(
      await viaBinding(secret, { client_ip: "192.0.2.9" }),
      await viaHttp(secret, { client_ip: "192.0.2.9" }),
    );
    assert.equal(inside.code, "VALID");
    const outside = assertSame(
      await viaBinding(secret, { client_ip: "198.51.100.9" }),
      await viaHttp(secret, { client_ip: "198.51.100.9" }),
    );
    assert.equal(outside.code, "IP_NOT_ALLOWED");
    const none = assertSame(await viaBinding(secret, {}), await viaHttp(secret));
    assert.equal(none.code, "IP_NOT_ALLOWED");
  });

  test("a bad question is the HTTP problem, not a verdict", async () => {
    const { secret } = await token();
    for (const options of [
      { scope: ["billing"] },
      { consistency: "eventual" },
      { client_ip: "10.0.0.0/8" },
      { scopes: "billing" },
    ]) {
      const b = await viaBinding(secret, options);
      const h = await viaHttp(secret, options);
      assert.equal(h.status, 400, h.text);
      assert.equal(JSON.stringify(b.answer), h.text);
      assert.equal(b.answer.status, 400);
      assert.equal(b.answer.code, "BAD_REQUEST");
      assert.equal(b.answer.valid, undefined);
    }
    // Options that are not an object, or a token given twice, are refused by the entrypoint itself.
    for (const options of [null, ["billing"], "billing"]) {
      assert.equal((await viaBinding(secret, options)).thrown?.name, "TypeError", String(options));
    }
    assert.equal((await viaBinding(secret, { token: secret })).thrown?.name, "TypeError");
    // An own `__proto__` key is an unknown option, as over HTTP; a Map is no options object.
    const proto = await consumerCall({ kind: "proto", token: secret });
    assert.equal(proto.answer?.status, 400, JSON.stringify(proto));
    assert.equal(proto.answer.code, "BAD_REQUEST");
    assert.equal((await consumerCall({ kind: "map", token: secret })).thrown?.name, "TypeError");
  });

  test("misses are rate-limited per client_ip, and the problem says how long to wait", async () => {
    // ratelimits({misses: 5}): misses are counted after they are answered, so the sixth miss from
    // one client is still answered and the next ones are refused; another client is not.
    const miss = (ip) => viaBinding("kw_nope", ip ? { client_ip: ip } : {});
    const refusedSoon = async (ip) => {
      let answer;
      for (let i = 0; i < 20 && answer?.status !== 429; i++) {
        if (i) await new Promise((r) => setTimeout(r, 25));
        answer = (await miss(ip)).answer;
      }
      return answer;
    };
    for (let i = 0; i < 6; i++) assert.equal((await miss("203.0.113.7")).answer.code, "MALFORMED");
    const limited = await refusedSoon("203.0.113.7");
    assert.equal(limited.status, 429, JSON.stringify(limited));
    assert.equal(limited.code, "RATE_LIMITED");
    assert.equal(limited.retry_after, 60);
    assert.equal((await miss("203.0.113.8")).answer.code, "MALFORMED");
    // Without client_ip every binding call shares one key, apart from HTTP callers.
    for (let i = 0; i < 6; i++) assert.equal((await miss()).answer.code, "MALFORMED");
    assert.equal((await refusedSoon()).status, 429);
    const http = await kw.api("POST", "/v1/verify", {
      body: { token: "kw_nope" },
      headers: { "cf-connecting-ip": "203.0.113.9" },
    });
    assert.equal(http.status, 200, http.text);
  });

  test("usage is counted for binding calls as for HTTP ones", async () => {
    const { secret, id } = await token();
    for (let i = 0; i < 3; i++) assert.equal((await viaBinding(secret)).answer.code, "VALID");
    assert.equal((await viaBinding(secret, { scopes: ["users:read"] })).answer.code, "INSUFFICIENT_SCOPE");
    let today;
    const counted = await until(async () => {
      const usage = await kw.api("GET", `/v1/tokens/${id}/usage`, { token: admin });
      today = usage.body?.days?.at(-1);
      return today?.valid === 3 && today?.refused === 1;
    }, 8000);
    assert.ok(counted, JSON.stringify(today));
    assert.deepEqual({ valid: today?.valid, refused: today?.refused }, { valid: 3, refused: 1 });
  });

  test("the verify-only Worker exports the same entrypoint", async () => {
    const { secret } = await token();
    const v = await viaBinding(secret, { scopes: ["billing"] }, { verifyOnly: true });
    assertSame(v, await viaHttp(secret, { scopes: ["billing"] }));
    assert.equal(v.answer.code, "VALID");
    const s = await viaBinding(secret, { consistency: "strict" }, { verifyOnly: true });
    assert.equal(s.answer.code, "VALID");
    assert.equal(s.answer.consistency, "strict");
  });
});
