// The admin page in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// against the built Worker with its static assets, exactly as `make dev` serves them.
// Screenshots of each screen go to test-results/screenshots/ (git-ignored) for people to look at.
// The Worker script is build/index.js unless KEYWARD_WORKER names another build of it (see
// harness.mjs). Every page is watched: a Content Security Policy violation or an uncaught page
// error fails the test that was running. states.test.mjs covers loading, empty and error states
// and the audit log's names, filters and pages; newcomer.test.mjs what a newcomer tripped on.
//
// Each test makes what it needs itself: its own organisation (setup()), its tokens and members
// through the API, its own browser session. None leans on another, so any one runs alone:
//   node --test --test-name-pattern="revoke needs" tests/browser/admin.test.mjs
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { OPERATOR, SHOTS, apiAs, closed, createOrg, problems, signIn as harnessSignIn, suite } from "./harness.mjs";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);
const PNG_URL = `data:image/png;base64,${PNG.toString("base64")}`;

const CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const NO_ACCESS = "This token works for your services, but it cannot sign in to keyward";
const IDLE = "Signed out after 30 minutes without activity";
const NETWORKS = "Allowed networks (optional)";
const NETWORKS_HINT =
  "Leave empty to allow any network. With networks set, verifications must pass the caller's address as client_ip.";
// GitHub's secret-scanning reports are signed; the Worker trusts this key pair's public half.
const LEAK = generateKeyPairSync("ec", { namedCurve: "P-256" });
const LEAK_KEY_ID = "browser-test-key";
const LEAK_REPORT_KEYS = JSON.stringify([
  { key_identifier: LEAK_KEY_ID, key: LEAK.publicKey.export({ type: "spki", format: "pem" }) },
]);

let base;
const s = suite({ LEAK_REPORT_KEYS });
before(async () => ({ base } = await s.ready));

/** A new browser session (its own sessionStorage; the clipboard allowed), closed after the test. */
async function newPage({ width = 1280, height = 900 } = {}) {
  const p = await s.page({ viewport: { width, height } });
  await p.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(base).origin });
  return p;
}
const signIn = (p, secret) => harnessSignIn(p, base, secret);
/** A new session signed in with `secret`, on the token list. */
async function signedIn(secret, size) {
  const p = await newPage(size);
  await signIn(p, secret);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  return p;
}

/** POST /v1/tokens with `secret`, as another admin tool would. */
const createToken = async (secret, body) =>
  (
    await fetch(new URL("/v1/tokens", base), {
      method: "POST",
      headers: { authorization: `Bearer ${secret}` },
      body: JSON.stringify(body),
    })
  ).json();

/**
 * What one test starts from: a fresh organisation "Acme" (modules billing, users:read, audit)
 * whose first admin, Ada Admin, holds the initial admin token. `api(method, path, body)` calls
 * the admin API as that admin; `createToken(body)` makes a token; `page` is a session signed in
 * as the admin (none with `signedIn: false`: make what the list should show first, then
 * `open()`).
 */
async function setup({ signedIn: signIn = true } = {}) {
  const o = await createOrg(base);
  const t = {
    ...o,
    api: apiAs(base, o.secret),
    createToken: (body) => createToken(o.secret, body),
    open: async (size) => (t.page = await signedIn(t.secret, size)),
  };
  if (signIn) await t.open();
  return t;
}

/** "CI deploy": Ada's personal developer token for billing, with a logo, as the wizard makes it. */
const ciDeploy = (t) =>
  t.createToken({
    label: "CI deploy",
    description: "Deploys from CI",
    logo: PNG_URL,
    role: "developer",
    kind: "personal",
    scopes: ["billing"],
    expires_in_days: 90,
  });

/**
 * A developer, Dev Eloper, with two personal tokens: "dev laptop" to sign in to keyward with
 * (keyward:manage) and "dev script" for their scripts (billing). Returns { member, laptop, script }.
 */
async function developer(t) {
  const { status, body: member } = await t.api("POST", "/v1/members", {
    email: "dev@acme.io",
    name: "Dev Eloper",
    role: "developer",
  });
  assert.equal(status, 201);
  const mine = { role: "developer", kind: "personal", owner_member_id: member.id };
  const laptop = await t.createToken({ ...mine, label: "dev laptop", scopes: ["keyward:manage"] });
  const script = await t.createToken({ ...mine, label: "dev script", scopes: ["billing"] });
  return { member, laptop, script };
}

const shot = (p, name) => p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const verify = async (token, extra = {}) =>
  (
    await (
      await fetch(new URL("/v1/verify", base), { method: "POST", body: JSON.stringify({ token, ...extra }) })
    ).json()
  ).code;
const row = (p, label) => p.locator("tbody tr", { has: p.getByText(label, { exact: true }) });
/** Whether `locator`'s element has keyboard focus. */
const focused = (locator) => locator.evaluate((el) => el === document.activeElement);
/** How far the page scrolls sideways (0 or less: it fits). */
const overflow = (p) => p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** Record the page's requests to `path` with `method` until `stop()`. */
function recordRequests(p, method, path) {
  const seen = [];
  const on = (r) => r.method() === method && new URL(r.url()).pathname === path && seen.push(r);
  p.on("request", on);
  return { seen, stop: () => p.off("request", on) };
}

/** Wait until `pred()` holds, asking again every 100 ms for up to `ms`. */
async function until(pred, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`still not true after ${ms} ms: ${pred}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------- headers, CSP, first run

test("the page and its assets carry the security headers", async () => {
  // every module and style sheet the page has, however many there are
  const modules = readdirSync("www").filter((f) => f.endsWith(".js"));
  for (const named of ["app.js", "access.js", "lib.js", "tokens.js", "token-actions.js", "wizard.js", "members.js"]) {
    assert.ok(modules.includes(named), named);
  }
  const sheets = readdirSync("www/css").filter((f) => f.endsWith(".css"));
  assert.ok(sheets.length >= 7, "the seven style sheets at least");
  for (const path of ["/", ...modules.map((f) => `/${f}`), ...sheets.map((f) => `/css/${f}`), "/pkg/keyward_bg.wasm"]) {
    const res = await fetch(new URL(path, base));
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("content-security-policy"), CSP, `${path}: CSP`);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${path}: nosniff`);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", `${path}: Referrer-Policy`);
    assert.equal(res.headers.get("x-frame-options"), "DENY", `${path}: X-Frame-Options`);
    await res.arrayBuffer();
  }
  const wasm = await fetch(new URL("/pkg/keyward_bg.wasm", base));
  assert.equal(wasm.headers.get("content-type"), "application/wasm", "nosniff needs the right types");
  await wasm.arrayBuffer();
  const js = await fetch(new URL("/app.js", base));
  assert.match(js.headers.get("content-type"), /^(text|application)\/javascript/);
  await js.arrayBuffer();
  // the rules file itself is not served
  const rules = await fetch(new URL("/_headers", base));
  assert.equal(rules.status, 404);
  await rules.arrayBuffer();
});

test("the CSP is enforced, the page runs under it, and a violation would be caught", async () => {
  const page = await newPage();
  await page.goto(base);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.dataset.wasm), "the wasm module loaded under the CSP");
  assert.deepEqual(problems, [], "the page itself needs nothing the CSP forbids");
  // An inline script and an inline style attribute are refused, and the watcher sees both.
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.inlineRan = true";
    document.head.append(s);
    document.body.setAttribute("style", "background: red");
  });
  assert.equal(await page.evaluate(() => window.inlineRan), undefined, "inline script refused");
  assert.notEqual(
    await page.evaluate(() => getComputedStyle(document.body).backgroundColor),
    "rgb(255, 0, 0)",
    "inline style refused",
  );
  for (let i = 0; i < 100 && problems.length < 4; i++) await page.waitForTimeout(20);
  await page.waitForTimeout(100);
  const seen = problems.splice(0).join("\n");
  assert.match(seen, /script-src/, "inline script violation caught");
  assert.match(seen, /style-src/, "inline style violation caught");
  assert.match(seen, /\(event\)/, "securitypolicyviolation event caught");
  await page.evaluate(() => document.body.removeAttribute("style"));
});

test("first run creates an org and signs in with its admin token", async () => {
  const page = await newPage();
  await page.goto(base);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await shot(page, "01-sign-in");
  await page.getByLabel("Operator secret").fill("wrong");
  await page.getByLabel("Organisation name").fill("Acme");
  await page.getByLabel("Modules (scopes tokens may carry)").fill("billing, users:read, audit");
  await page.getByLabel("First admin's email").fill("ada@acme.io");
  await page.getByLabel("First admin's name").fill("Ada Admin");
  await page.getByRole("button", { name: "Create organisation" }).click();
  await page.getByText("The operator secret is not right.").waitFor();
  await page.getByLabel("Operator secret").fill(OPERATOR);
  await page.getByRole("button", { name: "Create organisation" }).click();
  const secretInput = page.getByLabel("New token secret");
  await secretInput.waitFor();
  assert.equal(await secretInput.getAttribute("type"), "password", "masked by default");
  const adminSecret = await secretInput.inputValue();
  assert.match(adminSecret, /^kw_[0-9A-Za-z]{36}$/);
  await shot(page, "02-first-run-secret");
  await page.getByRole("button", { name: "Sign in with this token" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("keyward.token")), adminSecret);
  assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing in localStorage");
  await page.getByText("1 of 10 personal tokens").waitFor();
  await page.locator(".chip", { hasText: "keyward:manage" }).first().waitFor();
});

// ---------------------------------------------------------------- the wizard and a token's life

