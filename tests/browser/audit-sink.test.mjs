// The audit sink on the admin page (issue #29): beside the webhook, an admin sets the Splunk HEC
// collector (kind fixed, URL, token), sees the token only masked once saved, sees audit events
// arrive at a real HEC-like receiver and in the sink's delivery log, and removes it. A
// keyward:read admin sees it without the form. Screenshots 95-97 in test-results/screenshots/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { SHOTS, closed, orgWithApi, signIn, suite } from "./harness.mjs";

const TOKEN = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

const s = suite();

/** A HEC-like receiver on loopback: records every POST, answers 200 as HEC does. */
async function collector() {
  const got = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.setHeader("content-type", "application/json");
      res.end('{"text":"Success","code":0}');
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/services/collector/event`;
  return { got, url, close: () => new Promise((r) => server.close(r)) };
}

async function webhookTab(secret, width = 1280) {
  const p = await s.page({ viewport: { width, height: 900 } });
  await signIn(p, s.base, secret);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  await p.locator("#tabs").getByRole("link", { name: "Webhook" }).click();
  await p.getByRole("heading", { name: "Audit sink", level: 1 }).waitFor();
  return p;
}

test("audit sink: set beside the webhook, its token shown only masked, events logged, and removed", async () => {
  const t = await orgWithApi(s.base);
  const rx = await collector();
  try {
    const p = await webhookTab(t.secret);
    await p.getByText("No audit sink is set").waitFor();
    const sinkForm = p.locator("form.sink-form");
    const kind = p.getByLabel("Kind");
    assert.equal(await kind.inputValue(), "Splunk HTTP Event Collector (HEC)");
    assert.ok(await kind.isDisabled(), "the kind is fixed");
    const url = p.getByLabel("HEC URL");
    const token = p.getByLabel("HEC token");
    assert.equal(await token.getAttribute("type"), "password");

    // Missing fields are said before anything is sent; the server's refusals on their fields.
    await p.getByRole("button", { name: "Set audit sink" }).click();
    await sinkForm.locator('.field[data-field="url"]').getByText("is required").waitFor();
    await sinkForm.locator('.field[data-field="token"]').getByText("is required").waitFor();
    await url.fill("ftp://splunk.example.com/services/collector");
    await token.fill("two words");
    await p.getByRole("button", { name: "Set audit sink" }).click();
    await sinkForm.locator('.field[data-field="url"]').getByText("must start with https:// or http://").waitFor();
    await sinkForm.locator('.field[data-field="token"]').getByText("must be printable ASCII without spaces").waitFor();
    assert.equal((await t.api("GET", "/v1/org/audit-sink")).status, 404, "nothing was set");

    await url.fill(rx.url);
    await token.fill(TOKEN);
    await p.getByRole("button", { name: "Set audit sink" }).click();
    await p.getByRole("status").getByText("Audit sink saved").waitFor();
    const masked = `••••••••${TOKEN.slice(-4)}`;
    await p.locator("code.sink-token", { hasText: masked }).waitFor();
    await p.getByText(rx.url, { exact: true }).waitFor();
    assert.equal(await p.getByLabel("HEC token").inputValue(), "", "the token field is empty once saved");
    assert.ok(!(await p.content()).includes(TOKEN), "the token is gone from the page");
    await p.reload();
    await p.getByRole("heading", { name: "Audit sink", level: 1 }).waitFor();
    await p.locator("code.sink-token", { hasText: masked }).waitFor();
    assert.ok(!(await p.content()).includes(TOKEN), "and not after a reload");
    assert.deepEqual((await t.api("GET", "/v1/org/audit-sink")).body.token_masked, masked);

    // An audited change reaches the collector, and the sink's log shows it delivered.
    await t.ok("POST", "/v1/members", { email: "b@acme.io", name: "B", role: "developer" });
    const deadline = Date.now() + 5000;
    while (!rx.got.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(rx.got.length, 1);
    assert.equal(rx.got[0].headers.authorization, `Splunk ${TOKEN}`);
    assert.equal(JSON.parse(rx.got[0].body).event.action, "member.created");
    const sinkLog = p.locator("section.deliveries", { has: p.getByRole("heading", { name: "Audit sink deliveries" }) });
    await sinkLog.getByRole("button", { name: "Reload" }).click();
    const row = sinkLog.locator("tr[data-state]", { hasText: "member.created" });
    await row.waitFor();
    await row.locator(".badge.delivery-delivered").waitFor();
    await p.screenshot({ path: `${SHOTS}/95-audit-sink.png`, fullPage: true });

    // Remove, confirmed: no sink, the log stays.
    await p.getByRole("button", { name: "Remove audit sink" }).click();
    const dialog = p.getByRole("dialog", { name: "Remove the audit sink?" });
    await dialog.getByRole("button", { name: "Remove" }).click();
    await closed(dialog);
    await p.getByText("No audit sink is set").waitFor();
    await sinkLog.locator("tr[data-state]", { hasText: "member.created" }).waitFor();
    assert.equal((await t.api("GET", "/v1/org/audit-sink")).status, 404);
    const audit = (await t.api("GET", "/v1/audit")).body.events;
    assert.match(audit[0].summary, /^Removed the audit sink/);
    assert.ok(!JSON.stringify(audit).includes(TOKEN));
  } finally {
    await rx.close();
  }
});

test("audit sink is read-only for a keyward:read admin, and fits 360 px", async () => {
  const t = await orgWithApi(s.base);
  await t.ok("PUT", "/v1/org/audit-sink", {
    kind: "splunk_hec",
    url: "http://127.0.0.1:9/services/collector/event",
    token: TOKEN,
  });
  await t.ok("POST", "/v1/members", { email: "c@acme.io", name: "C", role: "developer" });
  const reader = (
    await t.ok("POST", "/v1/tokens", { label: "Sink reader", role: "admin", kind: "org", scopes: ["keyward:read"] })
  ).secret;
  const p = await webhookTab(reader, 360);
  await p.locator("code.sink-token", { hasText: TOKEN.slice(-4) }).waitFor();
  await p.locator("tr[data-state]", { hasText: "member.created" }).first().waitFor();
  for (const name of ["Set audit sink", "Save audit sink", "Remove audit sink"]) {
    assert.equal(await p.getByRole("button", { name }).count(), 0, `no ${name}`);
  }
  assert.equal(await p.getByLabel("HEC token").count(), 0, "no form");
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the audit sink and its log fit 360 px (${overflow}px)`);
  await p.screenshot({ path: `${SHOTS}/96-audit-sink-read-only-360.png`, fullPage: true });
});
