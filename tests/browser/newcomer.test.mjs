// What a newcomer tripped on, each checked at 1280 and at 360 px wide: a rotated token's old
// secret and until when it works, what Read and Manage reach for each role, one error for a
// malformed token at sign-in, the last active admin told before a deactivation, the token
// list's search and sort, an empty webhook log naming only what is on screen, and the tabs and
// the audit log at 360 px. Each test makes its own organisation. Screenshots 80-95 in
// test-results/screenshots/.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { SHOTS, apiAs, closed, orgWithApi, signIn, suite } from "./harness.mjs";

let base;
const WIDTHS = [1280, 360];
const s = suite();
before(async () => ({ base } = await s.ready));

function newPage(width = 1280) {
  return s.page({ viewport: { width, height: width > 400 ? 900 : 780 } });
}

/** A session signed in with `secret` at `width`, on the token list. */
async function signedIn(secret, width) {
  const p = await newPage(width);
  await signIn(p, base, secret);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  return p;
}

/** A fresh organisation and its first admin's API (harness.mjs). */
const setup = () => orgWithApi(base);

const row = (p, label) => p.locator("tbody tr", { has: p.getByText(label, { exact: true }) });
const shot = (p, name) => p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
/** How far the page scrolls sideways (0 or less: it fits). */
const overflow = (p) => p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
async function fits(p, what) {
  const o = await overflow(p);
  assert.ok(o <= 0, `${what} fits ${p.viewportSize().width} px (${o} px too wide)`);
}

test("after a rotation with a grace period, the list and the details say until when the old secret works", async () => {
  const t = await setup();
  const graced = await t.ok("POST", "/v1/tokens", { label: "CI deploy", role: "developer", kind: "org" });
  const rotated = await t.ok("POST", `/v1/tokens/${graced.token.id}/rotate`, { grace_seconds: 3600 });
  const until = rotated.token.previous_valid_until;
  assert.ok(Date.parse(until) > Date.now() + 3500_000, "the server keeps the old secret for an hour");
  const at = await t.ok("POST", "/v1/tokens", { label: "at once", role: "developer", kind: "org" });
  await t.ok("POST", `/v1/tokens/${at.token.id}/rotate`, { grace_seconds: 0 });
  for (const width of WIDTHS) {
    const p = await signedIn(t.secret, width);
    const note = row(p, "CI deploy").getByText("Old secret works until");
    await note.waitFor();
    assert.equal(await note.locator("time").getAttribute("datetime"), until, "the server's grace end");
    assert.equal(await note.locator("time").getAttribute("title"), new Date(until).toUTCString(), "exact on hover");
    assert.equal(await row(p, "at once").getByText("Old secret").count(), 0, "no grace, nothing said");
    await fits(p, "the list with the note");
    await shot(p, `80-grace-in-list-${width}`);
    await row(p, "CI deploy").getByRole("button", { name: "Details and usage of CI deploy" }).click();
    const details = p.getByRole("dialog", { name: "“CI deploy”" });
    const rotation = details.getByRole("definition").filter({ hasText: "Old secret works until" });
    await rotation.waitFor();
    assert.equal(await rotation.locator("time").last().getAttribute("datetime"), until);
    await details.getByRole("term").filter({ hasText: "Secret rotated" }).waitFor();
    await details.screenshot({ path: `${SHOTS}/81-grace-in-details-${width}.png` });
    await p.keyboard.press("Escape");
    await closed(details);
    await row(p, "at once").getByRole("button", { name: "Details and usage of at once" }).click();
    const other = p.getByRole("dialog", { name: "“at once”" });
    await other.getByRole("term").filter({ hasText: "Secret rotated" }).waitFor();
    assert.equal(await other.getByText("Old secret").count(), 0, "no grace, nothing said in the details either");
    await p.keyboard.press("Escape");
    await closed(other);
  }
});