test("the create wizard validates live, shows the secret once and never again", async () => {
  const { page } = await setup();
  await page.getByRole("button", { name: "Create token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an API token" });
  await dialog.waitFor();
  // live validation from the wasm rules, next to the field
  await dialog.getByLabel("Name").fill("x".repeat(65));
  await dialog.getByText("must be at most 64 characters").waitFor();
  await dialog.getByLabel("Name").fill("CI deploy");
  assert.equal(await dialog.getByText("must be at most 64 characters").count(), 0);
  await dialog
    .getByLabel("Logo (PNG, JPEG or WebP, up to 32 KiB)")
    .setInputFiles({ name: "fake.png", mimeType: "image/png", buffer: Buffer.from("GIF89a") });
  await dialog.getByText("is not a png image").waitFor();
  assert.equal(await dialog.getByAltText("Logo preview").isVisible(), false, "no broken preview");
  await dialog
    .getByLabel("Logo (PNG, JPEG or WebP, up to 32 KiB)")
    .setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: PNG });
  await dialog.getByAltText("Logo preview").waitFor();
  await dialog.getByLabel("Description (optional)").fill("Deploys from CI");
  await shot(page, "03-wizard-general");
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByLabel("billing").check();
  await dialog.getByLabel("Expires").selectOption("90");
  // keyward's own access is a separate choice, off by default, with the reason in one sentence
  await dialog.getByRole("group", { name: "Access to keyward itself" }).waitFor();
  assert.ok(await dialog.getByRole("radio", { name: /^None/ }).isChecked(), "no access to keyward by default");
  await dialog.getByText("a token that calls your own services does not need to call keyward").waitFor();
  await shot(page, "04-wizard-access");
  await dialog.getByRole("button", { name: "Next" }).click();
  // limits, credits and metadata are optional: left empty, none is set
  await dialog.getByRole("group", { name: "Rate limit" }).waitFor();
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByText("in 90 days").waitFor();
  await dialog.getByRole("definition").filter({ hasText: "billing" }).waitFor();
  await dialog
    .getByRole("definition")
    .filter({ hasText: /^None$/ })
    .waitFor();
  await shot(page, "05-wizard-overview");
  await dialog.getByRole("button", { name: "Create token" }).click();
  const secretInput = dialog.getByLabel("New token secret");
  await secretInput.waitFor();
  await dialog.getByText("It is shown only this once").waitFor();
  assert.equal(await secretInput.getAttribute("type"), "password");
  await dialog.getByRole("button", { name: "Show" }).click();
  assert.equal(await secretInput.getAttribute("type"), "text");
  const ciSecret = await secretInput.inputValue();
  await shot(page, "06-secret-shown-once");
  await dialog.getByRole("button", { name: "Copy" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ciSecret);
  await dialog.getByRole("button", { name: "Done" }).click();
  await closed(dialog);
  assert.equal(await verify(ciSecret), "VALID");
  // never again: not in the page, not after a reload
  await row(page, "CI deploy").waitFor();
  assert.ok(!(await page.content()).includes(ciSecret));
  await page.reload();
  await row(page, "CI deploy").waitFor();
  assert.ok(!(await page.content()).includes(ciSecret));
  const masked = `kw_••••••••${ciSecret.slice(-4)}`;
  await row(page, "CI deploy").getByText(masked).waitFor();
  for (const col of ["Personal", "Ada Admin", "developer", "billing", "Active"]) {
    assert.ok((await row(page, "CI deploy").innerText()).includes(col), `row shows ${col}`);
  }
  // it was just verified, so "Last used" is a time (exact UTC on hover), not "Never"
  const lastUsed = row(page, "CI deploy").locator('td[data-label="Last used"] time');
  assert.match(await lastUsed.getAttribute("title"), /GMT$/);
  assert.ok(await row(page, "CI deploy").locator("img.logo-thumb").count(), "logo in the row");
  await page.getByText("2 of 10 personal tokens").waitFor();
  assert.doesNotMatch(await page.locator("body").innerText(), /\b(null|undefined)\b/, "no stray null on the page");
  await shot(page, "07-tokens-list");
  const [scroll, client] = await page.evaluate(() => {
    const w = document.querySelector(".table-wrap");
    return [w.scrollWidth, w.clientWidth];
  });
  assert.ok(scroll <= client, `the token list fits 1280 px, actions included (${scroll} > ${client})`);
});

test("a logo the browser cannot draw shows the label's letter, not a broken image", async () => {
  const t = await setup({ signedIn: false });
  await ciDeploy(t);
  // The server checks a logo's type, size and magic number, not that it is a whole image:
  // eight bytes of PNG signature pass, and no browser can draw them.
  const magicOnly = `data:image/png;base64,${Buffer.from("\x89PNG\r\n\x1a\n", "latin1").toString("base64")}`;
  const odd = await t.createToken({ label: "Odd logo", role: "developer", kind: "org", logo: magicOnly });
  assert.equal(odd.token.logo, magicOnly);
  const page = await t.open();
  try {
    const cell = row(page, "Odd logo").locator(".label-cell");
    await cell.locator(".logo-thumb.placeholder", { hasText: "O" }).waitFor();
    assert.equal(await cell.locator("img").count(), 0, "no broken image left");
    assert.ok(await row(page, "CI deploy").locator("img.logo-thumb").count(), "a drawable logo stays an image");
  } finally {
    assert.equal((await t.api("DELETE", `/v1/tokens/${odd.token.id}`, { confirm_label: "Odd logo" })).status, 204);
  }
  await page.reload();
  await row(page, "CI deploy").waitFor();
  await row(page, "Odd logo").waitFor({ state: "detached" });
});

test("a token without access to keyward works for services but cannot sign in", async () => {
  const t = await setup({ signedIn: false });
  const ci = await ciDeploy(t);
  const p = await newPage();
  await signIn(p, ci.secret);
  await p.getByText(NO_ACCESS).waitFor();
  await p.getByText("Ask an admin of your organisation for a token with access to keyward itself").waitFor();
  assert.equal(await p.getByRole("heading", { name: "API tokens" }).count(), 0, "not signed in");
  assert.equal(await p.evaluate(() => sessionStorage.getItem("keyward.token")), null, "not kept");
  assert.equal(await verify(ci.secret), "VALID", "it still verifies for services");
  await shot(p, "18-no-keyward-access");
});

/** Create a token through the wizard on `page` (signed in as an admin); returns its secret. */
async function wizardToken(page, { label, kind = "personal", role = "developer", access }) {
  await page.getByRole("button", { name: "Create token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an API token" });
  await dialog.getByLabel("Name").fill(label);
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByLabel("Kind").selectOption(kind);
  await dialog.getByLabel("Role", { exact: true }).selectOption(role);
  await dialog.getByRole("radio", { name: new RegExp(`^${access}`) }).check();
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByRole("button", { name: "Next" }).click(); // no limits, credits or metadata
  await dialog
    .getByRole("definition")
    .filter({ hasText: new RegExp(`^${access}$`) })
    .waitFor();
  if (access === "Manage") await shot(page, "19-wizard-keyward-manage");
  await dialog.getByRole("button", { name: "Create token" }).click();
  const secret = await dialog.getByLabel("New token secret").inputValue();
  await dialog.getByRole("button", { name: "Done" }).click();
  await closed(dialog);
  await row(page, label).waitFor();
  return secret;
}

test("the wizard grants access to keyward: Manage signs in with every change, Read signs in read-only", async () => {
  const t = await setup({ signedIn: false });
  await ciDeploy(t);
  const page = await t.open();
  const ops = await wizardToken(page, { label: "Ops console", kind: "org", role: "admin", access: "Manage" });
  await row(page, "Ops console").locator(".chip", { hasText: "keyward:manage" }).waitFor();
  let p = await signedIn(ops);
  await p.getByText("Ops console (org token) · Acme").waitFor();
  await p.getByRole("button", { name: "Create token" }).waitFor();
  await row(p, "CI deploy").getByRole("button", { name: "Disable CI deploy" }).waitFor();
  await p.context().close();

  const auditor = await wizardToken(page, { label: "Auditor", role: "admin", access: "Read" });
  await row(page, "Auditor").locator(".chip", { hasText: "keyward:read" }).waitFor();
  p = await signedIn(auditor);
  await row(p, "CI deploy").waitFor();
  await p.getByText("Read-only: this token may see keyward but not change anything.").waitFor();
  assert.equal(await p.getByRole("button", { name: "Create token" }).count(), 0, "no create");
  assert.equal(await p.getByRole("columnheader", { name: "Actions" }).count(), 0, "no actions column");
  for (const verb of ["Edit", "Disable", "Enable", "Revoke", "Re-approve", "Rotate", "Delete"]) {
    assert.equal(await p.getByRole("button", { name: new RegExp(`^${verb} `) }).count(), 0, `no ${verb} button`);
  }
  assert.doesNotMatch(await p.locator("body").innerText(), /\b(null|undefined)\b/, "no stray null on the page");
  await shot(p, "20-read-only-tokens");
  await p.getByRole("link", { name: "Members" }).click();
  await p.getByRole("heading", { name: "Members" }).waitFor();
  await p.getByText("ada@acme.io").waitFor();
  assert.equal(await p.getByRole("button", { name: "Add member" }).count(), 0, "no add member");
  assert.equal(await p.getByRole("button", { name: /Deactivate|Reactivate/ }).count(), 0, "no member changes");
  assert.equal(await p.getByRole("combobox", { name: /^Role of/ }).count(), 0, "no role change");
  await p.getByRole("link", { name: "Audit log" }).click();
  await p.getByRole("heading", { name: "Audit log" }).waitFor();

  // The edit dialog shows the same choice; taking the access away signs the auditor out.
  await row(page, "Auditor").getByRole("button", { name: "Edit Auditor" }).click();
  const edit = page.getByRole("dialog", { name: "Edit “Auditor”" });
  assert.ok(await edit.getByRole("radio", { name: /^Read/ }).isChecked(), "shows the token's access");
  await edit.getByRole("radio", { name: /^Manage/ }).waitFor();
  await edit.getByRole("radio", { name: /^None/ }).check();
  await shot(page, "25-edit-keyward-access");
  await edit.getByRole("button", { name: "Save" }).click();
  await closed(edit);
  await row(page, "Auditor").getByText("none", { exact: true }).waitFor();
  await p.getByRole("link", { name: "Members" }).click();
  await p.getByText(NO_ACCESS).waitFor();
  assert.equal(await p.evaluate(() => sessionStorage.getItem("keyward.token")), null, "signed out");
  // the admin's own, CI deploy and Auditor are personal; Ops console is the org's
  await page.getByText("3 of 10 personal tokens").waitFor();
});

