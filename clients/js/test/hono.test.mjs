// The Hono middleware in a real Hono app (app.request): only a valid verdict reaches the route;
// every refusal and failure is answered by the middleware with its status, WWW-Authenticate and
// a problem+json body that never quotes the token.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { keyward } from "../src/hono.js";
import { VERIFY_CODES } from "../src/index.js";
import { RATELIMIT, TOKENS, fakeBinding, fakeFetch, json, problemOf, verdict } from "./support.mjs";

const TOKEN = TOKENS[5];

/**
 * An app with `GET /open` (unprotected) and `GET /p` protected by keyward(options); `reached`
 * counts the requests the protected route saw, `seen` holds what it read from the context.
 */
function app(options) {
  const a = new Hono();
  const state = { reached: 0, seen: [] };
  a.get("/p", keyward(options), (c) => {
    state.reached++;
    state.seen.push(c.get("keyward"));
    return c.json({ id: c.get("keyward").token.id });
  });
  return { a, state };
}

const bearer = (token = TOKEN, extra = {}) => ({ headers: { authorization: `Bearer ${token}`, ...extra } });

/** The answer as { status, headers, body, text }, after checking the problem shape when not 200. */
async function send(a, init = {}, env = {}, path = "/p") {
  const res = await a.request(path, init, env);
  const text = await res.text();
  const out = { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : null };
  if (res.status !== 200) {
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    for (const f of ["type", "title", "detail", "code"]) assert.equal(typeof out.body[f], "string", f);
    assert.equal(out.body.status, res.status);
    assert.match(out.body.type, /^urn:keyward:problem:[a-z-]+$/);
  }
  assert.ok(!text.includes(TOKEN), "the body quotes the token");
  return out;
}

/** The same cases over the binding (env.KEYWARD) and over HTTP (a fake fetch). */
const transports = {
  binding: (answer, more = {}) => {
    const b = fakeBinding(answer);
    return { options: { binding: (c) => c.env.KEYWARD, ...more }, env: { KEYWARD: b }, calls: b.calls };
  },
  http: (answer, more = {}) => {
    const f = fakeFetch((body) => {
      const a = answer(body.token, body);
      if (a instanceof Response) return a;
      return json(
        a.valid === undefined ? a.status : 200,
        a,
        a.retry_after ? { "retry-after": String(a.retry_after) } : {},
      );
    });
    return { options: { url: "https://keyward.example", fetch: f.fetch, ...more }, env: {}, calls: f.calls };
  },
};

