// Rate limits, credits and metadata on the admin page, in real headless Chromium against the
// built Worker: the wizard's "Limits & metadata" step sends exactly what was filled in, and
// nothing while a field is wrong (each error next to its field, as the server's rules word it);
// the edit dialog sets a balance, removes a limit or the credits, and sends If-Match; the list
// shows a small credits bar and the limit; the details show meta as text, never as markup; the
// usage chart counts the rate-limited and usage-exceeded refusals apart. Each test makes its own
// organisation. Screenshots 100-109 in test-results/screenshots/.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { SHOTS, closed, orgWithApi, signIn, suite } from "./harness.mjs";

let base;
const s = suite();
before(async () => ({ base } = await s.ready));

/** A session signed in with `secret`, on the token list. */
async function signedIn(secret, width = 1280) {
  const p = await s.page({ viewport: { width, height: width > 400 ? 900 : 780 } });
  await signIn(p, base, secret);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  return p;
}

/** A fresh organisation and its first admin's API (harness.mjs). */
const setup = () => orgWithApi(base);

const shot = (p, name) => p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const row = (p, label) => p.locator("tbody tr", { has: p.getByText(label, { exact: true }) });
/** The error shown under the field of `key` (`credits.refill.interval`, …) in `scope`. */
const fieldError = (scope, key) => scope.locator(`.field[data-field="${key}"] .field-error`);
const focused = (locator) => locator.evaluate((el) => el === document.activeElement);
const verify = async (token, extra = {}) =>
  (
    await (
      await fetch(new URL("/v1/verify", base), { method: "POST", body: JSON.stringify({ token, ...extra }) })
    ).json()
  ).code;

/** The ETag of token `id`, read with `secret`. */
const etagOf = async (secret, id) =>
  (await fetch(new URL(`/v1/tokens/${id}`, base), { headers: { authorization: `Bearer ${secret}` } })).headers.get(
    "etag",
  );

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

/** Open the wizard, name the token, tick billing and go to the Limits & metadata step. */
async function toLimitsStep(p, label) {
  await p.getByRole("button", { name: "Create token" }).click();
  const dialog = p.getByRole("dialog", { name: "Create an API token" });
  await dialog.getByLabel("Name").fill(label);
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByLabel("Kind").selectOption("org");
  await dialog.getByLabel("billing").check();
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog.getByRole("group", { name: "Rate limit" }).waitFor();
  return dialog;
}

/**
 * The credits and limit of `label`'s row (under its scopes): { cell, meter, text }, read in one
 * step in the page (the list repaints as credits change: a meter seen a moment ago may be gone).
 * A row caught mid-repaint reads as empty, so callers polling with until() ask again.
 */
async function limitsCell(p, label) {
  const cell = row(p, label).locator(".metering");
  if (!(await cell.count())) return { cell, meter: null, text: "" };
  const read = (el) => {
    const m = el.querySelector("meter");
    const meter = m && {
      value: Number(m.getAttribute("value")),
      max: Number(m.getAttribute("max")),
      name: m.getAttribute("aria-label"),
    };
    return { meter, text: el.innerText.trim() };
  };
  const seen = await cell
    .first()
    .evaluate(read, undefined, { timeout: 2000 })
    .catch(() => ({ meter: null, text: "" }));
  return { cell, ...seen };
}

const META = { plan: "pro", seats: 3, tags: ["eu", "beta"] };