test("revoke needs the exact label; re-approve, rotate and delete", async () => {
  const t = await setup({ signedIn: false });
  const { secret: ciSecret } = await ciDeploy(t);
  const page = await t.open();
  await row(page, "CI deploy").getByRole("button", { name: "Revoke CI deploy" }).click();
  let dialog = page.getByRole("dialog", { name: "Revoke “CI deploy”?" });
  const confirm = dialog.getByLabel("Type the label “CI deploy” to confirm");
  const go = dialog.getByRole("button", { name: "Revoke", exact: true });
  assert.ok(await go.isDisabled());
  await confirm.fill("ci deploy");
  assert.ok(await go.isDisabled(), "a wrong label keeps the button off");
  await shot(page, "08-revoke-wrong-label");
  await confirm.fill("CI deploy");
  assert.ok(await go.isEnabled());
  await go.click();
  await closed(dialog);
  await row(page, "CI deploy").getByText("Revoked", { exact: true }).waitFor();
  await row(page, "CI deploy").getByText("revoked by an admin").waitFor();
  assert.equal(await verify(ciSecret), "REVOKED");
  await shot(page, "09-revoked");

  await row(page, "CI deploy").getByRole("button", { name: "Re-approve CI deploy" }).click();
  await row(page, "CI deploy").getByText("Active", { exact: true }).waitFor();
  assert.equal(await verify(ciSecret), "VALID");

  await row(page, "CI deploy").getByRole("button", { name: "Rotate CI deploy" }).click();
  dialog = page.getByRole("dialog", { name: "Rotate “CI deploy”" });
  await dialog.getByLabel("Grace period for the old secret").selectOption("300");
  await dialog.getByRole("button", { name: "Rotate" }).click();
  const rotated = await dialog.getByLabel("New token secret").inputValue();
  assert.notEqual(rotated, ciSecret);
  await shot(page, "10-rotated-secret");
  await dialog.getByRole("button", { name: "Done" }).click();
  await closed(dialog);
  assert.equal(await verify(rotated), "VALID");
  assert.equal(await verify(ciSecret), "VALID", "old secret in its 5-minute grace");
  await row(page, "CI deploy")
    .getByText(`kw_••••••••${rotated.slice(-4)}`)
    .waitFor();
  assert.ok(!(await page.content()).includes(rotated));

  await row(page, "CI deploy").getByRole("button", { name: "Delete CI deploy" }).click();
  dialog = page.getByRole("dialog", { name: "Delete “CI deploy”?" });
  await dialog.getByLabel("Type the label “CI deploy” to confirm").fill("CI deploy");
  await dialog.getByRole("button", { name: "Delete", exact: true }).click();
  await closed(dialog);
  await row(page, "CI deploy").waitFor({ state: "detached" });
  assert.equal(await verify(rotated), "NOT_FOUND");
});

test("rotating the token you are signed in with carries on with the new secret", async () => {
  const { page, secret: adminSecret, token } = await setup();
  const label = token.label;
  await row(page, label)
    .getByRole("button", { name: `Rotate ${label}` })
    .click();
  const dialog = page.getByRole("dialog", { name: `Rotate “${label}”` });
  await dialog.getByText("This is the token you are signed in with.").waitFor();
  await dialog.getByLabel("Grace period for the old secret").selectOption("300");
  await shot(page, "21-rotate-own-token");
  await dialog.getByRole("button", { name: "Rotate" }).click();
  const fresh = await dialog.getByLabel("New token secret").inputValue();
  await dialog.getByRole("button", { name: "Done" }).click();
  await closed(dialog);
  await row(page, label)
    .getByText(`kw_••••••••${fresh.slice(-4)}`)
    .waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("keyward.token")), fresh);
  // the old secret still verifies for services during its grace, but keyward refuses it
  assert.equal(await verify(adminSecret), "VALID");
  const old = await fetch(new URL("/v1/me", base), { headers: { authorization: `Bearer ${adminSecret}` } });
  assert.equal(old.status, 401);
  await old.arrayBuffer();
  await page.reload();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.equal((await apiAs(base, fresh)("GET", "/v1/me")).status, 200, "the new secret signs in");
});

// ---------------------------------------------------------------- members, developers, audit

test("members: add, and the deactivation cascade is shown before it happens", async () => {
  const t = await setup();
  const { page } = t;
  await page.getByRole("link", { name: "Members" }).click();
  await page.getByRole("heading", { name: "Members" }).waitFor();
  await page.getByLabel("Email").fill("dev@acme");
  await page.getByText("must be an email address like name@example.com").waitFor();
  await page.getByLabel("Email").fill("dev@acme.io");
  await page.getByLabel("Name", { exact: true }).fill("Dev Eloper");
  await page.getByRole("button", { name: "Add member" }).click();
  const devRow = page.locator("tbody tr", { hasText: "dev@acme.io" });
  await devRow.waitFor();
  const devId = await devRow.getAttribute("data-id");
  // give the developer tokens through the API, as another admin tool would: one to sign in to
  // keyward with, one for their scripts
  const mine = { role: "developer", kind: "personal", owner_member_id: devId };
  const devSecret = (await t.createToken({ ...mine, label: "dev laptop", scopes: ["keyward:manage"] })).secret;
  await t.createToken({ ...mine, label: "dev script", scopes: ["billing"] });
  await page.reload();
  await devRow.getByRole("button", { name: "Deactivate" }).click();
  const dialog = page.getByRole("dialog", { name: "Deactivate Dev Eloper?" });
  await dialog.getByText("2 personal token(s) of Dev Eloper stop working (OWNER_DEACTIVATED).").waitFor();
  await dialog.getByText("dev laptop").waitFor();
  await shot(page, "11-deactivate-cascade");
  await dialog.getByRole("button", { name: "Deactivate" }).click();
  await devRow.getByText("deactivated").waitFor();
  assert.equal(await verify(devSecret), "OWNER_DEACTIVATED");
  await devRow.getByRole("button", { name: "Reactivate" }).click();
  await devRow.getByRole("button", { name: "Deactivate" }).waitFor();
  assert.equal(await verify(devSecret), "VALID");
  await shot(page, "12-members");
});

test("a developer cannot re-enable a token an admin disabled; the page says why and offers no Enable", async () => {
  const t = await setup({ signedIn: false });
  const dev = await developer(t);
  const page = await t.open();
  await row(page, "dev script").getByRole("button", { name: "Disable dev script" }).click();
  await row(page, "dev script").getByText("disabled by an admin").waitFor();
  assert.equal(await verify(dev.script.secret), "DISABLED");
  await shot(page, "22-disabled-by-admin");
  const p = await signedIn(dev.laptop.secret);
  await row(p, "dev script").getByText("disabled by an admin").waitFor();
  // The page asks the server's own rules (allowedActions in the browser module): no Enable for a
  // developer here, while Revoke, Rotate and Delete stay.
  await row(p, "dev script").getByRole("button", { name: "Revoke dev script" }).waitFor();
  assert.equal(await row(p, "dev script").getByRole("button", { name: "Enable dev script" }).count(), 0);
  await shot(p, "23-developer-enable-refused");
  // ...and the server refuses it anyway, whatever a client sends.
  const refused = await apiAs(base, dev.laptop.secret)("POST", `/v1/tokens/${dev.script.token.id}/enable`);
  assert.equal(refused.status, 403);
  assert.match(refused.body.detail, /only an admin can undo a disable or revoke made by an admin/);
  assert.equal(await verify(dev.script.secret), "DISABLED", "still disabled");
  await row(p, "dev script").getByText("Disabled", { exact: true }).waitFor();
});