for (const [name, make] of Object.entries(transports)) {
  describe(`over ${name}`, () => {
    test("a valid token reaches the route, its verdict on the context", async () => {
      const t = make(() => verdict("VALID"));
      const { a, state } = app(t.options);
      const r = await send(a, bearer(), t.env);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { id: "tok_4fX0aQbbbbbbbbbbbbbb" });
      assert.equal(state.reached, 1);
      assert.deepEqual(state.seen[0], verdict("VALID"));
      assert.equal(t.calls.length, 1);
    });

    test("no token: 401 with a bare Bearer challenge, and keyward is not asked", async () => {
      const t = make(() => verdict("VALID"));
      const { a, state } = app(t.options);
      for (const init of [
        {},
        { headers: { authorization: "" } },
        { headers: { authorization: "Bearer" } },
        { headers: { authorization: "Bearer    " } },
        { headers: { authorization: `Basic ${btoa("user:" + TOKEN)}` } },
        { headers: { authorization: TOKEN } },
      ]) {
        const r = await send(a, init, t.env);
        assert.equal(r.status, 401, JSON.stringify(init));
        assert.equal(r.headers.get("www-authenticate"), "Bearer");
        assert.equal(r.body.code, "UNAUTHENTICATED");
      }
      assert.equal(state.reached, 0);
      assert.equal(t.calls.length, 0);
    });

    test("a malformed token: 401 invalid_token, answered without asking keyward", async () => {
      const t = make(() => verdict("VALID"));
      const { a, state } = app(t.options);
      for (const token of ["kw_x", TOKEN.slice(0, -1) + (TOKEN.endsWith("a") ? "b" : "a"), `${TOKEN} ${TOKEN}`]) {
        const r = await send(a, bearer(token), t.env);
        assert.equal(r.status, 401);
        assert.equal(r.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
        assert.equal(r.body.code, "MALFORMED");
        assert.ok(!r.text.includes(token));
      }
      assert.equal(state.reached, 0);
      assert.equal(t.calls.length, 0);
    });

    test("each invalid verdict: 401 invalid_token (403 insufficient_scope, 429 and 402 for a metered token), the route never runs", async () => {
      for (const code of VERIFY_CODES.filter((c) => c !== "VALID" && c !== "MALFORMED")) {
        const t = make(() => verdict(code), { scopes: ["billing", "users:read"] });
        const { a, state } = app(t.options);
        const r = await send(a, bearer(), t.env);
        if (code === "INSUFFICIENT_SCOPE") {
          assert.equal(r.status, 403);
          assert.equal(
            r.headers.get("www-authenticate"),
            'Bearer error="insufficient_scope", scope="billing users:read"',
          );
        } else if (code === "RATE_LIMITED" || code === "USAGE_EXCEEDED") {
          // A good token refused for now: no challenge.
          assert.equal(r.status, code === "RATE_LIMITED" ? 429 : 402, code);
          assert.equal(r.headers.get("www-authenticate"), null);
        } else {
          assert.equal(r.status, 401, code);
          assert.equal(r.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
        }
        assert.equal(r.body.code, code);
        assert.equal(state.reached, 0, code);
        assert.equal(t.calls.length, 1);
      }
    });

    test("the scopes, consistency and CF-Connecting-IP are what keyward is asked", async () => {
      const t = make(() => verdict("VALID", "strict"), { scopes: ["billing"], consistency: "strict" });
      const { a } = app(t.options);
      await send(a, bearer(TOKEN, { "cf-connecting-ip": "198.51.100.7" }), t.env);
      await send(a, bearer(TOKEN), t.env);
      const asked = t.calls.map((c) => (name === "binding" ? { token: c.token, ...c.options } : c.body));
      assert.deepEqual(asked, [
        { token: TOKEN, scopes: ["billing"], consistency: "strict", client_ip: "198.51.100.7" },
        { token: TOKEN, scopes: ["billing"], consistency: "strict" },
      ]);
    });

    test("a token over its rate limit: 429, Retry-After until ratelimit.reset_at (counted from checked_at)", async () => {
      const t = make(() => verdict("RATE_LIMITED", "strict", { ratelimit: RATELIMIT }));
      const seen = [];
      const { a, state } = app({ ...t.options, onInvalid: (c, v) => void seen.push(v) });
      const r = await send(a, bearer(), t.env);
      assert.equal(r.status, 429);
      assert.equal(r.headers.get("retry-after"), "30");
      assert.equal(r.headers.get("www-authenticate"), null);
      assert.deepEqual(r.body, {
        type: "urn:keyward:problem:rate-limited",
        title: "Too many requests",
        status: 429,
        detail: "The token is over its rate limit; try again in 30 seconds.",
        code: "RATE_LIMITED",
        retry_after: 30,
      });
      assert.equal(state.reached, 0);
      assert.deepEqual(seen, [verdict("RATE_LIMITED", "strict", { ratelimit: RATELIMIT })]);
    });

    test("the wait is whole seconds, at least 1 and at most a day, and left out when unknown", async () => {
      const at = (reset_at) => ({ ratelimit: { ...RATELIMIT, reset_at } });
      for (const [extra, wait] of [
        [at("2026-05-01T12:00:01Z"), 1],
        [at("2026-05-01T12:00:00Z"), 1],
        [at("2026-05-01T11:59:00Z"), 1],
        [at("2026-05-01T12:00:01.200Z"), 2],
        [at("2026-05-01T13:00:00Z"), 3600],
        [at("2026-05-02T12:00:00Z"), 86400],
        [at("2026-05-09T12:00:00Z"), 86400],
        [at("not a time"), null],
        [{}, null],
      ]) {
        const t = make(() => verdict("RATE_LIMITED", "strict", extra));
        const r = await send(app(t.options).a, bearer(), t.env);
        assert.equal(r.status, 429);
        assert.equal(r.headers.get("retry-after"), wait === null ? null : String(wait), JSON.stringify(extra));
        assert.equal(r.body.retry_after, wait ?? undefined);
        assert.equal(
          r.body.detail,
          wait === null
            ? "The token is over its rate limit."
            : `The token is over its rate limit; try again in ${wait} second${wait === 1 ? "" : "s"}.`,
        );
        // The fixed words only: nothing of the answer but the wait.
        assert.ok(!r.text.includes("not a time"));
      }
    });

    test("a token out of credits: 402 Usage exceeded, the route never runs", async () => {
      const t = make(() => verdict("USAGE_EXCEEDED", "strict", { credits: { remaining: 2 } }), { cost: 5 });
      const { a, state } = app(t.options);
      const r = await send(a, bearer(), t.env);
      assert.equal(r.status, 402);
      assert.equal(r.headers.get("www-authenticate"), null);
      assert.equal(r.headers.get("retry-after"), null);
      assert.deepEqual(r.body, {
        type: "urn:keyward:problem:usage-exceeded",
        title: "Usage exceeded",
        status: 402,
        detail: "The token has no credits left for this request.",
        code: "USAGE_EXCEEDED",
      });
      assert.equal(state.reached, 0);
    });

    test("a metered valid token reaches the route with its ratelimit and credits on the context", async () => {
      const extra = { ratelimit: { ...RATELIMIT, remaining: 41 }, credits: { remaining: 958 } };
      const t = make(() => verdict("VALID", "strict", extra));
      const { a, state } = app(t.options);
      assert.equal((await send(a, bearer(), t.env)).status, 200);
      assert.deepEqual(state.seen[0], verdict("VALID", "strict", extra));
    });

    test("cost, fixed or a function of the context (async too), is what keyward is asked", async () => {
      const t = make(() => verdict("VALID", "strict"));
      const asked = () => t.calls.map((c) => (name === "binding" ? c.options.cost : c.body.cost));
      const fixed = app({ ...t.options, cost: 0 }).a;
      await send(fixed, bearer(), t.env);
      const byHeader = app({ ...t.options, cost: (c) => Number(c.req.header("x-cost") ?? 1) }).a;
      await send(byHeader, bearer(TOKEN, { "x-cost": "25" }), t.env);
      await send(byHeader, bearer(), t.env);
      const later = app({ ...t.options, cost: async (c) => (c.req.query("bulk") ? 1000 : undefined) }).a;
      await send(later, bearer(), t.env, "/p?bulk=1");
      await send(later, bearer(), t.env);
      assert.deepEqual(asked(), [0, 25, 1, 1000, undefined]);
    });

    test("a cost function answering no cost keyward takes is an error (500), and keyward is not asked", async () => {
      for (const bad of [1001, -1, 2.5, "3", NaN]) {
        const t = make(() => verdict("VALID"));
        const { a, state } = app({ ...t.options, cost: () => bad });
        const errors = [];
        a.onError((e, c) => {
          errors.push(e);
          return c.text("error", 500);
        });
        assert.equal((await a.request("/p", bearer(), t.env)).status, 500);
        assert.ok(errors[0] instanceof TypeError, String(bad));
        assert.match(errors[0].message, /cost must be a whole number from 0 to 1000/);
        assert.equal(state.reached, 0);
        assert.equal(t.calls.length, 0);
      }
    });

    test("keyward unreachable or failing: 503, the route never runs", async () => {
      const failures = [
        () => {
          throw new Error("network down");
        },
        () => problemOf(500, "INTERNAL"),
        () => ({ nonsense: true }),
      ];
      for (const answer of failures) {
        const t = make(answer);
        const { a, state } = app(t.options);
        const r = await send(a, bearer(), t.env);
        assert.equal(r.status, 503);
        assert.equal(r.body.code, "UNAVAILABLE");
        assert.equal(r.headers.get("www-authenticate"), null);
        assert.equal(state.reached, 0);
      }
    });

    test("keyward rate-limiting: 429 with its Retry-After", async () => {
      const t = make(() => problemOf(429, "RATE_LIMITED", { retry_after: 12 }));
      const { a, state } = app(t.options);
      const r = await send(a, bearer(), t.env);
      assert.equal(r.status, 429);
      assert.equal(r.headers.get("retry-after"), "12");
      assert.equal(r.body.code, "RATE_LIMITED");
      assert.equal(r.body.retry_after, 12);
      assert.equal(r.body.detail, "Too many token checks just now; try again in 12 seconds.");
      assert.equal(state.reached, 0);
    });

    test("keyward refusing the middleware's own request (400): 500, the route never runs", async () => {
      const t = make(() => problemOf(400, "BAD_REQUEST"));
      const { a, state } = app(t.options);
      const r = await send(a, bearer(TOKEN, { "cf-connecting-ip": "not an address" }), t.env);
      assert.equal(r.status, 500);
      assert.equal(r.body.code, "INTERNAL");
      assert.equal(state.reached, 0);
    });
  });
}

describe("hooks and options", () => {
  test("onInvalid replaces the refusal; returning nothing (or not a Response) sends the default; the route never runs", async () => {
    const got = [];
    for (const [ret, status] of [
      [() => new Response("custom", { status: 418 }), 418],
      [async () => new Response("ok?", { status: 200 }), 200],
      [() => undefined, 401],
      [() => ({ status: 200 }), 401],
      [async () => "let me in", 401],
    ]) {
      const t = transports.binding(() => verdict("REVOKED"));
      const { a, state } = app({
        ...t.options,
        onInvalid: (c, v) => {
          got.push(v);
          return ret();
        },
      });
      const res = await a.request("/p", bearer(), t.env);
      assert.equal(res.status, status);
      assert.equal(state.reached, 0);
    }
    assert.ok(got.every((v) => v.code === "REVOKED"));
    // With no token at all, the hook gets null.
    const t = transports.binding(() => verdict("VALID"));
    const seen = [];
    const { a } = app({ ...t.options, onInvalid: (c, v) => void seen.push(v) });
    assert.equal((await a.request("/p", {}, t.env)).status, 401);
    assert.deepEqual(seen, [null]);
  });

  test("onInvalid is not called for a valid token, onError only when keyward gives no verdict", async () => {
    const calls = [];
    const hooks = { onInvalid: () => calls.push("invalid"), onError: (c, e) => calls.push(`error ${e.code}`) };
    const ok = transports.binding(() => verdict("VALID"));
    assert.equal((await app({ ...ok.options, ...hooks }).a.request("/p", bearer(), ok.env)).status, 200);
    assert.deepEqual(calls, []);
    const down = transports.binding(() => {
      throw new Error("down");
    });
    const { a, state } = app({ ...down.options, ...hooks, onError: () => new Response("later", { status: 502 }) });
    assert.equal((await a.request("/p", bearer(), down.env)).status, 502);
    assert.equal(state.reached, 0);
    assert.equal((await app({ ...down.options, ...hooks }).a.request("/p", bearer(), down.env)).status, 503);
    assert.deepEqual(calls, ["error UNAVAILABLE"]);
  });

  test("getToken and clientIp replace the defaults", async () => {
    const t = transports.binding(() => verdict("VALID"));
    const { a, state } = app({
      ...t.options,
      getToken: (c) => c.req.header("x-api-key"),
      clientIp: (c) => c.req.header("x-real-ip"),
    });
    assert.equal((await a.request("/p", bearer(), t.env)).status, 401);
    const r = await a.request("/p", { headers: { "x-api-key": TOKEN, "x-real-ip": "192.0.2.1" } }, t.env);
    assert.equal(r.status, 200);
    assert.equal(state.reached, 1);
    assert.deepEqual(t.calls, [{ token: TOKEN, options: { client_ip: "192.0.2.1" } }]);
  });

  test("the Bearer scheme is case-insensitive and surrounding spaces are dropped", async () => {
    const t = transports.binding(() => verdict("VALID"));
    const { a } = app(t.options);
    for (const header of [`bearer ${TOKEN}`, `BEARER   ${TOKEN}  `]) {
      assert.equal((await a.request("/p", { headers: { authorization: header } }, t.env)).status, 200, header);
    }
    assert.deepEqual(
      t.calls.map((c) => c.token),
      [TOKEN, TOKEN],
    );
  });

  test("url may be a function of the context", async () => {
    const f = fakeFetch(() => json(200, verdict("VALID")));
    const { a } = app({ url: (c) => c.env.KEYWARD_URL, fetch: f.fetch });
    assert.equal((await a.request("/p", bearer(), { KEYWARD_URL: "https://kw.internal/" })).status, 200);
    assert.equal(f.calls[0].url, "https://kw.internal/v1/verify");
  });

  test("legacy formats are passed on: a legacy key is asked about, anything else is refused locally", async () => {
    const t = transports.binding(() => verdict("VALID"));
    const legacyFormats = [{ prefix: "sk_live_", min: 16, max: 16, alphabet: "hex" }];
    const { a } = app({ ...t.options, legacyFormats });
    assert.equal((await a.request("/p", bearer("sk_live_0123456789abcdef"), t.env)).status, 200);
    assert.equal((await a.request("/p", bearer("sk_live_0123456789abcdeg"), t.env)).status, 401);
    assert.equal(t.calls.length, 1);
  });

  test("scopes that cannot stand in a challenge are left out of it", async () => {
    const t = transports.binding(() => verdict("INSUFFICIENT_SCOPE"));
    const { a } = app({ ...t.options, scopes: ['a"b'] });
    const r = await a.request("/p", bearer(), t.env);
    assert.equal(r.status, 403);
    assert.equal(r.headers.get("www-authenticate"), 'Bearer error="insufficient_scope"');
  });

  test("options of the wrong shape are refused when the middleware is made", () => {
    const binding = () => ({ verify: async () => verdict("VALID") });
    for (const options of [
      undefined,
      {},
      { binding, url: "https://k.example" },
      { binding: { verify() {} } },
      { url: 42 },
      { url: "not a url" },
      { binding, scopes: "billing" },
      { binding, consistency: "eventual" },
      { binding, cost: -1 },
      { binding, cost: 1001 },
      { binding, cost: 0.5 },
      { binding, cost: "1" },
      { binding, cost: null },
      { binding, onInvalid: "refuse" },
      { binding, onError: 1 },
      { binding, legacyFormats: [{ prefix: "x" }] },
    ]) {
      assert.throws(() => keyward(options), TypeError, JSON.stringify(options));
    }
  });

  test("a missing binding is an error, not a pass", async () => {
    const { a, state } = app({ binding: (c) => c.env.KEYWARD });
    const errors = [];
    a.onError((e, c) => {
      errors.push(e);
      return c.text("error", 500);
    });
    const res = await a.request("/p", bearer(), {});
    assert.equal(res.status, 500);
    assert.equal(state.reached, 0);
    assert.match(errors[0].message, /binding\(c\) gave no service binding/);
  });
});
