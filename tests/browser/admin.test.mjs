// The admin page in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// against the built Worker with its static assets, exactly as `make dev` serves them.
// Screenshots of each screen go to test-results/screenshots/ (git-ignored) for people to look at.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { Miniflare } from "miniflare";
import { chromium } from "playwright-core";

const OPERATOR = "browser-operator-secret";
const SHOTS = "test-results/screenshots";
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

let mf, base, browser, context, page;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mf = new Miniflare({
    modules: true,
    scriptPath: "build/index.js",
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["TOKENS"],
    kvPersist: false,
    durableObjects: { ORGS: { className: "OrgAuthority", useSQLite: true } },
    durableObjectsPersist: false,
    bindings: { OPERATOR_SECRET: OPERATOR, TOKEN_PREFIX: "kw", ALLOWED_ORIGINS: "" },
    assets: { directory: "www", routerConfig: { has_user_worker: true } },
    host: "127.0.0.1",
    port: 0,
  });
  base = String(await mf.ready);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(base).origin });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (e) => assert.fail(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await mf?.dispose();
});

const shot = (name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const verify = async (token) =>
  (await (await fetch(new URL("/v1/verify", base), { method: "POST", body: JSON.stringify({ token }) })).json()).code;
const row = (label) => page.locator("tbody tr", { has: page.getByText(label, { exact: true }) });

let adminSecret;

test("first run creates an org and signs in with its admin token", async () => {
  await page.goto(base);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await shot("01-sign-in");
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
  adminSecret = await secretInput.inputValue();
  assert.match(adminSecret, /^kw_[0-9A-Za-z]{36}$/);
  await shot("02-first-run-secret");
  await page.getByRole("button", { name: "Sign in with this token" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("keyward.token")), adminSecret);
  assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing in localStorage");
  await page.getByText("1 of 10 personal tokens").waitFor();
});

let ciSecret;

test("the create wizard validates live, shows the secret once and never again", async () => {
  await page.getByRole("button", { name: "Create token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an API token" });
  await dialog.waitFor();
  // live validation from the wasm rules, next to the field
  await dialog.getByLabel("Name").fill("x".repeat(65));
  await dialog.getByText("must be at most 64 characters").waitFor();
  await dialog.getByLabel("Name").fill("CI deploy");
  assert.equal(await dialog.getByText("must be at most 64 characters").count(), 0);
  await dialog.getByLabel("Logo (PNG, JPEG or WebP, up to 32 KiB)").setInputFiles({ name: "fake.png", mimeType: "image/png", buffer: Buffer.from("GIF89a") });
  await dialog.getByText("is not a png image").waitFor();
  await dialog.getByLabel("Logo (PNG, JPEG or WebP, up to 32 KiB)").setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: PNG });
  await dialog.getByAltText("Logo preview").waitFor();
  await dialog.getByLabel("Description (optional)").fill("Deploys from CI");
  await shot("03-wizard-general");
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByLabel("billing").check();
  await dialog.getByLabel("Expires").selectOption("90");
  await shot("04-wizard-access");
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByText("in 90 days").waitFor();
  await dialog.getByRole("definition").filter({ hasText: "billing" }).waitFor();
  await shot("05-wizard-overview");
  await dialog.getByRole("button", { name: "Create token" }).click();
  const secretInput = dialog.getByLabel("New token secret");
  await secretInput.waitFor();
  await dialog.getByText("It is shown only this once").waitFor();
  assert.equal(await secretInput.getAttribute("type"), "password");
  await dialog.getByRole("button", { name: "Show" }).click();
  assert.equal(await secretInput.getAttribute("type"), "text");
  ciSecret = await secretInput.inputValue();
  await shot("06-secret-shown-once");
  await dialog.getByRole("button", { name: "Copy" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ciSecret);
  await dialog.getByRole("button", { name: "Done" }).click();
  await dialog.waitFor({ state: "detached" });
  assert.equal(await verify(ciSecret), "VALID");
  // never again: not in the page, not after a reload
  await row("CI deploy").waitFor();
  assert.ok(!(await page.content()).includes(ciSecret));
  await page.reload();
  await row("CI deploy").waitFor();
  assert.ok(!(await page.content()).includes(ciSecret));
  const masked = `kw_••••••••${ciSecret.slice(-4)}`;
  await row("CI deploy").getByText(masked).waitFor();
  for (const col of ["Personal", "Ada Admin", "developer", "billing", "Active"]) {
    assert.ok((await row("CI deploy").innerText()).includes(col), `row shows ${col}`);
  }
  // it was just verified, so "Last used" is a time (exact UTC on hover), not "Never"
  const lastUsed = row("CI deploy").locator('td[data-label="Last used"] time');
  assert.match(await lastUsed.getAttribute("title"), /GMT$/);
  assert.ok(await row("CI deploy").locator("img.logo-thumb").count(), "logo in the row");
  await page.getByText("2 of 10 personal tokens").waitFor();
  await shot("07-tokens-list");
});

