// End-to-end: notifications emailed through the Email Service binding, as workerd simulates it:
// each message is announced in the runtime's log ("send_email binding called with
// MessageBuilder:", with From, To and Subject) and its text and HTML parts are stored in files
// that the log names; this suite reads both. Retries run on the authority's test clock (the
// `faults` build), never by sleeping.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { NOTIFY_FROM, PUBLIC_URL, createOrg, sleep, start, until } from "./harness.mjs";

// ANSI colours in the log line.
const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");

/** Every email the simulated binding sent so far: {from, to, subject, text, html}. */
function sentEmails(logs) {
  return plain(logs)
    .split("send_email binding called with MessageBuilder:")
    .slice(1)
    .map((chunk) => {
      const field = (name) => chunk.match(new RegExp(`^${name}: (.*)$`, "m"))?.[1]?.trim();
      const text = field("Text");
      const html = field("HTML");
      return {
        from: field("From"),
        to: field("To"),
        subject: field("Subject"),
        text: text ? readFileSync(text, "utf8") : null,
        html: html ? readFileSync(html, "utf8") : null,
      };
    });
}

let w;
before(async () => {
  w = await start({}, { scriptPath: "build-faults/index.js" });
});
after(async () => {
  await w.mf.dispose();
});

const about = (label) => sentEmails(w.logs()).filter((e) => e.subject?.includes(`"${label}"`));
const faults = async (secret, body) => {
  const r = await w.api("POST", "/v1/_test/faults", { token: secret, body });
  assert.equal(r.status, 200, r.text);
};

describe("notification emails", () => {
  test("a new token emails every active admin, with creator, time and masked token, never the secret", async () => {
    const o = await createOrg(w.api, "Mailed");
    const second = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "grace@mailed.io", name: "Grace <Hopper>", role: "admin" },
    });
    const gone = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "gone@mailed.io", name: "Gone", role: "admin" },
    });
    assert.equal(
      (await w.api("PATCH", `/v1/members/${gone.body.id}`, { token: o.secret, body: { status: "deactivated" } }))
        .status,
      200,
    );
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "deploy <prod>", role: "developer", kind: "org", scopes: ["billing"] },
    });
    assert.equal(t.status, 201, t.text);
    assert.ok(await until(() => about("deploy <prod>").length >= 2), w.logs());
    await sleep(300);
    const mails = about("deploy <prod>");
    assert.deepEqual(
      mails.map((m) => m.to).sort(),
      ["admin@mailed.io", "grace@mailed.io"],
      "one per active admin, none to the deactivated one",
    );
    for (const m of mails) {
      assert.equal(m.from, NOTIFY_FROM);
      assert.match(m.subject, /^\[Mailed\] API token "deploy <prod>" created$/);
      assert.ok(m.text.includes(t.body.token.masked), "masked token");
      assert.ok(m.text.includes("Mailed Admin <admin@mailed.io>"), "the creator's name and email");
      assert.match(m.text, /When: \w+day \d{1,2} \w+ \d{4}, \d\d:\d\d UTC \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)/);
      assert.ok(m.text.includes("Scopes: billing."));
      assert.ok(m.text.includes(`${PUBLIC_URL}/#/tokens/${t.body.token.id}`), "a link to the token");
      assert.ok(!m.text.includes(t.body.secret) && !m.html.includes(t.body.secret), "never the secret");
      assert.ok(!/[0-9a-f]{64}/.test(m.text + m.html), "never a hash");
      assert.ok(!m.html.includes("<prod>") && m.html.includes("&lt;prod&gt;"), "text in the HTML part is escaped");
      assert.ok(m.html.includes(`href="${PUBLIC_URL}/#/tokens/${t.body.token.id}"`));
    }
    const notes = (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications.filter(
      (n) => n.token_id === t.body.token.id,
    );
    assert.ok(
      await until(async () => {
        const n = (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications.filter(
          (x) => x.token_id === t.body.token.id,
        );
        return n.length === 2 && n.every((x) => x.email?.state === "sent" && x.email.attempts === 1);
      }),
      JSON.stringify(notes),
    );
    assert.equal(second.status, 201);
  });

  test("a change to someone else's token emails its owner", async () => {
    const o = await createOrg(w.api, "Owned");
    const dev = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "dev@owned.io", name: "Dev", role: "developer" },
    });
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "laptop", role: "developer", kind: "personal", owner_member_id: dev.body.id },
    });
    assert.ok(await until(() => about("laptop").length === 2));
    assert.equal((await w.api("POST", `/v1/tokens/${t.body.token.id}/disable`, { token: o.secret })).status, 200);
    assert.ok(await until(() => about("laptop").filter((m) => m.subject.endsWith("disabled")).length === 2));
    const disabled = about("laptop").filter((m) => m.subject.endsWith("disabled"));
    assert.deepEqual(disabled.map((m) => m.to).sort(), ["admin@owned.io", "dev@owned.io"]);
  });

  test("email_notifications: false sends none, and notifications say so", async () => {
    const o = await createOrg(w.api, "Quiet");
    const p = await w.api("PATCH", "/v1/org", { token: o.secret, body: { policy: { email_notifications: false } } });
    assert.equal(p.body.policy.email_notifications, false);
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "hush", role: "developer", kind: "org" },
    });
    await sleep(1500);
    assert.equal(about("hush").length, 0);
    const n = (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications.find(
      (x) => x.token_id === t.body.token.id,
    );
    assert.equal(n.email, null);
  });

  test("a failing send is retried by the alarm: sent once it works, failed after 24 h if never", async () => {
    const o = await createOrg(w.api, "Flaky");
    await sleep(1000); // the org's own first email goes out before the switch
    await faults(o.secret, { email: "fail" });
    try {
      const t = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: { label: "retry-me", role: "developer", kind: "org" },
      });
      const mine = async () =>
        (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications.find(
          (x) => x.token_id === t.body.token.id,
        );
      assert.ok(await until(async () => (await mine()).email.attempts === 1));
      let n = await mine();
      assert.deepEqual([n.email.state, n.email.last_error], ["pending", "refused (fault injection)"]);
      assert.ok(n.email.next_attempt_at);
      assert.equal(about("retry-me").length, 0);
      await faults(o.secret, { advance_seconds: 5 });
      n = await mine();
      assert.equal(n.email.attempts, 2);
      await faults(o.secret, { email: "ok" });
      await faults(o.secret, { advance_seconds: 300 });
      n = await mine();
      assert.deepEqual([n.email.state, n.email.attempts, n.email.last_error], ["sent", 3, null]);
      assert.equal(about("retry-me").length, 1);

      await faults(o.secret, { email: "fail" });
      const u = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: { label: "never", role: "developer", kind: "org" },
      });
      const never = async () =>
        (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications.find(
          (x) => x.token_id === u.body.token.id,
        );
      assert.ok(await until(async () => (await never()).email.attempts === 1));
      for (const step of [5, 295, 1500, 5400, 10800, 18000, 50400]) await faults(o.secret, { advance_seconds: step });
      n = await never();
      assert.deepEqual([n.email.state, n.email.attempts, n.email.next_attempt_at], ["failed", 8, null]);
    } finally {
      await faults(o.secret, { email: "ok" });
    }
  });
});