test("the wizard sets a rate limit, credits with a monthly refill, an external id and meta: the view holds exactly them", async () => {
  const t = await setup();
  const page = await signedIn(t.secret);
  const posts = recordRequests(page, "POST", "/v1/tokens");
  const dialog = await toLimitsStep(page, "Metered");
  await dialog.getByLabel("Valid verifications").fill("5");
  await dialog.getByLabel("Per", { exact: true }).fill("1");
  await dialog.getByLabel("Period unit").selectOption("min");
  await dialog.getByLabel("Starting balance").fill("1000");
  const day = dialog.getByLabel("Day of the month");
  assert.equal(await day.isVisible(), false, "no day of the month without a monthly refill");
  assert.equal(await dialog.getByLabel("Refill to").isVisible(), false, "no amount without a refill");
  await dialog.getByLabel("Refill", { exact: true }).selectOption("day");
  await dialog.getByLabel("Refill to").waitFor();
  assert.equal(await day.isVisible(), false, "a daily refill has no day of the month");
  await dialog.getByLabel("Refill", { exact: true }).selectOption("month");
  await dialog.getByLabel("Refill to").fill("1000");
  await day.fill("15");
  await dialog.getByLabel("External id").fill("cus_42");
  await dialog.getByLabel("Meta", { exact: true }).fill(JSON.stringify(META, null, 1));
  assert.equal(await dialog.locator(".field-error:not(:empty)").count(), 0, "no error");
  await shot(page, "100-wizard-limits");
  await dialog.getByRole("button", { name: "Next" }).click();
  const dd = (text) => dialog.getByRole("definition").filter({ hasText: text });
  await dd("5 per 60 s (1 min)").waitFor();
  await dd("1000 to start · refilled to 1000 every month on the 15th").waitFor();
  await dd("cus_42").waitFor();
  assert.deepEqual(JSON.parse(await dialog.locator("pre.meta-json").textContent()), META);
  await shot(page, "101-wizard-overview-limits");
  await dialog.getByRole("button", { name: "Create token" }).click();
  const secret = await dialog.getByLabel("New token secret").inputValue();
  await dialog.getByRole("button", { name: "Done" }).click();
  await closed(dialog);
  posts.stop();

  // Sent: what was filled in, as the API takes it.
  assert.equal(posts.seen.length, 1);
  const sent = posts.seen[0].postDataJSON();
  assert.deepEqual(sent.ratelimit, { limit: 5, period_s: 60 });
  assert.deepEqual(sent.credits, { remaining: 1000, refill: { amount: 1000, interval: "month", day_of_month: 15 } });
  assert.equal(sent.external_id, "cus_42");
  assert.deepEqual(sent.meta, META);
  // Held: exactly that.
  const id = await row(page, "Metered").getAttribute("data-id");
  const view = await t.ok("GET", `/v1/tokens/${id}`);
  assert.deepEqual(view.ratelimit, { limit: 5, period_s: 60 });
  assert.deepEqual(view.credits, {
    remaining: 1000,
    refill: { amount: 1000, interval: "month", day_of_month: 15 },
  });
  assert.equal(view.external_id, "cus_42");
  assert.deepEqual(view.meta, META);

  // The list: a bar of the credits against the refill amount, the number, and the limit.
  const cell = await limitsCell(page, "Metered");
  assert.deepEqual(cell.meter, {
    value: 1000,
    max: 1000,
    name: "Credits: 1000 of 1000 left, refilled to 1000 every month on the 15th",
  });
  assert.equal(cell.text, "1000 credits\nlimit 5 per 60 s");
  // A verification spends a credit; the list says so once it repaints.
  assert.equal(await verify(secret), "VALID");
  await page.reload();
  await until(async () => (await limitsCell(page, "Metered")).meter?.value === 999);
  assert.match((await limitsCell(page, "Metered")).text, /^999 credits/);
  await shot(page, "102-tokens-limits");
  const [scroll, client] = await page.evaluate(() => {
    const w = document.querySelector(".table-wrap");
    return [w.scrollWidth, w.clientWidth];
  });
  assert.ok(scroll <= client, `the list with its limits fits 1280 px, actions included (${scroll} > ${client})`);
});