test("revoke needs the exact label; re-approve, rotate and delete", async () => {
  await row("CI deploy").getByRole("button", { name: "Revoke CI deploy" }).click();
  let dialog = page.getByRole("dialog", { name: "Revoke “CI deploy”?" });
  const confirm = dialog.getByLabel("Type the label “CI deploy” to confirm");
  const go = dialog.getByRole("button", { name: "Revoke", exact: true });
  assert.ok(await go.isDisabled());
  await confirm.fill("ci deploy");
  assert.ok(await go.isDisabled(), "a wrong label keeps the button off");
  await shot("08-revoke-wrong-label");
  await confirm.fill("CI deploy");
  assert.ok(await go.isEnabled());
  await go.click();
  await dialog.waitFor({ state: "detached" });
  await row("CI deploy").getByText("Revoked", { exact: true }).waitFor();
  assert.equal(await verify(ciSecret), "REVOKED");
  await shot("09-revoked");

  await row("CI deploy").getByRole("button", { name: "Re-approve CI deploy" }).click();
  await row("CI deploy").getByText("Active", { exact: true }).waitFor();
  assert.equal(await verify(ciSecret), "VALID");

  await row("CI deploy").getByRole("button", { name: "Rotate CI deploy" }).click();
  dialog = page.getByRole("dialog", { name: "Rotate “CI deploy”" });
  await dialog.getByLabel("Grace period for the old secret").selectOption("300");
  await dialog.getByRole("button", { name: "Rotate" }).click();
  const rotated = await dialog.getByLabel("New token secret").inputValue();
  assert.notEqual(rotated, ciSecret);
  await shot("10-rotated-secret");
  await dialog.getByRole("button", { name: "Done" }).click();
  await dialog.waitFor({ state: "detached" });
  assert.equal(await verify(rotated), "VALID");
  assert.equal(await verify(ciSecret), "VALID", "old secret in its 5-minute grace");
  await row("CI deploy").getByText(`kw_••••••••${rotated.slice(-4)}`).waitFor();
  assert.ok(!(await page.content()).includes(rotated));

  await row("CI deploy").getByRole("button", { name: "Delete CI deploy" }).click();
  dialog = page.getByRole("dialog", { name: "Delete “CI deploy”?" });
  await dialog.getByLabel("Type the label “CI deploy” to confirm").fill("CI deploy");
  await dialog.getByRole("button", { name: "Delete", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  await row("CI deploy").waitFor({ state: "detached" });
  assert.equal(await verify(rotated), "NOT_FOUND");
});

let devSecret;

test("members: add, and the deactivation cascade is shown before it happens", async () => {
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
  // give the developer a token through the API, as another admin tool would
  const res = await fetch(new URL("/v1/tokens", base), {
    method: "POST",
    headers: { authorization: `Bearer ${adminSecret}` },
    body: JSON.stringify({ label: "dev laptop", role: "developer", kind: "personal", owner_member_id: devId }),
  });
  devSecret = (await res.json()).secret;
  await page.reload();
  await devRow.getByRole("button", { name: "Deactivate" }).click();
  const dialog = page.getByRole("dialog", { name: "Deactivate Dev Eloper?" });
  await dialog.getByText("1 personal token(s) of Dev Eloper stop working (OWNER_DEACTIVATED).").waitFor();
  await dialog.getByText("dev laptop").waitFor();
  await shot("11-deactivate-cascade");
  await dialog.getByRole("button", { name: "Deactivate" }).click();
  await devRow.getByText("deactivated").waitFor();
  assert.equal(await verify(devSecret), "OWNER_DEACTIVATED");
  await devRow.getByRole("button", { name: "Reactivate" }).click();
  await devRow.getByRole("button", { name: "Deactivate" }).waitFor();
  assert.equal(await verify(devSecret), "VALID");
  await shot("12-members");
});

test("audit log and notifications", async () => {
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  for (const a of ["token.created", "token.revoked", "token.reapproved", "token.rotated", "token.deleted", "member.updated"]) {
    assert.ok(await page.getByText(a, { exact: true }).count(), a);
  }
  await shot("13-audit");
  await page.getByRole("link", { name: "Notifications" }).click();
  await page.getByRole("heading", { name: "Notifications" }).waitFor();
  await page.getByText("[Acme] API token \"CI deploy\" created").waitFor();
  assert.ok(!(await page.content()).includes(ciSecret.slice(3, 33)));
  await shot("14-notifications");
});

test("check a token: the wasm format check at once, then the server's verdict", async () => {
  await page.getByRole("link", { name: "Check a token" }).click();
  const input = page.getByLabel("Token", { exact: true });
  await input.fill("kw_nope");
  await page.getByText("Format: MALFORMED").waitFor();
  await input.fill(devSecret);
  await page.getByText(`Format: well formed (kw_••••••••${devSecret.slice(-4)})`).waitFor();
  await page.getByRole("button", { name: "Verify with the server" }).click();
  await page.getByText(/^Server: VALID/).waitFor();
  await shot("15-check-token");
});

test("dialogs trap focus and give it back; everything works from the keyboard", async () => {
  await page.getByRole("link", { name: "Tokens" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
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
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.id), "create-token", "focus returns to the opener");
  // visible focus ring
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).boxShadow);
  assert.notEqual(ring, "none");
});

test("a developer sees only their own tokens and no admin sections", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("API token").fill(devSecret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Members" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Audit log" }).count(), 0);
  const rows = page.locator("tbody tr");
  assert.equal(await rows.count(), 1);
  await row("dev laptop").waitFor();
  await page.getByText("1 of 10 personal tokens").waitFor();
  await shot("16-developer-view");
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
  await page.setViewportSize({ width: 360, height: 780 });
  await page.reload();
  await row("dev laptop").waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px)`);
  await shot("17-narrow-360");
});