test("the wizard says what Read and Manage reach for each role, as the server answers", async () => {
  const t = await setup();
  // What a Read token actually gets: a developer's, their own tokens and no members or audit;
  // an admin's, the members, the audit log and the organisation's settings too.
  const dev = await t.ok("POST", "/v1/members", { email: "dev@acme.io", name: "Dev Eloper", role: "developer" });
  const read = { kind: "personal", scopes: ["keyward:read"] };
  const devRead = await t.ok("POST", "/v1/tokens", {
    ...read,
    label: "dev reader",
    role: "developer",
    owner_member_id: dev.id,
  });
  const adminRead = await t.ok("POST", "/v1/tokens", { ...read, label: "admin reader", role: "admin" });
  const asDev = apiAs(base, devRead.secret);
  const asAdmin = apiAs(base, adminRead.secret);
  assert.equal((await asDev("GET", "/v1/tokens")).status, 200);
  for (const path of ["/v1/members", "/v1/audit"]) {
    assert.equal((await asDev("GET", path)).status, 403, `a developer's Read token: ${path}`);
    assert.equal((await asAdmin("GET", path)).status, 200, `an admin's Read token: ${path}`);
  }
  assert.equal((await asAdmin("GET", "/v1/org")).status, 200, "an admin's Read token: the settings");
  for (const width of WIDTHS) {
    const p = await signedIn(t.secret, width);
    await p.getByRole("button", { name: "Create token" }).click();
    const dialog = p.getByRole("dialog", { name: "Create an API token" });
    await dialog.getByLabel("Name").fill("reader");
    await dialog.getByRole("button", { name: "Next" }).click();
    const choice = dialog.getByRole("group", { name: "Access to keyward itself" });
    await choice.getByRole("radio", { name: /^Read: see what its role reaches, change nothing/ }).waitFor();
    await choice.getByRole("radio", { name: /^Manage: see, create and change what its role reaches/ }).waitFor();
    await choice
      .getByText(
        "What its role reaches: a developer token, its owner's own tokens; an admin token, every token, the members, the audit log and the organisation's settings.",
      )
      .waitFor();
    assert.equal(await dialog.getByText("see tokens, members and the audit log").count(), 0, "the old promise is gone");
    assert.match(await choice.getAttribute("aria-describedby"), /-reach\b/, "read out with the choice");
    await fits(p, "the wizard's Access step");
    await dialog.screenshot({ path: `${SHOTS}/82-wizard-role-reach-${width}.png` });
    await p.keyboard.press("Escape");
    await closed(dialog);
  }
});

test("a malformed token at sign-in shows one error, not two", async () => {
  for (const width of WIDTHS) {
    const p = await newPage(width);
    await p.goto(base);
    const input = p.getByLabel("API token");
    await input.fill("kw_nope");
    await p.getByText("Not a keyward token yet (pattern or checksum).").waitFor(); // while typing: a hint
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.getByText("This is not a keyward token (pattern or checksum).").waitFor();
    assert.equal(await p.getByText(/not a keyward token/i).count(), 1, "one message");
    assert.equal(await input.getAttribute("aria-invalid"), "true");
    await fits(p, "the sign-in screen");
    await p
      .locator("form.panel")
      .first()
      .screenshot({ path: `${SHOTS}/83-sign-in-malformed-${width}.png` });
    // typing again clears the error; the hint is back
    await input.fill("kw_nop");
    await p.getByText("Not a keyward token yet (pattern or checksum).").waitFor();
    assert.equal(await p.getByText(/not a keyward token/i).count(), 1, "still one");
    assert.equal(await input.getAttribute("aria-invalid"), null);
  }
});

test("deactivating the last active admin: the dialog says so before, and offers no Deactivate", async () => {
  const t = await setup();
  for (const width of WIDTHS) {
    const p = await signedIn(t.secret, width);
    const patches = [];
    p.on("request", (r) => r.method() === "PATCH" && patches.push(r.url()));
    await p.locator("#tabs").getByRole("link", { name: "Members" }).click();
    const ada = p.locator("tbody tr", { hasText: "ada@acme.io" });
    await ada.getByRole("button", { name: "Deactivate" }).click();
    const dialog = p.getByRole("dialog", { name: "Deactivate Ada Admin?" });
    await dialog
      .getByRole("alert")
      .getByText("Ada Admin is the organisation's last active admin, so they cannot be deactivated")
      .waitFor();
    assert.equal(await dialog.getByRole("button", { name: "Deactivate" }).count(), 0, "no Deactivate");
    assert.equal(await dialog.getByText("What happens at once").count(), 0, "no effect previewed");
    await fits(p, "the dialog");
    await dialog.screenshot({ path: `${SHOTS}/84-last-admin-${width}.png` });
    await dialog.getByRole("button", { name: "OK", exact: true }).click();
    await closed(dialog);
    assert.deepEqual(patches, [], "nothing sent");
  }
  // The server's rule, which the page follows: with a second active admin, Ada may go.
  const bea = await t.ok("POST", "/v1/members", { email: "bea@acme.io", name: "Bea Admin", role: "admin" });
  const p = await signedIn(t.secret);
  await p.locator("#tabs").getByRole("link", { name: "Members" }).click();
  await p.locator("tbody tr", { hasText: "ada@acme.io" }).getByRole("button", { name: "Deactivate" }).click();
  const dialog = p.getByRole("dialog", { name: "Deactivate Ada Admin?" });
  await dialog.getByText("What happens at once").waitFor();
  await dialog.getByRole("button", { name: "Deactivate" }).waitFor();
  assert.equal(await dialog.getByText("last active admin").count(), 0);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await closed(dialog);
  // ...and a deactivated admin is no admin left: Bea deactivated, Ada is the last again.
  await t.ok("PATCH", `/v1/members/${bea.id}`, { status: "deactivated" });
  await p.reload();
  await p.locator("tbody tr", { hasText: "ada@acme.io" }).getByRole("button", { name: "Deactivate" }).click();
  await p.getByRole("dialog").getByText("last active admin").waitFor();
  assert.equal((await t.api("PATCH", `/v1/members/${t.member.id}`, { status: "deactivated" })).status, 409);
});