test("errors on the Limits & metadata step show on their fields, block Next and send nothing; an empty step sets nothing", async () => {
  const t = await setup();
  const page = await signedIn(t.secret);
  // What the server answers for a hash in meta, to hold the page's live message against.
  const hashy = { note: "a".repeat(64) };
  const refused = await t.api("POST", "/v1/tokens", { label: "x", role: "developer", kind: "org", meta: hashy });
  assert.equal(refused.status, 422);
  const serverSays = refused.body.errors.meta;
  const posts = recordRequests(page, "POST", "/v1/tokens");
  const dialog = await toLimitsStep(page, "Broken");

  const limit = dialog.getByLabel("Valid verifications");
  await limit.fill("0");
  await fieldError(dialog, "ratelimit.limit").getByText("must be between 1 and 1000000", { exact: true }).waitFor();
  assert.equal(await limit.getAttribute("aria-invalid"), "true");
  const meta = dialog.getByLabel("Meta", { exact: true });
  await meta.fill("{plan: pro}");
  await fieldError(dialog, "meta").getByText("is not valid JSON", { exact: false }).waitFor();
  assert.equal(await meta.getAttribute("aria-invalid"), "true");
  await dialog.getByLabel("Refill", { exact: true }).selectOption("month");
  await dialog.getByLabel("Day of the month").fill("29");
  await fieldError(dialog, "credits.refill.day_of_month").getByText("must be between 1 and 28").waitFor();
  await dialog.getByLabel("External id").fill("has space");
  await fieldError(dialog, "external_id").waitFor();
  // Next shows every error of the step, the ones not yet touched too, and stays on the step.
  await dialog.getByRole("button", { name: "Next" }).click();
  await fieldError(dialog, "credits.refill.amount").getByText("is required").waitFor();
  await fieldError(dialog, "credits.remaining").getByText("is required").waitFor();
  assert.ok(await focused(dialog.locator("[aria-invalid]").first()), "focus on the first bad field");
  assert.equal(await dialog.getByRole("button", { name: "Create token" }).count(), 0, "no overview");
  await shot(page, "103-wizard-limits-errors");

  // meta that is JSON but holds a hash: the server's own rule, word for word
  await meta.fill(JSON.stringify(hashy));
  await fieldError(dialog, "meta").getByText(serverSays, { exact: true }).waitFor();
  // a daily refill takes no day of the month: the field goes, and so does its error
  await dialog.getByLabel("Refill", { exact: true }).selectOption("day");
  await dialog.getByLabel("Day of the month").waitFor({ state: "hidden" });
  await dialog.getByRole("button", { name: "Next" }).click();
  assert.equal(await dialog.getByRole("button", { name: "Create token" }).count(), 0, "still no overview");
  assert.equal(posts.seen.length, 0, "nothing was sent");

  // Emptied, the step sets nothing: no key is sent, the view holds none.
  await limit.fill("");
  await meta.fill("");
  await dialog.getByLabel("Refill", { exact: true }).selectOption("");
  await dialog.getByLabel("External id").fill("");
  assert.equal(await dialog.locator(".field-error:not(:empty)").count(), 0, "every error gone");
  await dialog.getByRole("button", { name: "Next" }).click();
  await dialog
    .getByRole("definition")
    .filter({ hasText: /^No limit$/ })
    .waitFor();
  await dialog
    .getByRole("definition")
    .filter({ hasText: /^No credits$/ })
    .waitFor();
  await dialog.getByRole("button", { name: "Create token" }).click();
  await dialog.getByLabel("New token secret").waitFor();
  await dialog.getByRole("button", { name: "Done" }).click();
  await closed(dialog);
  posts.stop();
  assert.equal(posts.seen.length, 1);
  const sent = posts.seen[0].postDataJSON();
  for (const key of ["ratelimit", "credits", "meta", "external_id"]) assert.ok(!(key in sent), `no ${key} sent`);
  const view = await t.ok("GET", `/v1/tokens/${await row(page, "Broken").getAttribute("data-id")}`);
  assert.deepEqual([view.ratelimit, view.credits, view.meta, view.external_id], [null, null, null, null]);
  // a list where no token has limits says scopes only
  await page.getByRole("columnheader", { name: "Scopes", exact: true }).waitFor();
});

