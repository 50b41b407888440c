// End-to-end: the verify-only Worker (build-verify/, wrangler.verify.toml) next to the full one,
// both bound to the same KV namespace in one workerd, as they are deployed: once with its ADMIN
// service binding (the front of the whole API, as wrangler.verify.toml deploys it) and once
// without (verify and health only).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { DURABLE_OBJECTS, OPERATOR, assertProblem, unclocked } from "./harness.mjs";

const common = {
  modules: true,
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
  compatibilityDate: "2025-09-01",
  kvNamespaces: { TOKENS: "tokens" },
};

let mf;
let verifyWorker;
let frontWorker;
const out = [];
const secrets = [OPERATOR];

/** Call one of the two Workers: { status, headers, body, text }. */
async function call(worker, method, path, { token, body, raw, headers = {} } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  const payload = body !== undefined ? JSON.stringify(body) : raw;
  const url = `http://localhost${path}`;
  const init = { method, headers: h, body: payload };
  const res = worker ? await worker.fetch(url, init) : await mf.dispatchFetch(url, init);
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, headers: res.headers, body: json, text };
}
const full = (...a) => call(null, ...a);
const edge = (...a) => call(verifyWorker, ...a);
const front = (...a) => call(frontWorker, ...a);

before(async () => {
  mf = new Miniflare({
    workers: [
      {
        ...common,
        name: "keyward",
        scriptPath: "build/index.js",
        bindings: { OPERATOR_SECRET: OPERATOR, TOKEN_PREFIX: "kw", ALLOWED_ORIGINS: "" },
        durableObjects: DURABLE_OBJECTS,
      },
      {
        ...common,
        name: "verify",
        scriptPath: "build-verify/index.js",
        bindings: { TOKEN_PREFIX: "kw" },
        durableObjects: { ORGS: { className: "OrgAuthority", scriptName: "keyward", useSQLite: true } },
      },
      {
        ...common,
        name: "front",
        scriptPath: "build-verify/index.js",
        bindings: { TOKEN_PREFIX: "kw" },
        durableObjects: { ORGS: { className: "OrgAuthority", scriptName: "keyward", useSQLite: true } },
        serviceBindings: { ADMIN: "keyward" },
      },
    ],
    kvPersist: false,
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (d) => out.push(String(d)));
      stderr.on("data", (d) => out.push(String(d)));
    },
  });
  await mf.ready;
  verifyWorker = await mf.getWorker("verify");
  frontWorker = await mf.getWorker("front");
});
after(async () => {
  await mf.dispose();
});

