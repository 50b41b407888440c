// What the browser suites share: the built Worker with the page's static assets in Miniflare (as
// `make dev` serves them), Debian's Chromium through playwright-core, and a watch on every page
// that records Content Security Policy violations and page errors (each suite's afterEach fails
// the test that caused one). The Worker script is build/index.js unless KEYWARD_WORKER names
// another build of it.
import assert from "node:assert/strict";
import { after, afterEach, before } from "node:test";
import { createServer } from "node:http";
import { mkdirSync } from "node:fs";
import { Miniflare } from "miniflare";
import { chromium } from "playwright-core";

export const OPERATOR = "browser-operator-secret";
export const SHOTS = "test-results/screenshots";

/** CSP violations (console and `securitypolicyviolation`) and page errors of every watched page. */
export const problems = [];
export function watch(p) {
  p.setDefaultTimeout(10_000);
  p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  p.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  // Chromium also logs violations itself; the DOM event catches any it would not.
  return p.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(
        `Content Security Policy violation (event): ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`,
      ),
    ),
  );
}

/** A fresh, separate browser session (its own sessionStorage) on the page. */
export async function freshPage(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  await watch(p);
  return p;
}

/**
 * Wait until `dialog` (a locator) has closed and the page has finished closing it. A role
 * locator stops matching as soon as the dialog is hidden, but the page's `close` handler (which
 * removes the dialog, moves focus back and leaves a token link) runs a task later; this waits for
 * that too, since the page removes every dialog it closes.
 */
export async function closed(dialog) {
  await dialog.waitFor({ state: "detached" });
  await dialog.page().waitForFunction(() => !document.querySelector("dialog:not([open])"));
}

/** Open the page and sign in with `secret`. */
export async function signIn(p, base, secret) {
  await p.goto(base);
  await p.getByLabel("API token").fill(secret);
  await p.getByRole("button", { name: "Sign in" }).click();
}

/** A free loopback port: the page's own origin is known before the Worker starts (PUBLIC_URL). */
export async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** The Worker (with `bindings` added to the usual ones) and Chromium: { mf, base, browser }. */
export async function start(bindings = {}) {
  mkdirSync(SHOTS, { recursive: true });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const mf = new Miniflare({
    modules: true,
    scriptPath: process.env.KEYWARD_WORKER ?? "build/index.js",
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["TOKENS"],
    kvPersist: false,
    durableObjects: {
      ORGS: { className: "OrgAuthority", useSQLite: true },
      CLAIMS: { className: "KeyClaims", useSQLite: true },
      REGISTRY: { className: "OrgRegistry", useSQLite: true },
    },
    durableObjectsPersist: false,
    // the rate limits of wrangler.toml, as `make dev` simulates them
    ratelimits: {
      VERIFY_MISS_LIMIT: { simple: { limit: 300, period: 60 } },
      ADMIN_AUTH_LIMIT: { simple: { limit: 60, period: 60 } },
      STRICT_VERIFY_LIMIT: { simple: { limit: 600, period: 60 } },
    },
    // the Email Service binding, simulated as `make dev` does: notification emails go out
    email: { send_email: [{ name: "EMAIL" }] },
    // an http://127.0.0.1 webhook receiver is allowed (local development only), usage reaches the
    // authority within a second, emails link to this page
    bindings: {
      OPERATOR_SECRET: OPERATOR,
      TOKEN_PREFIX: "kw",
      ALLOWED_ORIGINS: "",
      WEBHOOK_ALLOW_INSECURE: "true",
      USAGE_FLUSH_SECONDS: "1",
      NOTIFY_FROM: "notifications@keyward.example",
      PUBLIC_URL: origin,
      ...bindings,
    },
    assets: { directory: "www", routerConfig: { has_user_worker: true } },
    host: "127.0.0.1",
    port,
  });
  const base = String(await mf.ready);
  assert.equal(new URL(base).origin, origin, "the page is served where PUBLIC_URL says");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  return { mf, base, browser };
}

/**
 * A fresh organisation, made with the operator secret as the first-run panel makes one: each test
 * that needs one makes its own, so it runs alone (`--test-name-pattern`) as well as in the suite.
 * Returns { org, member, secret, token } of its first admin.
 */
export async function createOrg(
  base,
  {
    name = "Acme",
    modules = ["billing", "users:read", "audit"],
    admin = { email: "ada@acme.io", name: "Ada Admin" },
  } = {},
) {
  const res = await fetch(new URL("/v1/orgs", base), {
    method: "POST",
    headers: { authorization: `Bearer ${OPERATOR}` },
    body: JSON.stringify({ name, modules, admin }),
  });
  assert.equal(res.status, 201, `POST /v1/orgs: ${res.status}`);
  return res.json();
}

/** The admin API as `secret`, as another admin tool would call it: (method, path, body) → { status, body }. */
export function apiAs(base, secret) {
  return async (method, path, body) => {
    const res = await fetch(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${secret}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

/**
 * A fresh organisation and its first admin's API: { secret, token, org, member, api, ok }, where
 * `ok(method, path, body)` is an API call that must succeed and answers its body.
 */
export async function orgWithApi(base) {
  const o = await createOrg(base);
  const api = apiAs(base, o.secret);
  const ok = async (method, path, body) => {
    const r = await api(method, path, body);
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return { ...o, api, ok };
}

/**
 * A suite's shared start and stop: the Worker and Chromium started before its first test (with
 * `bindings`, or what the async function `bindings` answers), every browser session a test
 * opened closed after it, a CSP violation or page error failing the test that caused it, and
 * everything stopped after the last test. Returns { mf, base, browser } (filled in once the suite
 * has started; `ready` resolves to it then) and page(options): a new session's page, watched and closed after the test
 * (`options` are Playwright's newContext options; the viewport is 1280×900 unless given).
 */
export function suite(bindings = {}) {
  let started;
  // (Node 20 does not wait for one root `before` hook before running the next: a suite's own hook
  // awaits `ready`, which the suite resolves once it has started.)
  const s = { mf: null, base: null, browser: null, ready: new Promise((r) => (started = r)) };
  const contexts = [];
  before(async () => {
    Object.assign(s, await start(typeof bindings === "function" ? await bindings() : bindings));
    started(s);
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => {})));
    assert.deepEqual(problems.splice(0), [], "no Content Security Policy violation and no page error");
  });
  after(async () => {
    await s.browser?.close();
    await s.mf?.dispose();
  });
  s.page = async (options = {}) => {
    const ctx = await s.browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
    contexts.push(ctx);
    const p = await ctx.newPage();
    await watch(p);
    return p;
  };
  return s;
}