test("the edit dialog sets a balance (the bar follows), removes the limit and the credits, and sends If-Match", async () => {
  const t = await setup();
  const created = await t.ok("POST", "/v1/tokens", {
    label: "Paid API",
    role: "developer",
    kind: "org",
    scopes: ["billing"],
    ratelimit: { limit: 5, period_s: 3600 },
    credits: { remaining: 1000, refill: { amount: 1000, interval: "month", day_of_month: 15 } },
    meta: { plan: "pro" },
  });
  const id = created.token.id;
  const page = await signedIn(t.secret);
  await page.getByRole("columnheader", { name: "Scopes & limits" }).waitFor();
  assert.equal((await limitsCell(page, "Paid API")).meter.value, 1000);
  // the admin's own token has no limits: nothing under its scopes
  assert.equal((await limitsCell(page, "Initial admin token")).meter, null);
  const patches = recordRequests(page, "PATCH", `/v1/tokens/${id}`);
  const edit = page.getByRole("dialog", { name: "Edit “Paid API”" });
  const open = async () => {
    await row(page, "Paid API").getByRole("button", { name: "Edit Paid API" }).click();
    await edit.waitFor();
  };

  // Prefilled from the view; the balance is a field of its own, empty: left so, it is kept.
  await open();
  assert.equal(await edit.getByLabel("Valid verifications").inputValue(), "5");
  assert.equal(await edit.getByLabel("Per", { exact: true }).inputValue(), "1");
  assert.equal(await edit.getByLabel("Period unit").inputValue(), "h");
  assert.equal(await edit.getByLabel("Refill", { exact: true }).inputValue(), "month");
  assert.equal(await edit.getByLabel("Refill to").inputValue(), "1000");
  assert.equal(await edit.getByLabel("Day of the month").inputValue(), "15");
  assert.deepEqual(JSON.parse(await edit.getByLabel("Meta", { exact: true }).inputValue()), { plan: "pro" });
  const balance = edit.getByLabel("Set balance to");
  assert.equal(await balance.inputValue(), "");
  await edit
    .getByText("Now 1000 left · refilled to 1000 every month on the 15th. Leave empty to keep the balance.")
    .waitFor();
  await balance.fill("-1");
  await fieldError(edit, "credits.remaining").getByText("must be between 0 and 1000000000").waitFor();
  await edit.getByRole("button", { name: "Save" }).click();
  assert.ok(await focused(balance), "Save stays on the bad field");
  await page.waitForTimeout(200);
  assert.equal(patches.seen.length, 0, "nothing sent");
  await balance.fill("250");
  const tag = await etagOf(t.secret, id);
  await shot(page, "104-edit-limits");
  await edit.getByRole("button", { name: "Save" }).click();
  await closed(edit);
  let sent = patches.seen.at(-1);
  assert.deepEqual(sent.postDataJSON().credits, { remaining: 250 }, "the balance alone; the refill kept");
  for (const key of ["ratelimit", "meta", "external_id"]) assert.ok(!(key in sent.postDataJSON()), `${key} unchanged`);
  assert.equal(sent.headers()["if-match"], tag, "If-Match: the ETag the dialog read");
  await until(async () => (await limitsCell(page, "Paid API")).meter?.value === 250);
  const after = await limitsCell(page, "Paid API");
  assert.equal(after.meter.max, 1000, "still against the refill amount");
  assert.equal(after.text, "250 credits\nlimit 5 per 3600 s");
  let view = await t.ok("GET", `/v1/tokens/${id}`);
  assert.deepEqual(view.credits, { remaining: 250, refill: { amount: 1000, interval: "month", day_of_month: 15 } });
  await shot(page, "105-tokens-balance-set");

  // Remove the limit: sent as null, gone from the list; the credits stay.
  await open();
  await edit.getByLabel("Remove the rate limit").check();
  await edit.getByLabel("Valid verifications").waitFor({ state: "hidden" });
  await edit.getByRole("button", { name: "Save" }).click();
  await closed(edit);
  sent = patches.seen.at(-1).postDataJSON();
  assert.equal(sent.ratelimit, null);
  assert.ok(!("credits" in sent), "credits unchanged");
  await until(async () => (await limitsCell(page, "Paid API")).text === "250 credits");
  view = await t.ok("GET", `/v1/tokens/${id}`);
  assert.equal(view.ratelimit, null);
  assert.equal(view.credits.remaining, 250);

  // Someone else changes it meanwhile: the page's If-Match no longer holds, nothing is overwritten.
  await open();
  await t.ok("PATCH", `/v1/tokens/${id}`, { description: "changed elsewhere" });
  await edit.getByLabel("Refill", { exact: true }).selectOption("");
  await edit.getByRole("button", { name: "Save" }).click();
  await closed(edit);
  await page.locator("#toast").getByText("was changed elsewhere meanwhile").waitFor();
  view = await t.ok("GET", `/v1/tokens/${id}`);
  assert.ok(view.credits.refill, "the refill was not removed");
  await row(page, "Paid API").getByText("changed elsewhere").waitFor();

  // Remove the refill, then the credits; with no token metered the column goes.
  await open();
  await edit.getByLabel("Refill", { exact: true }).selectOption("");
  await edit.getByRole("button", { name: "Save" }).click();
  await closed(edit);
  assert.deepEqual(patches.seen.at(-1).postDataJSON().credits, { refill: null });
  // without a refill there is no full mark to draw a bar against: the number alone, named
  await until(async () => (await limitsCell(page, "Paid API")).text.startsWith("250 credits"));
  const plain = await limitsCell(page, "Paid API");
  assert.equal(plain.meter, null);
  assert.equal(await plain.cell.locator(".credits").getAttribute("title"), "Credits: 250 left, no refill");
  await open();
  await edit.getByLabel("Remove the credits").check();
  await edit.getByRole("button", { name: "Save" }).click();
  await closed(edit);
  patches.stop();
  assert.equal(patches.seen.at(-1).postDataJSON().credits, null);
  await page.getByRole("columnheader", { name: "Scopes", exact: true }).waitFor();
  assert.equal(await row(page, "Paid API").locator(".metering").count(), 0, "nothing under its scopes");
  view = await t.ok("GET", `/v1/tokens/${id}`);
  assert.deepEqual([view.ratelimit, view.credits], [null, null]);
});