test("audit log and notifications", async () => {
  const t = await setup({ signedIn: false });
  // A token's whole life and a member's change, through the API: what the log and the
  // notifications then tell.
  const ci = await ciDeploy(t);
  const id = ci.token.id;
  const ok = async (method, path, body) => assert.ok((await t.api(method, path, body)).status < 300, path);
  await ok("POST", `/v1/tokens/${id}/revoke`, { confirm_label: "CI deploy" });
  await ok("POST", `/v1/tokens/${id}/reapprove`);
  await ok("POST", `/v1/tokens/${id}/rotate`, { grace_seconds: 300 });
  await ok("DELETE", `/v1/tokens/${id}`, { confirm_label: "CI deploy" });
  const dev = await developer(t);
  await ok("POST", `/v1/tokens/${dev.script.token.id}/disable`); // an admin changes the developer's token
  await ok("PATCH", `/v1/members/${dev.member.id}`, { status: "deactivated" });
  await ok("PATCH", `/v1/members/${dev.member.id}`, { status: "active" });

  const page = await t.open();
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  for (const a of [
    "token.created",
    "token.revoked",
    "token.reapproved",
    "token.rotated",
    "token.deleted",
    "member.updated",
  ]) {
    assert.ok(await page.getByText(a, { exact: true }).count(), a);
  }
  await shot(page, "13-audit");
  await page.getByRole("link", { name: "Notifications" }).click();
  await page.getByRole("heading", { name: "Notifications" }).waitFor();
  await page.getByText('[Acme] API token "CI deploy" created').waitFor();
  assert.ok(!(await page.content()).includes(ci.secret.slice(3, 33)));
  // the kind in words; a change to a member names no token
  const note = (kind) => page.locator(`li[data-kind="${kind}"]`);
  await note("token.created").first().getByText("Token created", { exact: true }).waitFor();
  await note("token.revoked").first().getByText("Token revoked", { exact: true }).waitFor();
  await note("token.rotated").first().getByText("Token secret rotated", { exact: true }).waitFor();
  const member = note("member.updated").first();
  await member.getByText("Member changed", { exact: true }).waitFor();
  await member.getByText("about a member, not a token").waitFor();
  assert.equal(await member.locator("code").count(), 0, "no masked token for a member change");
  // the owner is told when an admin changes their token
  await note("token.disabled")
    .filter({ hasText: "To dev@acme.io" })
    .getByText("Token disabled", { exact: true })
    .waitFor();
  await shot(page, "14-notifications");
});

test("check a token: the wasm format check at once, then the server's verdict", async () => {
  const t = await setup({ signedIn: false });
  const { laptop } = await developer(t);
  const page = await t.open();
  await page.getByRole("link", { name: "Check a token" }).click();
  const input = page.getByLabel("Token", { exact: true });
  await input.fill("kw_nope");
  await page.getByText("Format: MALFORMED").waitFor();
  await input.fill(laptop.secret);
  await page.getByText(`Format: well formed (kw_••••••••${laptop.secret.slice(-4)})`).waitFor();
  await page.getByRole("button", { name: "Verify with the server" }).click();
  await page.getByText(/^Server: VALID/).waitFor();
  await shot(page, "15-check-token");
});

// ---------------------------------------------------------------- network allowlists, leaks

/** Report `token` leaked as GitHub's secret scanning does (signed); returns GitHub's feedback label. */
async function reportLeak(token) {
  const raw = JSON.stringify([
    { token, type: "keyward_token", url: "https://github.com/acme/app/blob/main/.env", source: "content" },
  ]);
  const res = await fetch(new URL("/v1/leaks", base), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "github-public-key-identifier": LEAK_KEY_ID,
      "github-public-key-signature": sign("sha256", Buffer.from(raw), LEAK.privateKey).toString("base64"),
    },
    body: raw,
  });
  assert.equal(res.status, 200);
  return (await res.json())[0].label;
}

test("the wizard takes allowed networks: the server's error live, Next blocked; overview, list and stored blocks", async () => {
  const t = await setup({ signedIn: false });
  // a token usable from anywhere, to show that such rows show nothing extra
  await t.createToken({ label: "Auditor", role: "admin", kind: "personal", scopes: ["keyward:read"] });
  const page = await t.open();
  // What the server answers for a bad block, to hold the page's live message against.
  const refused = await t.api("POST", "/v1/tokens", {
    label: "bad",
    role: "developer",
    kind: "org",
    allowed_cidrs: ["10.1.2.3/24", "10.0.0.0/33"],
  });
  assert.equal(refused.status, 422);
  const serverSays = refused.body.errors.allowed_cidrs;
  assert.match(serverSays, /"10\.0\.0\.0\/33"/);
  const posts = recordRequests(page, "POST", "/v1/tokens");

  await page.getByRole("button", { name: "Create token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an API token" });
  await dialog.getByLabel("Name").fill("Office VPN");
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByLabel("Kind").selectOption("org");
  await dialog.getByLabel("billing").check();
  const networks = dialog.getByLabel(NETWORKS);
  await dialog.getByText(NETWORKS_HINT).waitFor();
  await networks.fill("10.1.2.3/24\n10.0.0.0/33");
  const error = dialog.locator('.field[data-field="allowed_cidrs"] .field-error');
  await error.getByText(serverSays, { exact: true }).waitFor();
  assert.equal(await networks.getAttribute("aria-invalid"), "true", "the field is marked invalid");
  await dialog.getByRole("button", { name: "Next" }).click();
  assert.ok(await focused(networks), "Next stays on the Access step and focuses the bad field");
  assert.equal(await dialog.getByRole("button", { name: "Create token" }).count(), 0, "no overview, no Create");
  await shot(page, "26-wizard-networks-error");
  // Back on the way from the overview, a block broken again blocks Next again.
  await networks.fill("10.1.2.3/24");
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByRole("button", { name: "Next" }).click(); // past Limits & metadata
  await dialog.getByRole("button", { name: "Create token" }).waitFor();
  await dialog.getByRole("button", { name: "Back" }).click();
  await dialog.getByRole("button", { name: "Back" }).click();
  await networks.fill("10.1.2.3/24, 10.0.0.0/33");
  await dialog.getByRole("button", { name: "Next" }).click();
  await error.getByText(serverSays, { exact: true }).waitFor();
  assert.equal(await dialog.getByRole("button", { name: "Create token" }).count(), 0, "still no Create");
  assert.equal(posts.seen.length, 0, "nothing was sent while a block was bad");

  // Two good blocks, one a line; the error goes away as soon as they are right.
  await networks.fill("10.1.2.3/24\n2001:db8:abcd::1/48");
  await error.getByText(serverSays).waitFor({ state: "hidden" });
  assert.equal(await networks.getAttribute("aria-invalid"), null);
  await shot(page, "27-wizard-networks");
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByRole("button", { name: "Next" }).click(); // past Limits & metadata
  await dialog
    .getByRole("definition")
    .filter({ hasText: /^10\.1\.2\.3\/24, 2001:db8:abcd::1\/48$/ })
    .waitFor();
  await shot(page, "28-wizard-overview-networks");
  await dialog.getByRole("button", { name: "Create token" }).click();
  const vpnSecret = await dialog.getByLabel("New token secret").inputValue();
  await dialog.getByRole("button", { name: "Done" }).click();
  await closed(dialog);
  posts.stop();
  assert.equal(posts.seen.length, 1);
  assert.deepEqual(posts.seen[0].postDataJSON().allowed_cidrs, ["10.1.2.3/24", "2001:db8:abcd::1/48"], "sent as typed");

  // The list: a small "2 networks" that opens to the blocks as the server keeps them.
  const r = row(page, "Office VPN");
  const chip = r.locator("details.networks summary");
  assert.equal(await chip.innerText(), "2 networks");
  assert.equal(await chip.getAttribute("title"), "Usable only from 10.1.2.0/24, 2001:db8:abcd::/48");
  await chip.click();
  await r.getByText("10.1.2.0/24", { exact: true }).waitFor();
  await r.getByText("2001:db8:abcd::/48", { exact: true }).waitFor();
  await shot(page, "29-tokens-networks");
  const stored = await t.api("GET", `/v1/tokens/${await r.getAttribute("data-id")}`);
  assert.deepEqual(stored.body.allowed_cidrs, ["10.1.2.0/24", "2001:db8:abcd::/48"], "stored normalised");
  assert.equal(await verify(vpnSecret, { client_ip: "10.1.2.200" }), "VALID");
  assert.equal(await verify(vpnSecret, { client_ip: "10.1.3.1" }), "IP_NOT_ALLOWED");
  assert.equal(await verify(vpnSecret), "IP_NOT_ALLOWED", "no client_ip");
  // tokens usable from anywhere show nothing extra
  assert.equal(await row(page, "Auditor").locator("details.networks").count(), 0);
  const [scroll, client] = await page.evaluate(() => {
    const w = document.querySelector(".table-wrap");
    return [w.scrollWidth, w.clientWidth];
  });
  assert.ok(scroll <= client, `the token list still fits 1280 px (${scroll} > ${client})`);
});

