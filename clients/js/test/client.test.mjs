// createClient and verify, over HTTP (a fake fetch) and over a service binding (a fake binding):
// what is sent, the verdicts passed on, and every way of getting no verdict, which is always a
// KeywardError and never a verdict.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KeywardError, VERIFY_CODES, createClient } from "../src/index.js";
import { RATELIMIT, TOKENS, fakeBinding, fakeFetch, json, problemOf, verdict } from "./support.mjs";

const TOKEN = TOKENS[3];

/** The KeywardError `promise` rejects with, after checking it never quotes the token. */
async function rejection(promise) {
  try {
    const v = await promise;
    assert.fail(`resolved to a verdict: ${JSON.stringify(v)}`);
  } catch (e) {
    if (!(e instanceof KeywardError)) throw e;
    assert.ok(!e.message.includes(TOKEN), e.message);
    return e;
  }
}

describe("over HTTP", () => {
  test("posts the token and the options keyward takes, with their wire names, to {url}/v1/verify", async () => {
    for (const url of ["https://keyward.example", "https://keyward.example/", new URL("https://keyward.example")]) {
      const { fetch, calls } = fakeFetch(() => json(200, verdict("VALID")));
      const client = createClient({ url, fetch });
      await client.verify(TOKEN, { scopes: ["billing"], consistency: "strict", clientIp: "203.0.113.9", cost: 5 });
      await client.verify(TOKEN);
      await client.verify(TOKEN, { scopes: null, consistency: null, clientIp: "", cost: null });
      await client.verify(TOKEN, { cost: 0 });
      await client.verify(TOKEN, { cost: 1000 });
      assert.equal(calls.length, 5);
      for (const c of calls) {
        assert.equal(c.url, "https://keyward.example/v1/verify");
        assert.equal(c.init.method, "POST");
        assert.equal(c.init.headers["content-type"], "application/json");
        assert.equal(c.init.redirect, "manual");
        assert.ok(c.init.signal instanceof AbortSignal);
      }
      assert.deepEqual(calls[0].body, {
        token: TOKEN,
        scopes: ["billing"],
        consistency: "strict",
        client_ip: "203.0.113.9",
        cost: 5,
      });
      assert.deepEqual(calls[1].body, { token: TOKEN });
      assert.deepEqual(calls[2].body, { token: TOKEN });
      assert.deepEqual(calls[3].body, { token: TOKEN, cost: 0 });
      assert.deepEqual(calls[4].body, { token: TOKEN, cost: 1000 });
    }
  });

  test("a base path is kept", async () => {
    const { fetch, calls } = fakeFetch(() => json(200, verdict("VALID")));
    await createClient({ url: "https://api.example/keyward/", fetch }).verify(TOKEN);
    assert.equal(calls[0].url, "https://api.example/keyward/v1/verify");
  });

  test("every verdict keyward answers is passed on as it is", async () => {
    for (const code of VERIFY_CODES) {
      for (const consistency of ["edge", "strict"]) {
        const answer = verdict(code, consistency);
        const { fetch } = fakeFetch(() => json(200, answer));
        assert.deepEqual(await createClient({ url: "https://k.example", fetch }).verify(TOKEN), answer);
      }
    }
  });

  test("a metered token's ratelimit and credits are passed on, on every code", async () => {
    const meters = [
      { ratelimit: RATELIMIT },
      { credits: { remaining: 0 } },
      { ratelimit: { limit: 1, remaining: 1, reset_at: "2026-05-01T12:01:00Z" }, credits: { remaining: 999 } },
    ];
    for (const code of ["VALID", "RATE_LIMITED", "USAGE_EXCEEDED", "REVOKED"]) {
      for (const extra of meters) {
        const answer = verdict(code, "strict", extra);
        const { fetch } = fakeFetch(() => json(200, answer));
        assert.deepEqual(await createClient({ url: "https://k.example", fetch }).verify(TOKEN), answer);
      }
    }
  });

  test("400, 413 and 429 problems are KeywardErrors with the problem's code, never verdicts", async () => {
    const cases = [
      [json(400, problemOf(400, "BAD_REQUEST")), 400, "BAD_REQUEST", null],
      [json(413, problemOf(413, "PAYLOAD_TOO_LARGE")), 413, "PAYLOAD_TOO_LARGE", null],
      [
        json(429, problemOf(429, "RATE_LIMITED", { retry_after: 17 }), { "retry-after": "17" }),
        429,
        "RATE_LIMITED",
        17,
      ],
      // Only the header (a keyward that does not write retry_after yet), or only the body.
      [json(429, problemOf(429, "RATE_LIMITED"), { "retry-after": "30" }), 429, "RATE_LIMITED", 30],
      [json(429, problemOf(429, "RATE_LIMITED", { retry_after: 9 })), 429, "RATE_LIMITED", 9],
      [json(429, problemOf(429, "RATE_LIMITED"), { "retry-after": "soon" }), 429, "RATE_LIMITED", null],
    ];
    for (const [res, status, code, retryAfter] of cases) {
      const problem = await res.clone().json();
      const e = await rejection(createClient({ url: "https://k.example", fetch: async () => res }).verify(TOKEN));
      assert.equal(e.status, status);
      assert.equal(e.code, code);
      assert.equal(e.retryAfter, retryAfter);
      assert.equal(e.unavailable, false);
      assert.deepEqual(e.problem, problem);
      assert.equal(e.name, "KeywardError");
      assert.ok(e instanceof Error);
    }
  });

  test("5xx, a non-JSON or malformed answer, an unexpected status: UNAVAILABLE, never a verdict", async () => {
    const valid = verdict("VALID");
    const cases = [
      [() => json(500, problemOf(500, "INTERNAL")), 500],
      [() => new Response("Bad gateway", { status: 502 }), 502],
      [() => new Response("", { status: 503 }), 503],
      [() => new Response("<html>ok</html>", { status: 200 }), 200],
      [() => new Response("", { status: 200 }), 200],
      [() => json(200, [valid]), 200],
      [() => json(200, null), 200],
      [() => json(200, { ...valid, valid: "true" }), 200],
      [() => json(200, { ...valid, code: "OK" }), 200],
      [() => json(200, { ...valid, code: "NOT_FOUND" }), 200],
      [() => json(200, { ...verdict("NOT_FOUND"), valid: true }), 200],
      [() => json(200, { ...valid, token: undefined }), 200],
      [() => json(200, { ...valid, token: { id: "tok_x" } }), 200],
      [() => json(200, { ...valid, consistency: "eventual" }), 200],
      [() => json(200, { ...valid, checked_at: undefined }), 200],
      [() => json(200, { ...valid, max_staleness_s: -1 }), 200],
      [() => json(200, { ...valid, max_staleness_s: "65" }), 200],
      // A ratelimit or credits of the wrong shape: the answer is not keyward's.
      [() => json(200, { ...valid, ratelimit: null }), 200],
      [() => json(200, { ...valid, ratelimit: [RATELIMIT] }), 200],
      [() => json(200, { ...valid, ratelimit: { ...RATELIMIT, limit: -1 } }), 200],
      [() => json(200, { ...valid, ratelimit: { ...RATELIMIT, limit: "100" } }), 200],
      [() => json(200, { ...valid, ratelimit: { ...RATELIMIT, remaining: 1.5 } }), 200],
      [() => json(200, { ...valid, ratelimit: { limit: 100, remaining: 0 } }), 200],
      [() => json(200, { ...valid, ratelimit: { ...RATELIMIT, reset_at: 1777636830 } }), 200],
      [() => json(200, verdict("RATE_LIMITED", "strict", { ratelimit: { ...RATELIMIT, remaining: null } })), 200],
      [() => json(200, { ...valid, credits: null }), 200],
      [() => json(200, { ...valid, credits: 10 }), 200],
      [() => json(200, { ...valid, credits: {} }), 200],
      [() => json(200, verdict("USAGE_EXCEEDED", "strict", { credits: { remaining: -1 } })), 200],
      [() => json(201, valid), 201],
      [() => json(202, valid), 202],
      [() => new Response(null, { status: 302, headers: { location: "https://elsewhere.example/" } }), 302],
      [() => new Response("Not found", { status: 404 }), 404],
      [() => json(404, { error: "no such thing" }), 404],
    ];
    for (const [answer, status] of cases) {
      const client = createClient({ url: "https://k.example", fetch: async () => answer() });
      const e = await rejection(client.verify(TOKEN));
      assert.equal(e.code, "UNAVAILABLE", `${status}: ${e.message}`);
      assert.equal(e.unavailable, true);
      assert.equal(e.status, status, e.message);
      assert.equal(e.retryAfter, null);
    }
    // The 5xx problem is kept for logs.
    const e = await rejection(
      createClient({ url: "https://k.example", fetch: async () => json(500, problemOf(500, "INTERNAL")) }).verify(
        TOKEN,
      ),
    );
    assert.equal(e.problem.code, "INTERNAL");
  });

  test("a network failure is UNAVAILABLE with no status, its cause kept", async () => {
    const boom = new TypeError("fetch failed");
    const client = createClient({
      url: "https://k.example",
      fetch: async () => {
        throw boom;
      },
    });
    const e = await rejection(client.verify(TOKEN));
    assert.deepEqual([e.code, e.status, e.problem], ["UNAVAILABLE", null, null]);
    assert.equal(e.cause, boom);
  });

  test("a real connection refused is UNAVAILABLE", async () => {
    const e = await rejection(createClient({ url: "http://127.0.0.1:9" }).verify(TOKEN));
    assert.deepEqual([e.code, e.status], ["UNAVAILABLE", null]);
  });

  test("a body that breaks mid-way is UNAVAILABLE with the status it came with", async () => {
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"valid":tr'));
        c.error(new Error("connection reset"));
      },
    });
    const client = createClient({ url: "https://k.example", fetch: async () => new Response(body, { status: 200 }) });
    const e = await rejection(client.verify(TOKEN));
    assert.deepEqual([e.code, e.status], ["UNAVAILABLE", 200]);
  });

  test("timeoutMs: a fetch that honours its signal is aborted, and one that ignores it is given up", async () => {
    const honours = (url, init) =>
      new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason)));
    const ignores = () => new Promise(() => {});
    const keep = setInterval(() => {}, 1000); // the second fetch leaves nothing else pending
    try {
      for (const fetch of [honours, ignores]) {
        const started = Date.now();
        const e = await rejection(createClient({ url: "https://k.example", fetch, timeoutMs: 60 }).verify(TOKEN));
        const took = Date.now() - started;
        assert.equal(e.code, "UNAVAILABLE");
        assert.match(e.message, /within 60 ms/);
        assert.equal(e.cause.name, "TimeoutError");
        assert.ok(took >= 50 && took < 2000, `${took} ms`);
      }
    } finally {
      clearInterval(keep);
    }
  });

  test("the default fetch is the global one, called unbound (as Workers require)", async () => {
    const original = globalThis.fetch;
    const seen = [];
    globalThis.fetch = function (url, init) {
      seen.push({ self: this, url });
      return Promise.resolve(json(200, verdict("REVOKED")));
    };
    try {
      const v = await createClient({ url: "https://k.example" }).verify(TOKEN);
      assert.equal(v.code, "REVOKED");
      assert.equal(seen.length, 1);
      assert.ok(seen[0].self === undefined || seen[0].self === globalThis);
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe("over a service binding", () => {
  test("calls verify(token, options) with keyward's option names, only those given", async () => {
    const binding = fakeBinding(() => verdict("VALID"));
    const client = createClient({ binding });
    await client.verify(TOKEN, { scopes: ["billing", "users:read"], consistency: "edge", clientIp: "2001:db8::1" });
    await client.verify(TOKEN);
    await client.verify(TOKEN, { cost: 7 });
    await client.verify(TOKEN, { cost: 0, consistency: "strict" });
    assert.deepEqual(binding.calls, [
      { token: TOKEN, options: { scopes: ["billing", "users:read"], consistency: "edge", client_ip: "2001:db8::1" } },
      { token: TOKEN, options: {} },
      { token: TOKEN, options: { cost: 7 } },
      { token: TOKEN, options: { consistency: "strict", cost: 0 } },
    ]);
  });

  test("every verdict is passed on as it is, with its ratelimit and credits", async () => {
    for (const code of VERIFY_CODES) {
      for (const extra of [{}, { ratelimit: RATELIMIT, credits: { remaining: 3 } }]) {
        const answer = verdict(code, "strict", extra);
        assert.deepEqual(await createClient({ binding: fakeBinding(() => answer) }).verify(TOKEN), answer);
      }
    }
  });

  test("a problem is a KeywardError: its status, code and retry_after", async () => {
    const cases = [
      [problemOf(400, "BAD_REQUEST"), 400, "BAD_REQUEST", null],
      [problemOf(429, "RATE_LIMITED", { retry_after: 42 }), 429, "RATE_LIMITED", 42],
      [problemOf(500, "INTERNAL"), 500, "UNAVAILABLE", null],
    ];
    for (const [problem, status, code, retryAfter] of cases) {
      const e = await rejection(createClient({ binding: fakeBinding(() => problem) }).verify(TOKEN));
      assert.deepEqual([e.status, e.code, e.retryAfter], [status, code, retryAfter]);
      assert.deepEqual(e.problem, problem);
    }
  });

  test("a rejected call or an answer that is neither verdict nor problem: UNAVAILABLE", async () => {
    const down = new Error("Service binding target not found");
    const cases = [
      () => {
        throw down;
      },
      () => undefined,
      () => null,
      () => "VALID",
      () => ({ ok: true }),
      () => ({ ...verdict("VALID"), token: null }),
      () => ({ ...verdict("EXPIRED"), valid: true }),
      () => verdict("RATE_LIMITED", "strict", { ratelimit: { limit: 10, reset_at: "2026-05-01T12:00:30Z" } }),
      () => verdict("USAGE_EXCEEDED", "strict", { credits: { remaining: "0" } }),
      () => ({ status: 429 }),
    ];
    for (const answer of cases) {
      const e = await rejection(createClient({ binding: fakeBinding(answer) }).verify(TOKEN));
      assert.equal(e.code, "UNAVAILABLE", e.message);
    }
    const e = await rejection(
      createClient({
        binding: fakeBinding(() => {
          throw down;
        }),
      }).verify(TOKEN),
    );
    assert.equal(e.cause, down);
    assert.equal(e.status, null);
  });
});

describe("options", () => {
  test("createClient needs exactly one of url and binding, each of the right kind", () => {
    const binding = fakeBinding(() => verdict("VALID"));
    for (const options of [
      undefined,
      null,
      {},
      { url: "https://k.example", binding },
      { url: 42 },
      { url: "not a url" },
      { url: "https://k.example", fetch: "fetch" },
      { url: "https://k.example", timeoutMs: 0 },
      { url: "https://k.example", timeoutMs: Infinity },
      { binding: null },
      { binding: {} },
      { binding: { verify: "yes" } },
    ]) {
      assert.throws(() => createClient(options), TypeError, JSON.stringify(options));
    }
  });

  test("verify's options of the wrong shape are TypeErrors, before any request", async () => {
    const binding = fakeBinding(() => verdict("VALID"));
    const client = createClient({ binding });
    for (const options of [
      null,
      "strict",
      { scopes: "billing" },
      { scopes: ["billing", 7] },
      { consistency: "eventual" },
      { clientIp: 127001 },
      { cost: -1 },
      { cost: 1001 },
      { cost: 1.5 },
      { cost: "3" },
      { cost: NaN },
      { cost: Infinity },
      { cost: true },
    ]) {
      await assert.rejects(client.verify(TOKEN, options), TypeError, JSON.stringify(options));
      await assert.rejects(client.verify("kw_malformed", options), TypeError, JSON.stringify(options));
    }
    assert.equal(binding.calls.length, 0);
  });

  test("the client is frozen and keeps no reference to options changed later", async () => {
    const binding = fakeBinding(() => verdict("VALID"));
    const scopes = ["billing"];
    const client = createClient({ binding });
    assert.ok(Object.isFrozen(client));
    const pending = client.verify(TOKEN, { scopes });
    scopes.push("admin");
    await pending;
    assert.deepEqual(binding.calls[0].options.scopes, ["billing"]);
  });
});
