// The client and the middleware in workerd (Miniflare), bundled by esbuild as a consumer would
// bundle them, against a fake keyward (test/workerd/fake-keyward.mjs): over the service binding
// to its KeywardVerifier entrypoint and over HTTP (Miniflare routes the consumer's fetches to it),
// and with keyward unreachable (a fetch to a closed port).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { TOKENS } from "./support.mjs";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/** One well-formed token per behaviour of the fake (it answers by prefix). */
const tok = (prefix) => TOKENS.find((t) => t.startsWith(`${prefix}_`));
const VALID = tok("acme");
const NARROW = tok("ab");
const REVOKED = tok("z9");
const LIMITED = tok("sk");
const FAILING = tok("live");
const DOWN = tok("q0000");
const OVER_LIMIT = tok("abcdefghij");
const CREDITED = tok("a1b2c3d4e5");

const COMPAT = "2025-09-01";
const BINDING = { KEYWARD: { name: "keyward", entrypoint: "KeywardVerifier" } };

let mf, consumer, offline;
before(async () => {
  const script = execFileSync(
    join(root, "node_modules", ".bin", "esbuild"),
    [
      here("./workerd/consumer.mjs"),
      "--bundle",
      "--format=esm",
      "--platform=neutral",
      "--main-fields=module,main",
      "--log-level=warning",
    ],
    { cwd: root, encoding: "utf8" },
  );
  mf = new Miniflare({
    workers: [
      {
        name: "consumer",
        modules: true,
        script,
        compatibilityDate: COMPAT,
        serviceBindings: BINDING,
        bindings: { KEYWARD_URL: "https://keyward.example" },
        outboundService: "keyward",
      },
      {
        name: "offline",
        modules: true,
        script,
        compatibilityDate: COMPAT,
        serviceBindings: BINDING,
        bindings: { KEYWARD_URL: "http://127.0.0.1:9/" },
      },
      { name: "keyward", modules: true, scriptPath: here("./workerd/fake-keyward.mjs"), compatibilityDate: COMPAT },
    ],
  });
  await mf.ready;
  consumer = await mf.getWorker("consumer");
  offline = await mf.getWorker("offline");
});
after(async () => {
  await mf?.dispose();
});

