// The admin page's loading, empty and error states in every view, and the audit log in people's
// names (who acted, with which token, on what), its filters and its pages. Failures and slow
// answers are simulated with Playwright's page.route: a 500 problem+json, or an answer held back.
// Screenshots 60-77 in test-results/screenshots/.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { OPERATOR, SHOTS, closed, problems, signIn, start, watch } from "./harness.mjs";

let mf, base, browser, page;
let admin; // the org's first admin: { secret, token }
const ids = {};

const shot = (name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
/** Call the API as the first admin (another admin tool would). */
async function call(method, path, body) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { authorization: `Bearer ${admin.secret}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status}`);
  return res.status === 204 ? null : res.json();
}
const PROBLEM = {
  status: 500,
  contentType: "application/problem+json",
  body: JSON.stringify({
    type: "about:blank",
    title: "Internal Server Error",
    status: 500,
    code: "INTERNAL",
    detail: "The org authority did not answer (simulated).",
  }),
};
/** A route matcher for exactly this API path (any query); the same function for the same path, as unroute needs. */
const matchers = new Map();
const path = (p) => {
  if (!matchers.has(p)) matchers.set(p, (url) => url.pathname === p);
  return matchers.get(p);
};
/** Go to a section by its tab, leaving it first when it is already on screen (a fresh load). */
async function open(tab, heading = tab) {
  const current = await page.locator("#tabs a[aria-current]").textContent();
  if (current === tab) await page.getByRole("link", { name: tab === "Tokens" ? "Check a token" : "Tokens" }).click();
  await page.locator("#tabs").getByRole("link", { name: tab, exact: true }).click();
  if (heading) await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
}
const rows = () => page.locator("main tbody tr");

before(async () => {
  ({ mf, base, browser } = await start());
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ctx.newPage();
  await watch(page);
  const res = await fetch(new URL("/v1/orgs", base), {
    method: "POST",
    headers: { authorization: `Bearer ${OPERATOR}` },
    body: JSON.stringify({
      name: "Globex",
      modules: ["billing", "reports"],
      admin: { email: "gil@globex.io", name: "Gil Admin" },
    }),
  });
  admin = await res.json();
  await signIn(page, base, admin.secret);
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
});

afterEach(async () => {
  await page.unrouteAll({ behavior: "ignoreErrors" });
  assert.deepEqual(problems.splice(0), [], "no Content Security Policy violation and no page error");
});

after(async () => {
  await browser?.close();
  await mf?.dispose();
});

test("an org with only its admin: the members view shows just them, and says so", async () => {
  await open("Members");
  assert.equal(await rows().count(), 1);
  await rows().getByText("Gil Admin", { exact: true }).waitFor();
  await page.getByText("Gil Admin is the only member so far.").waitFor();
  await page.getByText("Add a member below").waitFor();
  await page.getByRole("heading", { name: "Add a member" }).waitFor();
  await shot("64-empty-members");
});

test("empty states: no tokens (with a way to create one), no audit events, no notifications, no webhook", async () => {
  // Every signed-in caller has a token of its own, so an empty list is simulated.
  await page.route(path("/v1/tokens"), (r) => r.fulfill({ json: { tokens: [], cursor: null } }));
  await open("Tokens", "API tokens");
  await page.getByText("No tokens yet — create one to get started.").waitFor();
  await shot("63-empty-tokens");
  await page.getByRole("button", { name: "Create your first token" }).click();
  const wizard = page.getByRole("dialog", { name: "Create an API token" });
  await wizard.waitFor();
  await wizard.getByRole("button", { name: "Cancel" }).click();
  await closed(wizard);

  await page.route(path("/v1/audit"), (r) => r.fulfill({ json: { events: [], cursor: null } }));
  await open("Audit log");
  await page.getByText("No audit events yet.").waitFor();
  assert.equal(await page.locator("#audit-more").count(), 0, "nothing more to load");
  await shot("65-empty-audit");

  await page.route(path("/v1/notifications"), (r) => r.fulfill({ json: { notifications: [] } }));
  await open("Notifications");
  await page.getByText("No notifications yet.").waitFor();
  await shot("68-empty-notifications");

  await open("Webhook");
  await page.getByText("No webhook is set: keyward sends no events.").waitFor();
  await page.getByText("Nothing sent yet.").waitFor();
  await shot("69-empty-webhook");
});