test("the edit dialog changes networks: comma-separated, a bad one refused live, emptied removes the allowlist", async () => {
  const t = await setup({ signedIn: false });
  const vpn = await t.createToken({
    label: "Office VPN",
    role: "developer",
    kind: "org",
    scopes: ["billing"],
    allowed_cidrs: ["10.1.2.3/24", "2001:db8:abcd::1/48"],
  });
  const vpnSecret = vpn.secret;
  const page = await t.open();
  const r = row(page, "Office VPN");
  const id = await r.getAttribute("data-id");
  const edit = page.getByRole("dialog", { name: "Edit “Office VPN”" });
  const networks = edit.getByLabel(NETWORKS);
  await r.getByRole("button", { name: "Edit Office VPN" }).click();
  assert.equal(await networks.inputValue(), "10.1.2.0/24\n2001:db8:abcd::/48", "the stored blocks, one a line");
  await edit.getByText(NETWORKS_HINT).waitFor();

  // Two ways of writing the same network: the server's rule, word for word, and Save sends nothing.
  const refused = await t.api("PATCH", `/v1/tokens/${id}`, { allowed_cidrs: ["192.0.2.0/24", "192.0.2.9/24"] });
  assert.equal(refused.status, 422);
  const serverSays = refused.body.errors.allowed_cidrs;
  assert.equal(serverSays, "lists 192.0.2.0/24 twice");
  const patches = recordRequests(page, "PATCH", `/v1/tokens/${id}`);
  await networks.fill("192.0.2.0/24, 192.0.2.9/24");
  await edit
    .locator('.field[data-field="allowed_cidrs"] .field-error')
    .getByText(serverSays, { exact: true })
    .waitFor();
  await edit.getByRole("button", { name: "Save" }).click();
  assert.ok(await focused(networks), "Save stays in the dialog on the bad field");
  await shot(page, "30-edit-networks-error");
  await page.waitForTimeout(200);
  assert.equal(patches.seen.length, 0, "nothing was sent");

  await networks.fill("192.0.2.0/24, 198.51.100.7");
  await edit.getByRole("button", { name: "Save" }).click();
  await closed(edit);
  assert.deepEqual(
    (await t.api("GET", `/v1/tokens/${id}`)).body.allowed_cidrs,
    ["192.0.2.0/24", "198.51.100.7/32"],
    "a bare address is one host",
  );
  await r.locator("details.networks summary", { hasText: "2 networks" }).waitFor();
  await r.locator("details.networks summary[title='Usable only from 192.0.2.0/24, 198.51.100.7/32']").waitFor();
  assert.equal(await verify(vpnSecret, { client_ip: "198.51.100.7" }), "VALID");

  // Emptied: usable from any network again.
  await r.getByRole("button", { name: "Edit Office VPN" }).click();
  assert.equal(await networks.inputValue(), "192.0.2.0/24\n198.51.100.7/32");
  await networks.fill("");
  await edit.getByRole("button", { name: "Save" }).click();
  await closed(edit);
  patches.stop();
  assert.deepEqual(patches.seen.at(-1).postDataJSON().allowed_cidrs, [], "[] removes the allowlist");
  assert.deepEqual((await t.api("GET", `/v1/tokens/${id}`)).body.allowed_cidrs, []);
  await r.locator("details.networks").waitFor({ state: "detached" });
  assert.equal(await verify(vpnSecret), "VALID", "no client_ip needed any more");
});

/** "Fenced console": an org admin token with Read, usable only from 192.0.2.0/24. */
async function fencedConsole(t) {
  const fenced = await t.createToken({
    label: "Fenced console",
    role: "admin",
    kind: "org",
    scopes: ["keyward:read"],
    allowed_cidrs: ["192.0.2.0/24"],
  });
  assert.deepEqual(fenced.token.allowed_cidrs, ["192.0.2.0/24"]);
  return fenced;
}

test("a token used from outside its networks cannot sign in, and the page says why", async () => {
  const t = await setup({ signedIn: false });
  const fenced = await fencedConsole(t);
  const p = await newPage();
  await signIn(p, fenced.secret);
  await p.getByText("not allowed from this network").waitFor();
  assert.equal(await p.getByRole("heading", { name: "API tokens" }).count(), 0, "not signed in");
  assert.equal(await p.evaluate(() => sessionStorage.getItem("keyward.token")), null, "not kept");
});

// ---------------------------------------------------------------- the organisation

test("organisation: what happens to a leaked token, switched to notify and back (GET /v1/org and real reports)", async () => {
  const t = await setup();
  const { page } = t;
  await page.getByRole("link", { name: "Organisation" }).click();
  await page.getByRole("heading", { name: "Organisation", level: 1 }).waitFor();
  await page.getByRole("heading", { name: "Acme", level: 2 }).waitFor();
  const group = page.getByRole("group", { name: "When a token is reported leaked" });
  const revoke = group.getByRole("radio", { name: /^Revoke it at once \(recommended\)/ });
  const notify = group.getByRole("radio", { name: /^Only notify/ });
  const save = page.getByRole("button", { name: "Save" });
  assert.ok(await revoke.isChecked(), "revoke by default");
  assert.ok(await save.isDisabled(), "nothing to save yet");
  assert.equal((await t.api("GET", "/v1/org")).body.policy.on_leak, "revoke");
  await shot(page, "31-org-settings");

  await notify.check();
  assert.ok(await save.isEnabled());
  await save.click();
  await page.getByRole("status").getByText("Saved. When a token is reported leaked: only notify.").waitFor();
  assert.equal((await t.api("GET", "/v1/org")).body.policy.on_leak, "notify");
  assert.ok(await save.isDisabled(), "saved: nothing left to save");
  assert.ok(await notify.isChecked());
  await shot(page, "32-org-on-leak-notify");
  // A report now only tells people; the notification says so in words.
  const told = await t.createToken({ label: "leaky notebook", role: "developer", kind: "org", scopes: ["billing"] });
  assert.equal(await reportLeak(told.secret), "true_positive");
  assert.equal(await verify(told.secret), "VALID", "left working");
  await page.getByRole("link", { name: "Notifications" }).click();
  const leaked = page.locator('li[data-kind="token.leaked"]', { hasText: "leaky notebook" }).first();
  await leaked.getByText("Reported leaked", { exact: true }).waitFor();
  await shot(page, "33-notification-reported-leaked");
  // The page reloaded still shows the stored choice.
  await page.getByRole("link", { name: "Organisation" }).click();
  await page.reload();
  await page.getByRole("heading", { name: "Organisation", level: 1 }).waitFor();
  assert.ok(await notify.isChecked(), "the stored choice");

  await revoke.check();
  await save.click();
  await page.getByRole("status").getByText("Saved. When a token is reported leaked: revoke it at once.").waitFor();
  assert.equal((await t.api("GET", "/v1/org")).body.policy.on_leak, "revoke");
  const caught = await t.createToken({ label: "leaky script", role: "developer", kind: "org", scopes: ["billing"] });
  assert.equal(await reportLeak(caught.secret), "true_positive");
  assert.equal(await verify(caught.secret), "REVOKED");
  await page.getByRole("link", { name: "Tokens" }).click();
  await row(page, "leaky script").getByText("revoked after a leak report").waitFor();
  await row(page, "leaky script").getByText("Revoked", { exact: true }).waitFor();
  await shot(page, "34-revoked-after-leak-report");
});

test("organisation is read-only for a keyward:read session", async () => {
  const t = await setup({ signedIn: false });
  await fencedConsole(t);
  const reader = (await t.createToken({ label: "Org reader", role: "admin", kind: "org", scopes: ["keyward:read"] }))
    .secret;
  const p = await signedIn(reader);
  await p.getByRole("link", { name: "Organisation" }).click();
  await p.getByRole("heading", { name: "Organisation", level: 1 }).waitFor();
  await p.getByText("Read-only: this token may see keyward but not change anything.").waitFor();
  const group = p.getByRole("group", { name: "When a token is reported leaked" });
  assert.ok(await group.getByRole("radio", { name: /^Revoke it at once/ }).isChecked());
  for (const radio of await group.getByRole("radio").all()) assert.ok(await radio.isDisabled(), "no change");
  assert.equal(await p.getByRole("button", { name: "Save" }).count(), 0, "no Save");
  assert.doesNotMatch(await p.locator("body").innerText(), /\b(null|undefined)\b/, "no stray null on the page");
  await shot(p, "35-org-read-only");
  // at 360 px: the organisation and a token list with a network chip, without sideways scrolling
  await p.setViewportSize({ width: 360, height: 780 });
  assert.ok((await overflow(p)) <= 0, `organisation fits 360 px (${await overflow(p)}px)`);
  await shot(p, "36-org-narrow-360");
  await p.getByRole("link", { name: "Tokens" }).click();
  await row(p, "Fenced console").locator("details.networks summary", { hasText: "1 network" }).click();
  await row(p, "Fenced console").getByText("192.0.2.0/24", { exact: true }).waitFor();
  assert.ok((await overflow(p)) <= 0, `token list with networks fits 360 px (${await overflow(p)}px)`);
  await row(p, "Fenced console").screenshot({ path: `${SHOTS}/37-networks-narrow-360.png` });
});

test("organisation: the idle-token policy, checked as the server checks it, saved and turned off", async () => {
  const t = await setup();
  const { page } = t;
  await page.getByRole("link", { name: "Organisation" }).click();
  await page.getByRole("heading", { name: "Organisation", level: 1 }).waitFor();
  const days = page.getByLabel("Disable tokens unused for (days)");
  const save = page.getByRole("button", { name: "Save" });
  const error = page.locator('.field[data-field="policy.disable_after_idle_days"] .field-error');
  assert.equal(await days.inputValue(), "", "off by default: empty");
  assert.equal((await t.api("GET", "/v1/org")).body.policy.disable_after_idle_days, null);
  // The server's own words for a bad number, held against the page's live message.
  const refused = await t.api("PATCH", "/v1/org", { policy: { disable_after_idle_days: 0 } });
  assert.equal(refused.status, 422);
  const serverSays = refused.body.errors["policy.disable_after_idle_days"];
  assert.equal(serverSays, "must be between 1 and 365");
  const patches = recordRequests(page, "PATCH", "/v1/org");
  await days.fill("0");
  await error.getByText(serverSays, { exact: true }).waitFor();
  assert.equal(await days.getAttribute("aria-invalid"), "true");
  await days.fill("366");
  await error.getByText(serverSays, { exact: true }).waitFor();
  await days.fill("2.5");
  await error.getByText("must be a whole number", { exact: true }).waitFor();
  await save.click();
  assert.ok(await focused(days), "Save stays on the bad field");
  await shot(page, "38-org-idle-policy-error");
  await page.waitForTimeout(200);
  assert.equal(patches.seen.length, 0, "nothing was sent");

  await days.fill("30");
  assert.equal(await error.textContent(), "", "no error for 30");
  await save.click();
  await page
    .getByRole("status")
    .getByText("Saved. Idle tokens: disabled after 30 days without a valid verification.")
    .waitFor();
  assert.deepEqual(
    patches.seen.at(-1).postDataJSON(),
    { policy: { disable_after_idle_days: 30 } },
    "only what changed",
  );
  assert.equal((await t.api("GET", "/v1/org")).body.policy.disable_after_idle_days, 30);
  assert.ok(await save.isDisabled(), "saved: nothing left to save");
  await shot(page, "39-org-idle-policy");
  await page.reload();
  assert.equal(await days.inputValue(), "30", "the stored policy after a reload");

  await days.fill("");
  await save.click();
  await page.getByRole("status").getByText("Saved. Idle tokens: never disabled.").waitFor();
  patches.stop();
  assert.deepEqual(
    patches.seen.at(-1).postDataJSON(),
    { policy: { disable_after_idle_days: null } },
    "null turns it off",
  );
  assert.equal((await t.api("GET", "/v1/org")).body.policy.disable_after_idle_days, null);
});