describe("verify-only Worker", () => {
  test("answers verify byte for byte like the full Worker, from the same KV", async () => {
    const org = await full("POST", "/v1/orgs", {
      token: OPERATOR,
      body: { name: "Edge", modules: ["billing", "users:read"], admin: { email: "a@edge.io", name: "A" } },
    });
    assert.equal(org.status, 201, org.text);
    const t = await full("POST", "/v1/tokens", {
      token: org.body.secret,
      body: { label: "svc", role: "developer", scopes: ["billing"], kind: "org", expires_in_days: 30 },
    });
    assert.equal(t.status, 201, t.text);
    const secret = t.body.secret;
    secrets.push(secret, org.body.secret);
    const cases = [
      { token: secret, scopes: ["billing"] },
      { token: secret, scopes: ["users:read"] },
      { token: `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}` },
      { token: "junk" },
      { token: `kw_${"0".repeat(30)}3wuQEo` },
      { token: secret, scopes: ["billing"], consistency: "strict" },
      { token: "junk", consistency: "strict" },
    ];
    const codes = [];
    for (const body of cases) {
      const a = await full("POST", "/v1/verify", { body });
      const b = await edge("POST", "/v1/verify", { body });
      assert.equal(b.status, a.status);
      assert.equal(unclocked(b.text), unclocked(a.text));
      assert.equal(b.headers.get("content-type"), a.headers.get("content-type"));
      assert.equal(b.headers.get("cache-control"), "no-store");
      codes.push(b.body.code);
    }
    assert.deepEqual(codes, [
      "VALID",
      "INSUFFICIENT_SCOPE",
      "MALFORMED",
      "MALFORMED",
      "NOT_FOUND",
      "VALID",
      "MALFORMED",
    ]);
    const g = await edge("GET", "/v1/verify?scopes=billing", { token: secret });
    assert.equal(g.body.code, "VALID");
    assert.equal(g.body.token.id, t.body.token.id);
    assertProblem(await edge("POST", "/v1/verify", { raw: "{" }), 400, "BAD_REQUEST");
    assertProblem(await edge("POST", "/v1/verify", { raw: "x".repeat(70 * 1024) }), 413, "PAYLOAD_TOO_LARGE");

    // A revocation made through the full Worker reaches this one within its cache's 5 s bound.
    const revoked = await full("POST", `/v1/tokens/${t.body.token.id}/revoke`, {
      token: org.body.secret,
      body: { confirm_label: "svc" },
    });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal((await full("POST", "/v1/verify", { body: { token: secret } })).body.code, "REVOKED");
    // Strict mode asks the org authority through the ORGS binding: REVOKED at once, here too.
    const strict = await edge("POST", "/v1/verify", { body: { token: secret, consistency: "strict" } });
    assert.deepEqual([strict.body.code, strict.body.consistency], ["REVOKED", "strict"]);
    const started = Date.now();
    let code;
    while (Date.now() - started < 8000) {
      code = (await edge("POST", "/v1/verify", { body: { token: secret } })).body.code;
      if (code === "REVOKED") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(code, "REVOKED");
    assert.ok(Date.now() - started < 6000, `seen after ${Date.now() - started} ms`);
  });

  test("re-reads an entry in steady use before it expires, off the response path", async () => {
    // The edge Worker caches an entry for 5 s from the start of its read; the first hit after
    // 4 s queues a background re-read. So a revocation made 4.1 s after the first read is served
    // stale once (the hit answers from the cache) and then seen well before the 5 s mark;
    // without the refresh it could not be seen before t0 + 5 s. On a machine too slow to keep
    // that schedule the attempt is repeated with a fresh token.
    const org = await full("POST", "/v1/orgs", {
      token: OPERATOR,
      body: { name: "Refresh", modules: ["billing"], admin: { email: "a@refresh.io", name: "A" } },
    });
    assert.equal(org.status, 201, org.text);
    secrets.push(org.body.secret);
    const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
    for (let attempt = 1; attempt <= 3; attempt++) {
      const label = `steady-${attempt}`;
      const t = await full("POST", "/v1/tokens", {
        token: org.body.secret,
        body: { label, role: "developer", scopes: ["billing"], kind: "org", expires_in_days: 30 },
      });
      assert.equal(t.status, 201, t.text);
      secrets.push(t.body.secret);
      const verify = async () => (await edge("POST", "/v1/verify", { body: { token: t.body.secret } })).body.code;
      const t0 = Date.now(); // the edge's read starts after this, so its entry expires after t0 + 5 s
      assert.equal(await verify(), "VALID");
      await sleep(t0 + 4100 - Date.now());
      const revoked = await full("POST", `/v1/tokens/${t.body.token.id}/revoke`, {
        token: org.body.secret,
        body: { confirm_label: label },
      });
      assert.equal(revoked.status, 200, revoked.text);
      if (Date.now() - t0 > 4500) continue; // too slow to tell: try again
      assert.equal(await verify(), "VALID", "a hit is answered from the cache, not after a KV read");
      let code;
      while (code !== "REVOKED" && Date.now() - t0 < 4950) {
        await sleep(25);
        code = await verify();
      }
      if (code !== "REVOKED" && Date.now() - t0 > 5200) continue; // a stall: try again
      assert.equal(code, "REVOKED", `still ${code} ${Date.now() - t0} ms after the first read`);
      return;
    }
    assert.fail("three attempts in a row could not keep a 4.5 s schedule");
  });

  test("without its ADMIN binding: health and verify, nothing of the admin API", async () => {
    assert.equal((await edge("GET", "/healthz")).status, 200);
    for (const [method, path] of [
      ["POST", "/v1/orgs"],
      ["GET", "/v1/tokens"],
      ["GET", "/v1/me"],
      ["POST", "/v1/tokens/tok_x/revoke"],
      ["GET", "/v1/openapi.json"],
      ["GET", "/v1/nothing"],
    ]) {
      const body = method === "GET" ? undefined : {};
      assertProblem(await edge(method, path, { token: OPERATOR, body }), 404, "NOT_FOUND");
    }
    assertProblem(await edge("PUT", "/v1/verify"), 405, "METHOD_NOT_ALLOWED");
  });

  test("with its ADMIN binding it holds every route: the full Worker answers the rest, unchanged", async () => {
    const org = await front("POST", "/v1/orgs", {
      token: OPERATOR,
      body: { name: "Front", modules: ["billing"], admin: { email: "a@front.io", name: "A" } },
    });
    assert.equal(org.status, 201, org.text);
    assert.equal(org.headers.get("cache-control"), "no-store");
    const admin = org.body.secret;
    secrets.push(admin);
    const t = await front("POST", "/v1/tokens", {
      token: admin,
      body: { label: "svc", role: "developer", scopes: ["billing"], kind: "org" },
    });
    assert.equal(t.status, 201, t.text);
    secrets.push(t.body.secret);
    assert.equal((await front("POST", "/v1/verify", { body: { token: t.body.secret } })).body.code, "VALID");
    // the same answers as the full Worker's, status, ETag and body
    for (const path of ["/v1/me", `/v1/tokens/${t.body.token.id}`, "/v1/members", "/v1/openapi.json"]) {
      const [a, b] = [await full("GET", path, { token: admin }), await front("GET", path, { token: admin })];
      assert.deepEqual(
        [b.status, b.headers.get("etag"), unclocked(b.text)],
        [a.status, a.headers.get("etag"), unclocked(a.text)],
        path,
      );
    }
    // a change with a body and a precondition goes through whole
    const stale = await front("PATCH", `/v1/tokens/${t.body.token.id}`, {
      token: admin,
      body: { label: "renamed" },
      headers: { "if-match": '"999"' },
    });
    assertProblem(stale, 412, "PRECONDITION_FAILED");
    const revoked = await front("POST", `/v1/tokens/${t.body.token.id}/revoke`, {
      token: admin,
      body: { confirm_label: "svc" },
    });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(
      (await front("POST", "/v1/verify", { body: { token: t.body.secret, consistency: "strict" } })).body.code,
      "REVOKED",
    );
    // problems, unknown paths and methods as the full Worker answers them
    assertProblem(await front("GET", "/v1/me"), 401, "UNAUTHENTICATED");
    assertProblem(await front("GET", "/v1/nothing", { token: admin }), 404, "NOT_FOUND");
    const put = await front("PUT", "/v1/org", { token: admin, body: {} });
    assertProblem(put, 405, "METHOD_NOT_ALLOWED");
    assert.equal(
      put.headers.get("allow"),
      (await full("PUT", "/v1/org", { token: admin, body: {} })).headers.get("allow"),
    );
    const head = await front("HEAD", "/v1/me", { token: admin });
    assert.deepEqual([head.status, head.text], [200, ""]);
    const listed = await front("GET", "/v1/orgs?limit=100", { token: OPERATOR });
    assert.ok(
      listed.body.orgs.some((o) => o.id === org.body.org.id),
      listed.text,
    );
  });

  test("logs no secret", () => {
    assert.ok(secrets.length >= 5);
    for (const s of secrets) assert.ok(!out.join("").includes(s.slice(3, 33)), "a secret is in the logs");
  });
});