test("the edit dialog adds a limit and credits to a token without, and changes its metadata", async () => {
  const t = await setup();
  const created = await t.ok("POST", "/v1/tokens", {
    label: "Plain",
    role: "developer",
    kind: "org",
    external_id: "cus_1",
    meta: { plan: "free" },
  });
  const id = created.token.id;
  const page = await signedIn(t.secret);
  const patches = recordRequests(page, "PATCH", `/v1/tokens/${id}`);
  const edit = page.getByRole("dialog", { name: "Edit “Plain”" });
  await row(page, "Plain").getByRole("button", { name: "Edit Plain" }).click();
  assert.equal(await edit.getByLabel("Remove the rate limit").count(), 0, "nothing to remove");
  assert.equal(await edit.getByLabel("External id").inputValue(), "cus_1");
  await edit.getByLabel("Valid verifications").fill("100");
  await edit.getByLabel("Per", { exact: true }).fill("2");
  await edit.getByLabel("Period unit").selectOption("h");
  await edit.getByLabel("Starting balance").fill("50");
  await edit.getByLabel("Refill", { exact: true }).selectOption("day");
  await edit.getByLabel("Refill to").fill("50");
  const meta = edit.getByLabel("Meta", { exact: true });
  await meta.fill('{"plan": "team",}');
  await fieldError(edit, "meta").getByText("is not valid JSON", { exact: false }).waitFor();
  await edit.getByRole("button", { name: "Save" }).click();
  assert.ok(await focused(meta));
  await page.waitForTimeout(200);
  assert.equal(patches.seen.length, 0, "meta that is not JSON is never sent");
  await meta.fill('{"plan": "team"}');
  await edit.getByLabel("External id").fill("");
  await edit.getByRole("button", { name: "Save" }).click();
  await closed(edit);
  patches.stop();
  const sent = patches.seen[0].postDataJSON();
  assert.deepEqual(sent.ratelimit, { limit: 100, period_s: 7200 });
  assert.deepEqual(sent.credits, { remaining: 50, refill: { amount: 50, interval: "day" } });
  assert.deepEqual(sent.meta, { plan: "team" });
  assert.equal(sent.external_id, null, "an emptied external id is removed");
  const view = await t.ok("GET", `/v1/tokens/${id}`);
  assert.deepEqual(view.ratelimit, { limit: 100, period_s: 7200 });
  assert.deepEqual(view.credits, { remaining: 50, refill: { amount: 50, interval: "day" } });
  assert.deepEqual(view.meta, { plan: "team" });
  assert.equal(view.external_id, null);
  await until(async () => (await limitsCell(page, "Plain")).text === "50 credits\nlimit 100 per 7200 s");
});