test("a view that cannot load says so, with Retry that loads it (tokens, members, audit, notifications, webhook)", async () => {
  const views = [
    { tab: "Tokens", heading: "API tokens", api: "/v1/tokens", name: "66-error-tokens" },
    { tab: "Members", heading: "Members", api: "/v1/members", name: "70-error-members" },
    { tab: "Audit log", heading: "Audit log", api: "/v1/audit", name: "71-error-audit" },
    { tab: "Notifications", heading: "Notifications", api: "/v1/notifications", name: "72-error-notifications" },
    { tab: "Webhook", heading: "Webhook", api: "/v1/org/webhook/deliveries", name: "73-error-webhook" },
  ];
  for (const v of views) {
    await page.route(path(v.api), (r) => r.fulfill(PROBLEM));
    await open(v.tab, null);
    const alert = page.getByRole("alert").filter({ hasText: "Something went wrong" });
    await alert.getByText("The org authority did not answer (simulated).").waitFor();
    await shot(v.name);
    await page.unroute(path(v.api));
    await alert.getByRole("button", { name: "Retry" }).click();
    await page.getByRole("heading", { name: v.heading, level: 1 }).waitFor();
    await alert.waitFor({ state: "detached" });
    assert.equal(await page.locator("#tabs a[aria-current]").textContent(), v.tab, v.tab);
  }
});

test("the delivery log and the usage chart fail in place, with Retry", async () => {
  await open("Webhook");
  await page.route(path("/v1/org/webhook/deliveries"), (r) => r.fulfill(PROBLEM));
  await page.getByRole("button", { name: "Refresh" }).click();
  const log = page.locator("section.deliveries");
  await log.getByText("The delivery log could not be read").waitFor();
  await page.getByRole("heading", { name: "Webhook", level: 1 }).waitFor(); // the rest stays
  await shot("74-error-deliveries");
  await page.unroute(path("/v1/org/webhook/deliveries"));
  await log.getByRole("button", { name: "Retry" }).click();
  await log.getByText("Nothing sent yet.").waitFor();

  await open("Tokens", "API tokens");
  const usage = `/v1/tokens/${admin.token.id}/usage`;
  await page.route(path(usage), (r) => r.fulfill(PROBLEM));
  await page.getByRole("button", { name: "Details and usage of Initial admin token" }).click();
  const dialog = page.getByRole("dialog", { name: "“Initial admin token”" });
  await dialog.getByText("Usage could not be read").waitFor();
  await dialog.screenshot({ path: `${SHOTS}/75-error-usage.png` });
  await page.unroute(path(usage));
  await dialog.getByRole("button", { name: "Retry" }).click();
  await dialog.getByText("No verifications in the last 30 days: the chart fills").waitFor();
  await dialog.locator("svg.usage-chart").waitFor();
  await dialog.getByRole("button", { name: "Close" }).click();
  await closed(dialog);
});

test("a view says it is loading while the API is slow (tokens, audit, usage)", async () => {
  const hold = async (api, go, loading, name) => {
    let release;
    const gate = new Promise((r) => (release = r));
    await page.route(path(api), async (r) => {
      await gate;
      await r.continue();
    });
    await go();
    const status = page.getByRole("status").filter({ hasText: loading });
    await status.waitFor();
    await shot(name);
    release();
    await status.waitFor({ state: "detached" });
    await page.unroute(path(api));
  };
  await open("Members");
  await hold(
    "/v1/tokens",
    () => page.getByRole("link", { name: "Tokens" }).click(),
    "Loading tokens…",
    "67-loading-tokens",
  );
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  await hold(
    "/v1/audit",
    () => page.getByRole("link", { name: "Audit log" }).click(),
    "Loading the audit log…",
    "76-loading-audit",
  );
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  await open("Tokens", "API tokens");
  await hold(
    `/v1/tokens/${admin.token.id}/usage`,
    () => page.getByRole("button", { name: "Details and usage of Initial admin token" }).click(),
    "Loading usage…",
    "77-loading-usage",
  );
  await page.keyboard.press("Escape");
});