// ---------------------------------------------------------------- webhook, usage

/**
 * Standard Webhooks, "Verifying webhooks": HMAC-SHA256 of `${id}.${timestamp}.${body}`, keyed with
 * the base64 after `whsec_`; `webhook-signature` lists `v1,<base64>` signatures. Answers whether
 * one of them is `secret`'s.
 */
function signedWith(secret, headers, body) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key)
    .update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`)
    .digest("base64");
  return String(headers["webhook-signature"]).split(" ").includes(`v1,${expected}`);
}

/** A webhook receiver on loopback recording every POST: 204 on /hook, 500 on /down. */
async function receiver() {
  const got = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ path: req.url, headers: req.headers, body });
      res.statusCode = req.url === "/down" ? 500 : 204;
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { got, origin, close: () => new Promise((r) => server.close(r)) };
}

test("webhook: set with a real receiver, its secret shown once, a test delivered and logged, rotated and removed", async () => {
  const t = await setup();
  const { page } = t;
  const hook = await receiver();
  try {
    await page.getByRole("link", { name: "Webhook" }).click();
    await page.getByRole("heading", { name: "Webhook", level: 1 }).waitFor();
    await page.getByText("No webhook is set").waitFor();
    const url = page.getByLabel("Endpoint URL");
    const events = page.getByRole("group", { name: "Events to send" });
    const all = events.getByLabel(/^All events/);
    assert.ok(await all.isChecked(), "all events by default");
    assert.ok(await events.getByLabel("token.created").isDisabled(), "no single kinds while all are chosen");
    // Checked before anything is sent, in the server's words.
    const puts = recordRequests(page, "PUT", "/v1/org/webhook");
    await url.fill("ftp://example.com/hook");
    await all.uncheck();
    await page.getByRole("button", { name: "Set webhook" }).click();
    await page.getByText("must start with https:// or http://").waitFor();
    await events.getByText('must name at least one event kind, or "*" for all').waitFor();
    assert.ok(await focused(url));
    assert.equal(puts.seen.length, 0, "nothing was sent");

    await url.fill(`${hook.origin}/hook`);
    await events.getByLabel("token.created").check();
    await events.getByLabel("token.revoked").check();
    await page.getByRole("button", { name: "Set webhook" }).click();
    const dialog = page.getByRole("dialog", { name: "Webhook signing secret" });
    const secretInput = dialog.getByLabel("New signing secret");
    await secretInput.waitFor();
    await dialog.getByText("It is shown only this once").waitFor();
    assert.equal(await secretInput.getAttribute("type"), "password", "masked by default");
    const secret = await secretInput.inputValue();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    await dialog.getByRole("button", { name: "Show" }).click();
    await dialog.screenshot({ path: `${SHOTS}/44-webhook-secret-once.png` });
    await dialog.getByRole("button", { name: "Copy" }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await page.getByRole("status").getByText("Signing secret copied to the clipboard.").waitFor();
    await dialog.getByRole("button", { name: "Done" }).click();
    await closed(dialog);
    puts.stop();
    assert.deepEqual(puts.seen[0].postDataJSON(), {
      url: `${hook.origin}/hook`,
      events: ["token.created", "token.revoked"],
    });
    const masked = `whsec_••••••••${secret.slice(-4)}`;
    await page.getByText(masked).waitFor();
    await page.getByText(`${hook.origin}/hook`, { exact: true }).waitFor();
    assert.ok(!(await page.content()).includes(secret), "shown once: gone from the page");
    await page.reload();
    await page.getByText(masked).waitFor();
    assert.ok(!(await page.content()).includes(secret), "and not after a reload");
    await shot(page, "40-webhook");

    // A test event: pending, then delivered (the log looks again by itself), signed with the secret.
    await page.getByRole("button", { name: "Send test" }).click();
    const testRow = page.locator("tr[data-state]", { hasText: "webhook.test" });
    await testRow.getByText(/^(Pending|Delivered)$/).waitFor();
    await testRow.getByText("Delivered", { exact: true }).waitFor({ timeout: 15_000 });
    await testRow.getByText("HTTP 204").waitFor();
    const id = await testRow.getAttribute("data-id");
    const sent = hook.got.find((r) => r.headers["webhook-id"] === id);
    assert.ok(sent, "the receiver got it");
    assert.ok(signedWith(secret, sent.headers, sent.body), "signed with the secret shown once");
    assert.equal(JSON.parse(sent.body).type, "webhook.test");
    // A change of a chosen kind is sent too, and logged.
    const made = await t.createToken({ label: "hooked", role: "developer", kind: "org", scopes: ["billing"] });
    await page.getByRole("button", { name: "Refresh" }).click();
    const createdRow = page.locator("tr[data-state]", { hasText: "token.created" });
    await createdRow.getByText("Delivered", { exact: true }).waitFor({ timeout: 15_000 });
    await createdRow.getByText("Payload").click();
    await createdRow.getByText(made.token.id).first().waitFor();

    // An endpoint that fails: the attempt's code and error, and when keyward tries again.
    await url.fill(`${hook.origin}/down`);
    await all.check();
    await page.getByRole("button", { name: "Save webhook" }).click();
    await page.getByRole("status").getByText("Webhook saved: the signing secret is unchanged.").waitFor();
    assert.equal(await page.getByRole("dialog").count(), 0, "no new secret");
    assert.deepEqual((await t.api("GET", "/v1/org/webhook")).body.webhook.events, ["*"]);
    await page.getByText("All events, present and future", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Send test" }).click();
    const failing = page.locator("tr[data-state]", { hasText: "webhook.test" }).first();
    await failing.getByText("HTTP 500", { exact: true }).first().waitFor({ timeout: 15_000 });
    await failing.getByText("Pending", { exact: true }).waitFor();
    assert.match(await failing.locator('td[data-label="Next attempt"] time').getAttribute("datetime"), /^\d{4}-/);
    await shot(page, "41-webhook-deliveries");

    // Rotate with a grace: a new secret shown once; the old one still signs for an hour.
    await page.getByRole("button", { name: "Rotate secret" }).click();
    const rotate = page.getByRole("dialog", { name: "Rotate the signing secret" });
    await rotate.getByLabel("Grace period for the old secret").selectOption("3600");
    await rotate.getByRole("button", { name: "Rotate" }).click();
    const fresh = await rotate.getByLabel("New signing secret").inputValue();
    assert.match(fresh, /^whsec_/);
    assert.notEqual(fresh, secret);
    await rotate.screenshot({ path: `${SHOTS}/45-webhook-rotated.png` });
    await rotate.getByRole("button", { name: "Done" }).click();
    await closed(rotate);
    await page.getByText(`whsec_••••••••${fresh.slice(-4)}`).waitFor();
    await page.getByText("Old secret also signs until").waitFor();

    // Remove, confirmed: no webhook, the log stays.
    await page.getByRole("button", { name: "Remove webhook" }).click();
    const remove = page.getByRole("dialog", { name: "Remove the webhook?" });
    await remove.getByRole("button", { name: "Remove" }).click();
    await closed(remove);
    await page.getByText("No webhook is set").waitFor();
    assert.equal((await t.api("GET", "/v1/org/webhook")).body.webhook, null);
    await page.getByRole("button", { name: "Set webhook" }).waitFor();
    await page.locator("tr[data-state]", { hasText: "token.created" }).waitFor();
    assert.doesNotMatch(await page.locator("body").innerText(), /\b(null|undefined)\b/, "no stray null on the page");
  } finally {
    await hook.close();
  }
});

test("webhook is read-only for a keyward:read admin", async () => {
  const t = await setup({ signedIn: false });
  const hook = await receiver();
  try {
    // a webhook with a test delivery in its log, set by the admin
    assert.ok((await t.api("PUT", "/v1/org/webhook", { url: `${hook.origin}/hook`, events: ["*"] })).status < 300);
    assert.ok((await t.api("POST", "/v1/org/webhook/test")).status < 300);
    const reader = (await t.createToken({ label: "Hook reader", role: "admin", kind: "org", scopes: ["keyward:read"] }))
      .secret;
    const p = await signedIn(reader);
    await p.getByRole("link", { name: "Webhook" }).click();
    await p.getByRole("heading", { name: "Delivery log" }).waitFor();
    await p.getByText("Read-only: this token may see keyward but not change anything.").waitFor();
    await p.locator("tr[data-state]", { hasText: "webhook.test" }).first().waitFor();
    for (const name of ["Set webhook", "Send test", "Rotate secret", "Remove webhook"]) {
      assert.equal(await p.getByRole("button", { name }).count(), 0, `no ${name}`);
    }
    assert.equal(await p.getByLabel("Endpoint URL").count(), 0, "no form");
    await p.setViewportSize({ width: 360, height: 780 });
    assert.ok((await overflow(p)) <= 0, `webhook and its log fit 360 px (${await overflow(p)}px)`);
    await shot(p, "46-webhook-read-only-360");
  } finally {
    await hook.close();
  }
});

test("usage: verifications counted at the edge show in the token's chart and in the list's sparklines", async () => {
  const t = await setup();
  const { page } = t;
  await t.createToken({ label: "hooked", role: "developer", kind: "org", scopes: ["billing"] }); // never verified
  const probe = await t.createToken({ label: "usage probe", role: "developer", kind: "org", scopes: ["billing"] });
  const id = probe.token.id;
  for (let i = 0; i < 5; i++) assert.equal(await verify(probe.secret, { scopes: ["billing"] }), "VALID");
  for (let i = 0; i < 2; i++) assert.equal(await verify(probe.secret, { scopes: ["audit"] }), "INSUFFICIENT_SCOPE");
  // The edge reports its counts to the authority at most once a second here: ask until they are in.
  const today = async () => (await t.api("GET", `/v1/tokens/${id}/usage`)).body.days.at(-1);
  await until(async () => {
    const d = await today();
    return d.valid === 5 && d.refused === 2;
  });

  // The list: one GET /v1/usage for every row, never one per token.
  const all = recordRequests(page, "GET", "/v1/usage");
  const each = [];
  const perToken = (r) => /\/v1\/tokens\/[^/]+\/usage$/.test(new URL(r.url()).pathname) && each.push(r);
  page.on("request", perToken);
  await page.reload();
  const spark = row(page, "usage probe").locator("svg.sparkline");
  await spark.waitFor();
  assert.equal(await spark.getAttribute("aria-label"), "Last 30 days: 5 valid and 2 refused verifications");
  assert.equal(await spark.getAttribute("role"), "img");
  assert.equal(await spark.locator("rect.valid").count(), 1, "one day with valid verifications");
  assert.equal(await spark.locator("rect.refused").count(), 1, "refused stacked on it");
  assert.equal(await spark.locator("rect.none").count(), 29, "the other days are a baseline");
  assert.equal(
    await row(page, "hooked").locator("svg.sparkline").getAttribute("aria-label"),
    "No verifications in the last 30 days",
  );
  all.stop();
  assert.equal(all.seen.length, 1, "one GET /v1/usage for the list");
  assert.equal(each.length, 0, "no per-token usage call for the list");
  await shot(page, "43-token-list-sparklines");

  // The token's details: a bar chart of 30 days, its totals as its name, the numbers as a table.
  await row(page, "usage probe").getByRole("button", { name: "Details and usage of usage probe" }).click();
  const dialog = page.getByRole("dialog", { name: "“usage probe”" });
  const chart = dialog.getByRole("img", {
    name: /^Last 30 days: 5 valid and 2 refused verifications; busiest day \d{4}-\d\d-\d\d \(7\)$/,
  });
  await chart.waitFor();
  assert.equal(await chart.locator("g.day").count(), 30);
  assert.match(
    await chart.locator("g.day").last().locator("title").textContent(),
    /^\d{4}-\d\d-\d\d: 5 valid, 2 refused$/,
  );
  const height = async (cls) =>
    Number(await chart.locator("g.day").last().locator(`rect.${cls}`).getAttribute("height"));
  assert.ok((await height("valid")) > (await height("refused")), "valid taller than refused");
  await dialog.getByText("Valid 5").waitFor();
  await dialog.getByText("Refused 2").waitFor();
  await dialog.getByText("Show the numbers").click();
  const numbers = dialog.locator(".usage-numbers tbody tr");
  assert.equal(await numbers.count(), 1);
  assert.deepEqual((await numbers.locator("td").allInnerTexts()).slice(1), ["5", "2"]);
  assert.equal(each.length, 1, "the details read the token's own usage");
  page.off("request", perToken);
  await dialog.screenshot({ path: `${SHOTS}/42-token-usage.png` });
  await page.keyboard.press("Escape");
  await closed(dialog);
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute("aria-label")),
    "Details and usage of usage probe",
    "focus returns to the label",
  );

  // More verifications reach the chart when the details open again.
  assert.equal(await verify(probe.secret), "VALID");
  await until(async () => (await today()).valid === 6);
  await row(page, "usage probe").getByRole("button", { name: "Details and usage of usage probe" }).click();
  await dialog.getByRole("img", { name: /^Last 30 days: 6 valid and 2 refused/ }).waitFor();
  await page.keyboard.press("Escape");
});

// ---------------------------------------------------------------- notification emails, links to a token

/** The Notifications view's entry for the `token.created` of `label`. */
const createdNote = (p, label) => p.locator('li[data-kind="token.created"]', { hasText: `"${label}"` }).first();

test("notifications: each email's state in words, sent through the Email Service within seconds", async () => {
  const t = await setup({ signedIn: false });
  // earlier notifications, emailed before this test looks: the list has more than the one it watches
  for (const label of ["older one", "older two", "older three", "older four"]) {
    await t.createToken({ label, role: "developer", kind: "org", scopes: ["billing"] });
  }
  await until(async () =>
    (await t.api("GET", "/v1/notifications")).body.notifications.every((n) => n.email?.state === "sent"),
  );
  const made = await t.createToken({ label: "emailed token", role: "developer", kind: "org", scopes: ["billing"] });
  const page = await t.open();
  await page.getByRole("link", { name: "Notifications" }).click();
  await page.getByRole("heading", { name: "Notifications" }).waitFor();
  const item = createdNote(page, "emailed token");
  await item.waitFor();
  // Pending at first, or already sent: the view reads again by itself while an email is due, and
  // Refresh reads at once; ask until the state arrives.
  const refresh = page.getByRole("button", { name: "Refresh" });
  await until(async () => {
    if (await item.locator(".badge.email-sent").count()) return true;
    await refresh.click();
    await page.waitForTimeout(250);
    return false;
  });
  await item.getByText("Email sent", { exact: true }).waitFor();
  // The server says the same of every email about this token.
  const mine = (await t.api("GET", "/v1/notifications")).body.notifications.filter((n) => n.token_id === made.token.id);
  assert.ok(mine.length >= 1);
  for (const n of mine) {
    assert.equal(n.email?.state, "sent", `${n.to}: sent`);
    assert.equal(n.email.last_error, null);
  }
  await page.getByText(/^Each notification is also emailed to the person it is for\. Emails: \d+ sent/).waitFor();
  assert.doesNotMatch(await page.locator("main").innerText(), /\b(null|undefined|NaN)\b/, "no stray null on the page");
  await page.screenshot({ path: `${SHOTS}/47-notifications-email-states.png` }); // the newest: the whole list is long

  // Retrying and given up (the Email Service refuses nothing here): the same list, with those states.
  const soon = new Date(Date.now() + 5 * 60_000 + 30_000).toISOString();
  await page.route(
    "**/v1/notifications",
    async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      body.notifications[0].email = {
        state: "pending",
        attempts: 2,
        last_error: "Email Service answered 503",
        next_attempt_at: soon,
      };
      body.notifications[1].email = {
        state: "failed",
        attempts: 8,
        last_error: "recipient refused",
        next_attempt_at: null,
      };
      body.notifications[2].email = {
        state: "failed",
        attempts: 0,
        last_error: "the recipient was deactivated",
        next_attempt_at: null,
      };
      body.notifications[3].email = { state: "pending", attempts: 0, last_error: null, next_attempt_at: null };
      await route.fulfill({ response: res, json: body });
    },
    { times: 1 },
  );
  await refresh.click();
  const notes = page.locator("ul.notes > li");
  await notes.nth(0).getByText("Email pending", { exact: true }).waitFor();
  assert.equal(
    await notes.nth(0).locator(".email-state").innerText(),
    "Email pending 2 attempts failed (Email Service answered 503); next try in 5 minutes.",
  );
  assert.equal(
    await notes.nth(1).locator(".email-state").innerText(),
    "Email failed Given up after 8 attempts: recipient refused",
  );
  assert.equal(
    await notes.nth(2).locator(".email-state").innerText(),
    "Email failed Not sent: the recipient was deactivated",
  );
  assert.equal(await notes.nth(3).locator(".email-state").innerText(), "Email pending Goes out within seconds.");
  await page.getByText(/Emails: \d+ sent, 2 pending, 2 failed\./).waitFor();
  await page.screenshot({ path: `${SHOTS}/50-notifications-email-retrying.png` });
  await page.unroute("**/v1/notifications");
});

test("organisation: emails turned off (only that is sent), a new notification is not emailed, and on again", async () => {
  const t = await setup();
  const { page } = t;
  await page.getByRole("link", { name: "Organisation" }).click();
  await page.getByRole("heading", { name: "Organisation", level: 1 }).waitFor();
  const box = page.getByRole("checkbox", { name: "Email notifications to their recipients" });
  const save = page.getByRole("button", { name: "Save" });
  assert.ok(await box.isChecked(), "on by default");
  assert.equal((await t.api("GET", "/v1/org")).body.policy.email_notifications, true);
  assert.ok(await save.isDisabled(), "nothing to save yet");
  const patches = recordRequests(page, "PATCH", "/v1/org");
  await box.uncheck();
  assert.ok(await save.isEnabled());
  await box.check();
  assert.ok(await save.isDisabled(), "back as stored: nothing to save");
  await box.uncheck();
  await save.click();
  await page.getByRole("status").getByText("Saved. Emails: notifications are not emailed.").waitFor();
  assert.deepEqual(patches.seen.at(-1).postDataJSON(), { policy: { email_notifications: false } }, "only what changed");
  assert.equal((await t.api("GET", "/v1/org")).body.policy.email_notifications, false);
  assert.ok(await save.isDisabled(), "saved: nothing left to save");
  assert.ok(await focused(box), "focus stays on what changed");
  await shot(page, "48-org-email-policy");
  await page.reload();
  await page.getByRole("heading", { name: "Organisation", level: 1 }).waitFor();
  assert.equal(await box.isChecked(), false, "the stored choice after a reload");

  // A change now notifies people in the page, and emails nobody.
  const quiet = await t.createToken({ label: "quiet token", role: "developer", kind: "org", scopes: ["billing"] });
  const told = (await t.api("GET", "/v1/notifications")).body.notifications.filter(
    (n) => n.token_id === quiet.token.id,
  );
  assert.ok(told.length >= 1);
  for (const n of told) assert.equal(n.email, null, `${n.to}: not emailed`);
  await page.getByRole("link", { name: "Notifications" }).click();
  const item = createdNote(page, "quiet token");
  await item.getByText("Not emailed", { exact: true }).waitFor();
  await item.getByText("Email notifications were off for this organisation.").waitFor();
  await item.screenshot({ path: `${SHOTS}/51-notification-not-emailed.png` });

  await page.getByRole("link", { name: "Organisation" }).click();
  await box.check();
  await save.click();
  await page.getByRole("status").getByText("Saved. Emails: each notification is emailed to its recipient.").waitFor();
  patches.stop();
  assert.deepEqual(patches.seen.at(-1).postDataJSON(), { policy: { email_notifications: true } });
  assert.equal((await t.api("GET", "/v1/org")).body.policy.email_notifications, true);
});

test("organisation: the email choice is read-only for a keyward:read session", async () => {
  const t = await setup({ signedIn: false });
  const reader = (await t.createToken({ label: "Email reader", role: "admin", kind: "org", scopes: ["keyward:read"] }))
    .secret;
  const p = await signedIn(reader);
  await p.getByRole("link", { name: "Organisation" }).click();
  const box = p.getByRole("checkbox", { name: "Email notifications to their recipients" });
  assert.ok(await box.isChecked());
  assert.ok(await box.isDisabled(), "no change");
});

test("a link to a token (#/tokens/<id>, as in the emails) opens its details: loaded, on hashchange, after signing in; an unknown one says so", async () => {
  const t = await setup();
  const { page } = t;
  const { laptop } = await developer(t);
  const linked = await t.createToken({ label: "linked token", role: "developer", kind: "org", scopes: ["billing"] });
  const id = linked.token.id;
  // what an email links to: PUBLIC_URL (this page's origin) + /#/tokens/<id>
  const link = new URL(`/#/tokens/${id}`, base).href;
  // a page load at the link (not a hashchange), signed in already in this tab
  await page.evaluate(() => (window.before = true));
  await page.goto("about:blank");
  await page.goto(link);
  assert.equal(await page.evaluate(() => window.before), undefined, "a new page");
  const dialog = page.getByRole("dialog", { name: "“linked token”" });
  await dialog.waitFor();
  await dialog.getByText(linked.token.masked, { exact: true }).waitFor();
  await dialog.getByRole("img", { name: "No verifications in the last 30 days" }).waitFor();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.equal(await page.locator("#tab-tokens").getAttribute("aria-current"), "page");
  await page.screenshot({ path: `${SHOTS}/49-token-deep-link.png` });
  await page.keyboard.press("Escape");
  await closed(dialog);
  assert.equal(await page.evaluate(() => location.hash), "#/tokens", "closed: the list's own address");
  const label = row(page, "linked token").getByRole("button", { name: "Details and usage of linked token" });
  await until(() => focused(label), 2_000);
  assert.equal(await page.getByRole("dialog").count(), 0, "opened once");

  // hashchange: the notification's own link to the token
  await page.getByRole("link", { name: "Notifications" }).click();
  await createdNote(page, "linked token")
    .getByRole("link", { name: `Open the token ${linked.token.masked}` })
    .click();
  await dialog.waitFor();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  await page.keyboard.press("Escape");
  await closed(dialog);

  // an unknown id, and a link that names no token: a message, no crash
  await page.evaluate(() => (location.hash = "#/tokens/tok_00000000000000000000"));
  const lost = page.getByRole("dialog", { name: "Token not found" });
  await lost
    .getByText("No token with the id tok_00000000000000000000 is within your reach.", { exact: false })
    .waitFor();
  await lost.screenshot({ path: `${SHOTS}/52-token-link-not-found.png` });
  await lost.getByRole("button", { name: "Show the tokens" }).click();
  await closed(lost);
  assert.equal(await page.evaluate(() => location.hash), "#/tokens");
  await page.evaluate(() => (location.hash = "#/tokens/%E0%A4%A"));
  await lost.getByText("That link does not name a token.").waitFor();
  await page.keyboard.press("Escape");
  await closed(lost);
  await page.getByRole("heading", { name: "API tokens" }).waitFor();

  // signed out: the link waits for the sign-in, then opens
  const p = await newPage();
  await p.goto(link);
  await p.getByLabel("API token").fill(t.secret);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("dialog", { name: "“linked token”" }).getByText(linked.token.masked, { exact: true }).waitFor();
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.equal(await p.getByRole("dialog").count(), 1, "opened once");

  // out of reach: a developer's session does not see an org token
  const d = await newPage();
  await d.goto(link);
  await d.getByLabel("API token").fill(laptop.secret);
  await d.getByRole("button", { name: "Sign in" }).click();
  const refused = d.getByRole("dialog", { name: "Token not found" });
  await refused.getByText("a developer sees only their own tokens", { exact: false }).waitFor();
  assert.equal(await d.getByText(linked.token.masked).count(), 0, "nothing of the token shown");
});