test("the token list: a search (label, masked token, owner) and a sort (newest first by default, label, expiry)", async () => {
  const t = await setup();
  const dev = await t.ok("POST", "/v1/members", { email: "dev@acme.io", name: "Dev Eloper", role: "developer" });
  const make = (label, days, extra = {}) =>
    t.ok("POST", "/v1/tokens", { label, role: "developer", kind: "org", expires_in_days: days, ...extra });
  // one a second: created_at counts seconds
  const pause = () => new Promise((r) => setTimeout(r, 1_050));
  const alpha = await make("alpha", 90);
  await pause();
  await make("Charlie", 7);
  await pause();
  await make("bravo", 30);
  await make("dev script", 180, { kind: "personal", owner_member_id: dev.id });
  const { tokens } = await t.ok("GET", "/v1/tokens");
  assert.equal(tokens.length, 5);
  const labels = (list) => list.map((x) => x.label);
  const time = (iso) => (iso ? Date.parse(iso) : Infinity);
  const byLabel = (a, b) => a.label.localeCompare(b.label, undefined, { sensitivity: "base", numeric: true });
  const newest = [...tokens].sort((a, b) => time(b.created_at) - time(a.created_at) || byLabel(a, b));
  assert.equal(labels(newest).at(-1), "Initial admin token", "made with the organisation, before the others");
  assert.ok(labels(newest).indexOf("bravo") < labels(newest).indexOf("Charlie"), "bravo is newer than Charlie");
  assert.ok(labels(newest).indexOf("Charlie") < labels(newest).indexOf("alpha"), "Charlie is newer than alpha");
  const soonest = [...tokens].sort((a, b) => time(a.expires_at) - time(b.expires_at) || byLabel(a, b));
  assert.equal(labels(soonest)[0], "Charlie", "7 days");
  assert.equal(labels(soonest).at(-1), "dev script", "180 days");

  for (const width of WIDTHS) {
    const p = await signedIn(t.secret, width);
    const shown = () => p.locator("main tbody tr:not([hidden]) button.link").allInnerTexts();
    const search = p.getByRole("searchbox", { name: "Search tokens" });
    const sort = p.getByRole("combobox", { name: "Sort tokens" });
    const count = p.locator(".match-count");
    assert.equal(await sort.inputValue(), "newest", "newest first by default");
    assert.deepEqual(await shown(), labels(newest));
    await fits(p, "the list with its search and sort");
    await shot(p, `85-token-search-sort-${width}`);

    await sort.selectOption("label");
    assert.deepEqual(await shown(), ["alpha", "bravo", "Charlie", "dev script", "Initial admin token"]);
    await sort.selectOption("expires");
    assert.deepEqual(await shown(), labels(soonest));

    // the label, any case
    await search.fill("CHAR");
    assert.deepEqual(await shown(), ["Charlie"]);
    assert.equal(await count.innerText(), "1 of 5 tokens match.");
    // the masked token: its last four characters
    await search.fill(alpha.token.masked.slice(-4));
    assert.deepEqual(await shown(), ["alpha"]);
    // the owner, by name or email
    await search.fill("eloper");
    assert.deepEqual(await shown(), ["dev script"]);
    await search.fill("ada@acme");
    assert.deepEqual(await shown(), ["Initial admin token"]);
    await search.fill("nothing like it");
    assert.deepEqual(await shown(), []);
    await count.getByText("No token matches").waitFor();
    await shot(p, `86-token-search-none-${width}`);
    // the search and the status filter together; a change repaints the list and keeps both
    await search.fill("a");
    await p.getByRole("combobox", { name: "Filter by status" }).selectOption("active");
    const before = await shown();
    await row(p, "bravo").getByRole("button", { name: "Disable bravo" }).click();
    await row(p, "bravo").getByText("disabled by an admin").waitFor({ state: "attached" });
    assert.equal(await search.inputValue(), "a", "the search stays");
    assert.deepEqual(
      await shown(),
      before.filter((l) => l !== "bravo"),
      "bravo is no longer active",
    );
    await search.fill("");
    await p.getByRole("combobox", { name: "Filter by status" }).selectOption("");
    await sort.selectOption("newest");
    await t.ok("POST", `/v1/tokens/${tokens.find((x) => x.label === "bravo").id}/enable`);
  }
});