test("the audit log names people and tokens: who acted, with which token, on what; a deleted token greyed", async () => {
  const bea = await call("POST", "/v1/members", { email: "bea@globex.io", name: "Bea Dev", role: "developer" });
  ids.bea = bea.id;
  const bot = await call("POST", "/v1/tokens", {
    label: "Deploy bot",
    role: "developer",
    scopes: ["billing"],
    kind: "org",
    expires_in_days: 30,
  });
  ids.bot = bot.token.id;
  const temp = await call("POST", "/v1/tokens", {
    label: "Temp",
    role: "developer",
    scopes: [],
    kind: "org",
    expires_in_days: 7,
  });
  ids.temp = temp.token.id;
  await call("DELETE", `/v1/tokens/${ids.temp}`, { confirm_label: "Temp" });
  await call("POST", `/v1/tokens/${ids.bot}/disable`);

  await open("Audit log");
  const event = (action, target) =>
    rows()
      .filter({ has: page.locator(`td[data-label="Action"]`, { hasText: action }) })
      .filter({ hasText: target });
  const created = event("token.created", "Deploy bot");
  await created.locator('td[data-label="Who"]').getByText("Gil Admin", { exact: true }).waitFor();
  await created.locator('td[data-label="Who"]').getByText("<gil@globex.io>").waitFor();
  await created.locator('td[data-label="Who"]').getByText("Initial admin token", { exact: true }).waitFor();
  const link = created.locator('td[data-label="Target"] a');
  assert.equal(await link.getAttribute("href"), `#/tokens/${ids.bot}`);
  await created.locator('td[data-label="Target"] code').getByText(bot.token.masked).waitFor();
  const member = event("member.created", "Bea Dev");
  await member.locator('td[data-label="Target"]').getByText("<bea@globex.io>").waitFor();
  // the deleted token: its id, greyed
  const gone = event("token.deleted", ids.temp).locator('td[data-label="Target"] .gone');
  assert.equal(await gone.textContent(), `${ids.temp} (deleted)`);
  // the operator made the first admin token
  await event("token.created", "Initial admin token").locator('td[data-label="Who"]').getByText("operator").waitFor();
  assert.ok(!/\bnull\b|undefined/.test(await page.locator("main").innerText()), "no stray null");
  await shot("60-audit-names");

  // a token in the log opens its details
  await link.click();
  const dialog = page.getByRole("dialog", { name: "“Deploy bot”" });
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "Close" }).click();
  await closed(dialog);
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
});

test("who acted when no member did: keyward itself (an idle token), a leak report, or the operator", async () => {
  // Told by the server's acted_by, never guessed from the summary (which holds names people
  // chose: an org called "Acme by keyward" is still the operator's doing).
  const events = [
    ["token.disabled", `Disabled "Deploy bot" (kw_••••) by keyward: unused for 30 days`, "keyward"],
    ["token.revoked", `Revoked "idle by keyward" (kw_••••) on a leak report`, "report"],
    ["org.created", "Created the organisation Acme by keyward", "operator"],
  ].map(([action, summary, acted_by], i) => ({
    id: `evt_${i}`,
    at: new Date().toISOString(),
    action,
    actor_member_id: null,
    actor_token_id: null,
    acted_by,
    target_type: action.startsWith("org") ? "org" : "token",
    target_id: action.startsWith("org") ? admin.org.id : ids.bot,
    summary,
  }));
  await page.route(path("/v1/audit"), (r) => r.fulfill({ json: { events, cursor: null } }));
  await open("Audit log");
  const who = page.locator('td[data-label="Who"]');
  assert.deepEqual(await who.allTextContents(), ["keyward (automatic)", "leak report", "operator"]);
  await page.locator('td[data-label="Target"]').getByText("the organisation Globex").waitFor();
});

test("the audit log filters by token (the API's target and actor_token) and by action", async () => {
  await open("Audit log");
  const asked = [];
  page.on("request", (r) => new URL(r.url()).pathname === "/v1/audit" && asked.push(new URL(r.url()).searchParams));
  await page.getByLabel("Filter by token").selectOption(ids.bot);
  await page.getByText("events; that is all.").or(page.getByText("event; that is all.")).waitFor();
  assert.equal(asked.at(-1).get("target"), ids.bot);
  const targets = await page.locator('td[data-label="Target"] a').allTextContents();
  assert.ok(targets.length >= 2 && targets.every((t) => t === "Deploy bot"), targets.join());
  await page.getByLabel("Filter by action").selectOption("token.disabled");
  await page.locator("main tbody tr").first().waitFor();
  assert.equal(await rows().count(), 1, "only the disable");
  await page.getByText("1 of").waitFor();
  await shot("61-audit-filtered");
  // the token as the one that acted: the admin's own token
  await page.getByLabel("Filter by action").selectOption("");
  await page.getByLabel("Filter by token").selectOption(admin.token.id);
  const acting = page.waitForResponse((r) => new URL(r.url()).searchParams.get("actor_token") === admin.token.id);
  await page.getByLabel("The token's part").selectOption("actor");
  await acting;
  await page.getByText(/that is all|older ones remain/).waitFor();
  await rows().first().waitFor();
  for (const who of await page.locator('td[data-label="Who"]').allTextContents()) {
    assert.match(who, /Initial admin token/);
  }
  await page.getByLabel("Filter by action").selectOption("token.leaked");
  await page.getByText("No events match these filters.").waitFor();
});