test("the details show the external id, meta as text (markup in it stays text), the limit and the credits", async () => {
  const t = await setup();
  const meta = { note: "<img src=x onerror=alert(1)>", plan: "pro" };
  await t.ok("POST", "/v1/tokens", {
    label: "Customer 42",
    role: "developer",
    kind: "org",
    external_id: "cus_42",
    meta,
    ratelimit: { limit: 5, period_s: 60 },
    credits: { remaining: 812, refill: { amount: 1000, interval: "month", day_of_month: 15 } },
  });
  const page = await signedIn(t.secret);
  const dialogs = [];
  page.on("dialog", (d) => dialogs.push(d.message()) && d.dismiss());
  const fetched = [];
  page.on("request", (r) => new URL(r.url()).pathname === "/x" && fetched.push(r.url()));
  await row(page, "Customer 42").getByRole("button", { name: "Details and usage of Customer 42" }).click();
  const details = page.getByRole("dialog", { name: "“Customer 42”" });
  const fact = async (term) =>
    (
      await details
        .locator("dt", { hasText: new RegExp(`^${term}$`) })
        .locator("xpath=following-sibling::dd[1]")
        .innerText()
    ).trim();
  await details.getByText("Verifications, last 30 days").waitFor();
  assert.equal(await fact("External id"), "cus_42");
  assert.equal(await fact("Rate limit"), "5 per 60 s (1 min)");
  assert.equal(await fact("Credits"), "812 left · refilled to 1000 every month on the 15th");
  const pre = details.locator("pre.meta-json");
  assert.equal(await pre.textContent(), JSON.stringify(meta, null, 2), "pretty JSON, as text");
  assert.equal(await details.locator("img").count(), 0, "no element made from meta");
  await page.waitForTimeout(300);
  assert.deepEqual([dialogs, fetched], [[], []], "nothing in meta ran or loaded");
  // The list's bar: 812 against the refill amount.
  const cell = await limitsCell(page, "Customer 42");
  assert.deepEqual([cell.meter.value, cell.meter.max], [812, 1000]);
  await details.screenshot({ path: `${SHOTS}/106-details-limits.png` });
  await page.keyboard.press("Escape");
  await closed(details);
  // Credits spent after the list was drawn: the details read the token afresh.
  const id42 = (await t.ok("GET", "/v1/tokens?external_id=cus_42")).tokens[0].id;
  await t.ok("PATCH", `/v1/tokens/${id42}`, { credits: { remaining: 700 } });
  await row(page, "Customer 42").getByRole("button", { name: "Details and usage of Customer 42" }).click();
  await until(async () => (await fact("Credits")) === "700 left · refilled to 1000 every month on the 15th");
  await page.keyboard.press("Escape");
  await closed(details);
});