// ---------------------------------------------------------------- keyboard, developers, narrow, idle

test("dialogs trap focus and give it back; everything works from the keyboard", async () => {
  const { page } = await setup();
  const opener = page.getByRole("button", { name: "Create token" });
  await opener.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Create an API token" });
  await dialog.waitFor();
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press("Tab");
    assert.ok(await page.evaluate(() => Boolean(document.activeElement?.closest("dialog"))), `tab ${i} stays inside`);
  }
  await page.keyboard.press("Shift+Tab");
  assert.ok(await page.evaluate(() => Boolean(document.activeElement?.closest("dialog"))));
  await page.keyboard.press("Escape");
  await closed(dialog);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "create-token", "focus returns to the opener");
  // visible focus ring
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).boxShadow);
  assert.notEqual(ring, "none");
});

test("a developer sees only their own tokens and no admin sections", async () => {
  const t = await setup();
  const { page } = t;
  const { laptop } = await developer(t);
  await t.createToken({ label: "CI deploy", role: "developer", kind: "org", scopes: ["billing"] }); // not theirs
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("API token").fill(laptop.secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Members" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Audit log" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Organisation" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Webhook" }).count(), 0, "no webhook for a developer");
  await row(page, "dev laptop").waitFor();
  const rows = page.locator("tbody tr");
  assert.equal(await rows.count(), 2, "dev laptop and dev script, nothing else");
  await page.getByText("2 of 10 personal tokens").waitFor();
  await shot(page, "16-developer-view");
  // the wizard offers no org kind and no admin role to a developer
  await page.getByRole("button", { name: "Create token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an API token" });
  await dialog.getByLabel("Name").fill("second laptop");
  await dialog.getByRole("button", { name: "Next" }).click();
  assert.equal(await dialog.locator("option[value=org]").count(), 0);
  assert.ok(await dialog.locator("option[value=admin]").isDisabled());
  await page.keyboard.press("Escape");
});