test("an empty delivery log names only what is on screen", async () => {
  const t = await setup();
  const reader = await t.ok("POST", "/v1/tokens", {
    label: "Hook reader",
    role: "admin",
    kind: "org",
    scopes: ["keyward:read"],
  });
  const log = (p) => p.locator("section.deliveries");
  for (const width of WIDTHS) {
    // no webhook: no Send test on screen, and the log does not mention one
    const p = await signedIn(t.secret, width);
    await p.locator("#tabs").getByRole("link", { name: "Webhook" }).click();
    await log(p).getByText("Nothing sent yet. Set a webhook above").waitFor();
    assert.equal(await p.getByRole("button", { name: "Send test" }).count(), 0);
    assert.equal(await log(p).getByText("Send test").count(), 0, "no button, no mention");
    await fits(p, "the webhook section");
    await shot(p, `87-webhook-empty-log-${width}`);
  }
  // a webhook set: Send test is there, and the log says so
  await t.ok("PUT", "/v1/org/webhook", { url: "http://127.0.0.1:9/hook", events: ["token.revoked"] });
  const p = await signedIn(t.secret);
  await p.locator("#tabs").getByRole("link", { name: "Webhook" }).click();
  await p.getByRole("button", { name: "Send test" }).waitFor();
  await log(p).getByText("Send test, above, sends one now.").waitFor();
  // a read-only session has no Send test: the log does not mention it
  const r = await signedIn(reader.secret);
  await r.locator("#tabs").getByRole("link", { name: "Webhook" }).click();
  await log(r).getByText("Nothing sent yet. Deliveries show here as keyward sends them.").waitFor();
  assert.equal(await log(r).getByText("Send test").count(), 0);
});

test("at 360 px every tab is in sight, and audit entries wrap instead of being cut", async () => {
  const t = await setup();
  await t.ok("POST", "/v1/members", {
    email: "someone.with.a.rather.long.address@example-company.io",
    name: "Someone Longname",
    role: "developer",
  });
  const long = await t.ok("POST", "/v1/tokens", {
    label: "A rather long label for the deploy pipeline",
    role: "developer",
    kind: "org",
  });
  await t.ok("POST", `/v1/tokens/${long.token.id}/rotate`, { grace_seconds: 3600 });
  for (const width of WIDTHS) {
    const p = await signedIn(t.secret, width);
    const tabs = p.locator("#tabs a");
    assert.equal(await tabs.count(), 7);
    for (const tab of await tabs.all()) {
      const box = await tab.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= width, `${await tab.innerText()} in sight (${box.x}+${box.width})`);
    }
    const [scroll, client] = await p.evaluate(() => [
      document.getElementById("tabs").scrollWidth,
      document.getElementById("tabs").clientWidth,
    ]);
    assert.ok(scroll <= client, `no tab scrolled out of the bar (${scroll} > ${client})`);
    await p.locator("#tabs").getByRole("link", { name: "Audit log" }).click();
    await p.getByRole("heading", { name: "Audit log" }).waitFor();
    await p.locator("main tbody tr").first().waitFor();
    const cut = await p.evaluate(() =>
      [...document.querySelectorAll("main td, main .table-wrap")]
        .filter((el) => el.scrollWidth > el.clientWidth + 1)
        .map((el) => `${el.dataset.label ?? el.className}: ${el.scrollWidth} > ${el.clientWidth}`),
    );
    assert.deepEqual(cut, [], "nothing in the audit log is cut");
    await p.getByText("someone.with.a.rather.long.address@example-company.io").first().waitFor();
    await fits(p, "the audit log");
    await shot(p, `88-audit-and-tabs-${width}`);
  }
});
