// Rate limits, credits and metadata on the admin page, in real headless Chromium against the
// built Worker: the wizard's "Limits & metadata" step sends exactly what was filled in, and
// nothing while a field is wrong (each error next to its field, as the server's rules word it);
// the edit dialog sets a balance, removes a limit or the credits, and sends If-Match; the list
// shows a small credits bar and the limit; the details show meta as text, never as markup; the
// usage chart counts the rate-limited and usage-exceeded refusals apart. Each test makes its own
// organisation. Screenshots 100-109 in test-results/screenshots/.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { SHOTS, closed, orgWithApi, problems, signIn, start, watch } from "./harness.mjs";

let mf, base, browser;
const contexts = [];

before(async () => {
  ({ mf, base, browser } = await start());
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => {})));
  assert.deepEqual(problems.splice(0), [], "no Content Security Policy violation and no page error");
});

after(async () => {
  await browser?.close();
  await mf?.dispose();
});

/** A session signed in with `secret`, on the token list. */
async function signedIn(secret, width = 1280) {
  const ctx = await browser.newContext({ viewport: { width, height: width > 400 ? 900 : 780 } });
  contexts.push(ctx);
  const p = await ctx.newPage();
  await watch(p);
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

/** The credits and limit of `label`'s row (under its scopes): { meter, text }. */
async function limitsCell(p, label) {
  const cell = row(p, label).locator(".metering");
  if (!(await cell.count())) return { meter: null, text: "" };
  const meter = cell.locator("meter");
  return {
    cell,
    meter: (await meter.count())
      ? {
          value: Number(await meter.getAttribute("value")),
          max: Number(await meter.getAttribute("max")),
          name: await meter.getAttribute("aria-label"),
        }
      : null,
    text: (await cell.innerText()).trim(),
  };
}

const META = { plan: "pro", seats: 3, tags: ["eu", "beta"] };

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