test("the usage chart counts rate-limited and usage-exceeded refusals apart from valid and other refused ones", async () => {
  const t = await setup();
  const { secret, token } = await t.ok("POST", "/v1/tokens", {
    label: "Metered probe",
    role: "developer",
    kind: "org",
    scopes: ["billing"],
    ratelimit: { limit: 2, period_s: 3600 },
    credits: { remaining: 10 },
  });
  const id = token.id;
  const codes = [];
  for (let i = 0; i < 3; i++) codes.push(await verify(secret, { scopes: ["billing"] }));
  codes.push(await verify(secret, { scopes: ["audit"] }));
  assert.deepEqual(codes, ["VALID", "VALID", "RATE_LIMITED", "INSUFFICIENT_SCOPE"]);
  await t.ok("PATCH", `/v1/tokens/${id}`, { ratelimit: null, credits: { remaining: 0 } });
  assert.equal(await verify(secret), "USAGE_EXCEEDED");
  const today = async () => (await t.ok("GET", `/v1/tokens/${id}/usage`)).days.at(-1);
  await until(async () => {
    const d = await today();
    return d.valid === 2 && d.refused === 3 && d.rate_limited === 1 && d.usage_exceeded === 1;
  });

  const page = await signedIn(t.secret);
  const spark = row(page, "Metered probe").locator("svg.sparkline");
  assert.equal(
    await spark.getAttribute("aria-label"),
    "Last 30 days: 2 valid and 3 refused verifications (1 rate limited, 1 usage exceeded)",
  );
  for (const cls of ["valid", "refused", "limited", "exceeded"]) {
    assert.equal(await spark.locator(`rect.${cls}`).count(), 1, `a ${cls} bar`);
  }
  await row(page, "Metered probe").getByRole("button", { name: "Details and usage of Metered probe" }).click();
  const details = page.getByRole("dialog", { name: "“Metered probe”" });
  const chart = details.getByRole("img", {
    name: /^Last 30 days: 2 valid and 3 refused verifications \(1 rate limited, 1 usage exceeded\); busiest day \d{4}-\d\d-\d\d \(5\)$/,
  });
  await chart.waitFor();
  const last = chart.locator("g.day").last();
  assert.match(
    await last.locator("title").textContent(),
    /^\d{4}-\d\d-\d\d: 2 valid, 3 refused \(1 rate limited, 1 usage exceeded\)$/,
  );
  const height = async (cls) => Number(await last.locator(`rect.${cls}`).getAttribute("height"));
  assert.equal(await height("refused"), await height("limited"), "one other refusal, one rate-limited");
  assert.equal(await height("limited"), await height("exceeded"));
  assert.ok((await height("valid")) > (await height("limited")), "two valid above one");
  const legend = await details.locator(".legend .legend-item").allInnerTexts();
  assert.deepEqual(
    legend.map((s) => s.trim()),
    ["Valid 2", "Other refused 1", "Rate limited 1", "Usage exceeded 1"],
  );
  await details.getByText("Show the numbers").click();
  const heads = await details.locator(".usage-numbers th").allTextContents();
  assert.deepEqual(heads, ["Day (UTC)", "Valid", "Refused", "Of them rate limited", "Of them usage exceeded"]);
  assert.deepEqual((await details.locator(".usage-numbers tbody tr td").allInnerTexts()).slice(1), [
    "2",
    "3",
    "1",
    "1",
  ]);
  await details.screenshot({ path: `${SHOTS}/107-usage-metered.png` });
});

test("at 360 px the Limits & metadata step and the list's limits fit", async () => {
  const t = await setup();
  await t.ok("POST", "/v1/tokens", {
    label: "Narrow",
    role: "developer",
    kind: "org",
    ratelimit: { limit: 5, period_s: 60 },
    credits: { remaining: 3, refill: { amount: 10, interval: "day" } },
  });
  const page = await signedIn(t.secret, 360);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await row(page, "Narrow").locator("meter").waitFor();
  assert.ok((await overflow()) <= 0, "the list fits");
  await shot(page, "108-narrow-limits");
  const dialog = await toLimitsStep(page, "Narrow two");
  await dialog.getByLabel("Refill", { exact: true }).selectOption("month");
  assert.ok((await overflow()) <= 0, "the step fits");
  const [scroll, client] = await dialog.evaluate((d) => [d.scrollWidth, d.clientWidth]);
  assert.ok(scroll <= client, `the dialog does not scroll sideways (${scroll} > ${client})`);
  await dialog.screenshot({ path: `${SHOTS}/109-narrow-wizard-limits.png` });
});