/** GET `path` from `worker`: { status, headers, body, text }. */
async function get(worker, path, token) {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await worker.fetch(`http://api.example${path}`, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}

const ask = (via, query) => `/client/${via}?${new URLSearchParams(query)}`;

for (const via of ["binding", "http"]) {
  describe(`the client over ${via === "binding" ? "the service binding" : "HTTP"}`, () => {
    test("verdicts, with the options that were sent", async () => {
      const r = await get(
        consumer,
        ask(via, { token: VALID, scopes: "billing", consistency: "strict", ip: "198.51.100.7" }),
      );
      assert.equal(r.body.verdict.code, "VALID", r.text);
      assert.equal(r.body.verdict.token.id, "tok_acme");
      assert.deepEqual([r.body.verdict.consistency, r.body.verdict.max_staleness_s], ["strict", 0]);
      assert.deepEqual(r.body.verdict.asked, {
        token: VALID,
        scopes: ["billing"],
        consistency: "strict",
        client_ip: "198.51.100.7",
      });
      assert.equal(
        (await get(consumer, ask(via, { token: NARROW, scopes: "billing" }))).body.verdict.code,
        "INSUFFICIENT_SCOPE",
      );
      assert.equal((await get(consumer, ask(via, { token: REVOKED }))).body.verdict.code, "REVOKED");
      assert.deepEqual((await get(consumer, ask(via, { token: REVOKED }))).body.verdict.asked, { token: REVOKED });
    });

    test("a metered token: cost sent, RATE_LIMITED and USAGE_EXCEEDED verdicts with their ratelimit and credits", async () => {
      const spent = await get(consumer, ask(via, { token: CREDITED, cost: "3" }));
      assert.equal(spent.body.verdict.code, "VALID", spent.text);
      assert.deepEqual(spent.body.verdict.credits, { remaining: 7 });
      assert.deepEqual(spent.body.verdict.asked, { token: CREDITED, cost: 3 });
      assert.equal(spent.body.verdict.consistency, "strict");
      const broke = await get(consumer, ask(via, { token: CREDITED, cost: "11" }));
      assert.deepEqual([broke.body.verdict.valid, broke.body.verdict.code], [false, "USAGE_EXCEEDED"]);
      assert.deepEqual(broke.body.verdict.credits, { remaining: 10 });
      const over = await get(consumer, ask(via, { token: OVER_LIMIT }));
      assert.equal(over.body.verdict.code, "RATE_LIMITED", over.text);
      assert.deepEqual([over.body.verdict.ratelimit.limit, over.body.verdict.ratelimit.remaining], [5, 0]);
      // A cost keyward would refuse is the client's TypeError, before any request: Hono answers 500.
      const bad = await consumer.fetch(`http://api.example${ask(via, { token: CREDITED, cost: "1001" })}`);
      assert.equal(bad.status, 500);
      await bad.arrayBuffer();
    });

    test("a malformed token is answered without asking keyward", async () => {
      const r = await get(consumer, ask(via, { token: VALID.slice(0, -1) }));
      assert.equal(r.body.verdict.code, "MALFORMED");
      assert.equal(r.body.verdict.asked, undefined, "the fake was asked");
    });

    test("rate-limited, failing or down: a KeywardError, never a verdict", async () => {
      const limited = await get(consumer, ask(via, { token: LIMITED }));
      assert.deepEqual(limited.body.error, {
        name: "KeywardError",
        code: "RATE_LIMITED",
        status: 429,
        retryAfter: 7,
        problem: "RATE_LIMITED",
      });
      const failing = await get(consumer, ask(via, { token: FAILING }));
      assert.deepEqual(failing.body.error, {
        name: "KeywardError",
        code: "UNAVAILABLE",
        status: 500,
        retryAfter: null,
        problem: "INTERNAL",
      });
      const down = await get(consumer, ask(via, { token: DOWN }));
      assert.equal(down.body.error.code, "UNAVAILABLE", down.text);
      assert.equal(down.body.error.status, via === "binding" ? null : 502);
    });
  });

  describe(`the middleware over ${via === "binding" ? "the service binding" : "HTTP"}`, () => {
    test("200 for a valid token, its verdict on the context", async () => {
      const r = await get(consumer, `/mw/${via}/whoami`, VALID);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { id: "tok_acme", scopes: ["billing", "users:read"] });
      assert.equal((await get(consumer, `/mw/${via}/invoices`, VALID)).status, 200);
      assert.equal((await get(consumer, `/mw/${via}/whoami`, NARROW)).status, 200);
    });

    test("401 without a token or with an invalid one, 403 without the scope", async () => {
      const none = await get(consumer, `/mw/${via}/whoami`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get("www-authenticate"), "Bearer");
      for (const t of [REVOKED, VALID.slice(0, -1), "kw_nope"]) {
        const r = await get(consumer, `/mw/${via}/whoami`, t);
        assert.equal(r.status, 401, t);
        assert.equal(r.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
        assert.equal(r.headers.get("content-type"), "application/problem+json");
        assert.ok(!r.text.includes(t));
      }
      const scope = await get(consumer, `/mw/${via}/invoices`, NARROW);
      assert.equal(scope.status, 403);
      assert.equal(scope.headers.get("www-authenticate"), 'Bearer error="insufficient_scope", scope="billing"');
      assert.equal(scope.body.code, "INSUFFICIENT_SCOPE");
    });

    test("503 when keyward fails or is down, 429 when it rate-limits", async () => {
      for (const t of [FAILING, DOWN]) {
        const r = await get(consumer, `/mw/${via}/whoami`, t);
        assert.equal(r.status, 503, r.text);
        assert.equal(r.body.code, "UNAVAILABLE");
      }
      const limited = await get(consumer, `/mw/${via}/whoami`, LIMITED);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get("retry-after"), "7");
    });

    test("a metered token: 200 spending the cost, 429 over its rate limit, 402 out of credits", async () => {
      const ok = await get(consumer, `/mw/${via}/metered?cost=4`, CREDITED);
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body, { id: "tok_metered", ratelimit: null, credits: { remaining: 6 } });
      assert.deepEqual((await get(consumer, `/mw/${via}/metered`, CREDITED)).body.credits, { remaining: 9 });
      const over = await get(consumer, `/mw/${via}/metered`, OVER_LIMIT);
      assert.equal(over.status, 429, over.text);
      assert.equal(over.headers.get("retry-after"), "42");
      assert.equal(over.headers.get("www-authenticate"), null);
      assert.deepEqual([over.body.code, over.body.retry_after], ["RATE_LIMITED", 42]);
      assert.ok(!over.text.includes(OVER_LIMIT));
      const broke = await get(consumer, `/mw/${via}/metered?cost=11`, CREDITED);
      assert.equal(broke.status, 402, broke.text);
      assert.equal(broke.headers.get("content-type"), "application/problem+json");
      assert.deepEqual([broke.body.code, broke.body.title], ["USAGE_EXCEEDED", "Usage exceeded"]);
      assert.ok(!broke.text.includes(CREDITED));
    });
  });
}

describe("keyward unreachable over the network", () => {
  test("the client throws UNAVAILABLE with no status", async () => {
    const r = await get(offline, ask("http", { token: VALID }));
    assert.deepEqual(r.body.error, {
      name: "KeywardError",
      code: "UNAVAILABLE",
      status: null,
      retryAfter: null,
      problem: null,
    });
  });

  test("the middleware answers 503, never a pass", async () => {
    for (const path of ["/mw/http/whoami", "/mw/http/invoices"]) {
      const r = await get(offline, path, VALID);
      assert.equal(r.status, 503, r.text);
      assert.equal(r.body.code, "UNAVAILABLE");
      assert.ok(!r.text.includes(VALID));
    }
    // The same Worker over its binding still verifies: only the network was down.
    assert.equal((await get(offline, "/mw/binding/whoami", VALID)).status, 200);
  });
});