test("the audit log loads more with its cursor, until there is no more", async () => {
  for (let i = 0; i < 55; i++) await call("PATCH", `/v1/tokens/${ids.bot}`, { description: `release ${i}` });
  await open("Audit log");
  assert.equal(await rows().count(), 50, "one page of 50");
  await page.getByText("50 events; older ones remain.").waitFor();
  const more = page.getByRole("button", { name: "Load more" });
  const next = page.waitForRequest((r) => new URL(r.url()).searchParams.has("cursor"));
  await more.click();
  await next;
  await page.getByText("events; that is all.").waitFor();
  assert.ok((await rows().count()) > 55, "the older events follow");
  assert.equal(await more.count(), 0, "no Load more after the last page");
  assert.ok(!/\bnull\b/.test(await page.locator("main").innerText()), "no stray null");
  await shot("62-audit-load-more");
});

test("a refusal the form has no field for is still told, not lost (the wizard's 422)", async () => {
  await open("Tokens", "API tokens");
  await page.route(path("/v1/tokens"), (r) =>
    r.request().method() === "POST"
      ? r.fulfill({
          status: 422,
          contentType: "application/problem+json",
          body: JSON.stringify({
            type: "about:blank",
            title: "Unprocessable",
            status: 422,
            code: "VALIDATION_FAILED",
            detail: "One or more fields are invalid; see errors.",
            errors: { junk: "unknown field" },
          }),
        })
      : r.fallback(),
  );
  await page.getByRole("button", { name: "Create token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an API token" });
  await dialog.getByLabel("Name").fill("refused");
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByLabel("Kind").selectOption("org");
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByRole("button", { name: "Next" }).click(); // past Limits & metadata
  await dialog.getByRole("button", { name: "Create token" }).click();
  await page.locator("#toast").getByText("junk unknown field").waitFor();
  await shot("78-wizard-unmapped-refusal");
  await dialog.getByRole("button", { name: "Close" }).click();
  await closed(dialog);
});

test("a token above the signed-in one shows no actions, only why (the server would answer 403)", async () => {
  // The first admin's own developer-role token with Manage, beside an admin-role token of theirs.
  const dev = await call("POST", "/v1/tokens", {
    label: "dev helper",
    role: "developer",
    kind: "personal",
    scopes: ["keyward:manage"],
  });
  await call("POST", "/v1/tokens", { label: "admin crown", role: "admin", kind: "personal", scopes: [] });
  await call("POST", "/v1/tokens", { label: "dev sibling", role: "developer", kind: "personal", scopes: ["billing"] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  await watch(p);
  try {
    await signIn(p, base, dev.secret);
    await p.getByRole("heading", { name: "API tokens" }).waitFor();
    const crown = p.locator("main tbody tr").filter({ hasText: "admin crown" });
    await crown.getByText("Above your token").waitFor();
    // (its label stays a button: it opens the details)
    const actions = crown.getByRole("button", { name: /^(Edit|Disable|Enable|Revoke|Re-approve|Rotate|Delete) / });
    assert.equal(await actions.count(), 0, "no Edit, Rotate or Delete on a stronger token");
    await crown.getByRole("button", { name: "Details and usage of admin crown" }).waitFor();
    const sibling = p.locator("main tbody tr").filter({ hasText: "dev sibling" });
    await sibling.getByRole("button", { name: "Rotate dev sibling" }).waitFor();
    assert.equal(await sibling.getByText("Above your token").count(), 0);
    await p.screenshot({ path: `${SHOTS}/78-token-above-the-caller.png`, fullPage: true });
  } finally {
    await ctx.close();
  }
});