test("works at 360 px wide", async () => {
  const t = await setup({ signedIn: false });
  const { laptop } = await developer(t);
  const page = await signedIn(laptop.secret, { width: 360, height: 780 });
  await page.reload();
  await row(page, "dev laptop").waitFor();
  assert.ok((await overflow(page)) <= 0, `no sideways scrolling (${await overflow(page)}px)`);
  await shot(page, "17-narrow-360");
});

test("signs out after 30 minutes without input (Playwright's clock), closing any dialog", async () => {
  const { secret: adminSecret } = await setup({ signedIn: false });
  const p = await newPage();
  await p.clock.install();
  await signIn(p, adminSecret);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  await p.clock.fastForward("29:00");
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  await p.keyboard.press("Shift"); // input moves the deadline
  await p.clock.fastForward("29:00");
  await p.getByRole("button", { name: "Create token" }).click(); // still signed in, and more input
  const dialog = p.getByRole("dialog", { name: "Create an API token" });
  await dialog.waitFor();
  await p.clock.fastForward("29:59");
  assert.equal(await dialog.count(), 1, "not yet");
  await p.clock.fastForward("00:02");
  await p.getByText(IDLE).waitFor();
  await closed(dialog);
  await p.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await p.evaluate(() => sessionStorage.getItem("keyward.token")), null, "token forgotten");
  assert.equal(await p.getByRole("link", { name: "Tokens" }).isVisible(), false, "no sections left");
  await shot(p, "24-idle-signed-out");
  // A tab the browser put to sleep and reloads later: the reload is not activity.
  await signIn(p, adminSecret);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  const now = await p.evaluate(() => Date.now());
  await p.clock.setSystemTime(now + 31 * 60 * 1000); // time moves, no timer runs
  await p.reload();
  await p.getByText(IDLE).waitFor();
  assert.equal(await p.evaluate(() => sessionStorage.getItem("keyward.token")), null, "token forgotten");
});
