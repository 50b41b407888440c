// End-to-end: "tell people in time". A real HTTP receiver on loopback gets signed webhook
// deliveries, checked here with the Standard Webhooks algorithm as its specification states it
// (written from the specification, not from keyward's code). Expiry warnings, idle tokens and
// delivery retries run on the authority's test clock (the `faults` build's `advance_seconds`),
// never by sleeping; usage counts are checked against the verifications the test makes.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, sign, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { assertProblem, createOrg, developer, sleep, start, until } from "./harness.mjs";

const FAULTS = "build-faults/index.js";

/**
 * Standard Webhooks, "Verifying webhooks": the signed content is `${id}.${timestamp}.${body}`,
 * HMAC-SHA256 keyed with the base64 secret after the `whsec_` prefix, base64-encoded; the
 * `webhook-signature` header is a space-delimited list of `v1,<signature>`; any one match
 * verifies. Answers the matching signature's position, or -1.
 */
function standardWebhooksVerify(secret, headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  const sigs = String(headers["webhook-signature"] ?? "").split(" ");
  return sigs.findIndex((s) => {
    const [version, b64] = s.split(",");
    if (version !== "v1" || !b64) return false;
    const got = Buffer.from(b64, "base64");
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/** A receiver on loopback: records every request; `answer(n)` picks the status of the n-th. */
async function receiver(answer = () => 204) {
  const got = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ headers: req.headers, body, path: req.url });
      res.statusCode = answer(got.length);
      res.end("receiver says: do not store me");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  return { got, url, close: () => new Promise((r) => server.close(r)) };
}

const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const KEYS = JSON.stringify([{ key_identifier: "k1", key: publicKey.export({ type: "spki", format: "pem" }) }]);

let w;
before(async () => {
  w = await start(
    { WEBHOOK_ALLOW_INSECURE: "true", LEAK_REPORT_KEYS: KEYS, USAGE_FLUSH_SECONDS: "1" },
    { scriptPath: FAULTS },
  );
});
after(async () => {
  await w.mf.dispose();
});

/** What a receiver got, but the day's audit checkpoints. */
const changes = (rx) => rx.got.filter((g) => JSON.parse(g.body).type !== "audit.checkpoint");
/** What a receiver got of `POST /v1/org/webhook/test`. */
const tests = (rx) => rx.got.filter((g) => JSON.parse(g.body).type === "webhook.test");

const advance = async (secret, seconds) => {
  const r = await w.api("POST", "/v1/_test/faults", { token: secret, body: { advance_seconds: seconds } });
  assert.equal(r.status, 200, r.text);
  return r.body;
};

describe("signed webhooks", () => {
  test("every notification kind and audited action is delivered once, signed, within 5 s, without a secret", async () => {
    const rx = await receiver();
    try {
      const o = await createOrg(w.api, "Hooked");
      const set = await w.api("PUT", "/v1/org/webhook", { token: o.secret, body: { url: rx.url } });
      assert.equal(set.status, 201, set.text);
      assert.equal(set.headers.get("cache-control"), "no-store");
      const secret = set.body.secret;
      assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
      assert.equal(Buffer.from(secret.slice(6), "base64").length, 24);
      assert.deepEqual(set.body.webhook.events, ["*"]);
      assert.match(set.body.webhook.masked_secret, /^whsec_•{8}.{4}$/);
      const read = await w.api("GET", "/v1/org/webhook", { token: o.secret });
      assert.equal(read.status, 200);
      assert.deepEqual(Object.keys(read.body), ["webhook"]);
      assert.ok(!read.text.includes(secret.slice(6)), "GET never shows the secret");

      // One change of each kind.
      const dev = await w.api("POST", "/v1/members", {
        token: o.secret,
        body: { email: "d@hooked.io", name: "Dee", role: "developer" },
      });
      const t = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: { label: "ci", role: "developer", kind: "personal", owner_member_id: dev.body.id, scopes: ["billing"] },
      });
      const id = t.body.token.id;
      const step = async (method, path, body) => {
        const r = await w.api(method, path, { token: o.secret, body });
        assert.ok(r.status < 300, `${method} ${path}: ${r.text}`);
        return r;
      };
      await step("PATCH", `/v1/tokens/${id}`, { scopes: [] });
      await step("POST", `/v1/tokens/${id}/disable`);
      await step("POST", `/v1/tokens/${id}/enable`);
      await step("POST", `/v1/tokens/${id}/revoke`, { confirm_label: "ci" });
      await step("POST", `/v1/tokens/${id}/reapprove`);
      const rotated = await step("POST", `/v1/tokens/${id}/rotate`, {});
      await step("PATCH", "/v1/org", { policy: { on_leak: "notify" } });
      const raw = JSON.stringify([
        { token: rotated.body.secret, type: "keyward_token", url: "https://github.com/x/y", source: "content" },
      ]);
      const sig = sign("sha256", Buffer.from(raw), privateKey).toString("base64");
      const leak = await w.api("POST", "/v1/leaks", {
        raw,
        headers: {
          "content-type": "application/json",
          "github-public-key-identifier": "k1",
          "github-public-key-signature": sig,
        },
      });
      assert.equal(leak.status, 200, leak.text);
      await step("PATCH", `/v1/members/${dev.body.id}`, { role: "admin" });
      await step("DELETE", `/v1/tokens/${id}`, { confirm_label: "ci" });
      const kinds = [
        "member.created",
        "org.updated",
        "token.created",
        "token.updated",
        "token.disabled",
        "token.enabled",
        "token.revoked",
        "token.reapproved",
        "token.rotated",
        "token.leaked",
        "member.updated",
        "token.deleted",
      ];
      // The first admin token and the second one (dev became admin) make 2 recipients: still
      // one delivery per change.
      assert.ok(await until(() => rx.got.length >= kinds.length), `got ${rx.got.map((g) => JSON.parse(g.body).type)}`);
      await sleep(300);
      const types = rx.got.map((g) => JSON.parse(g.body).type);
      assert.deepEqual(types.sort(), [...kinds].sort());
      for (const g of rx.got) {
        assert.equal(standardWebhooksVerify(secret, g.headers, g.body), 0, `signature of ${g.body}`);
        assert.match(g.headers["webhook-id"], /^msg_[0-9A-Za-z]{20}$/);
        assert.ok(Math.abs(Number(g.headers["webhook-timestamp"]) - Date.now() / 1000) < 60);
        const p = JSON.parse(g.body);
        assert.deepEqual(Object.keys(p).sort(), ["data", "timestamp", "type"]);
        assert.equal(p.data.kind, p.type);
        assert.equal(p.data.org_id, o.org.id);
        if (p.type.startsWith("token.")) assert.match(p.data.masked, /^kw_•{8}.{4}$/);
        for (const s of [t.body.secret, rotated.body.secret, o.secret, secret])
          assert.ok(!g.body.includes(s), "no secret in a delivery");
        assert.ok(!/[0-9a-f]{64}/.test(g.body), "no hash in a delivery");
      }
      assert.equal(
        standardWebhooksVerify("whsec_" + Buffer.alloc(24).toString("base64"), rx.got[0].headers, rx.got[0].body),
        -1,
        "the check can fail",
      );
      const log = await w.api("GET", "/v1/org/webhook/deliveries", { token: o.secret });
      assert.equal(log.status, 200);
      assert.equal(log.body.deliveries.length, kinds.length);
      for (const d of log.body.deliveries) {
        assert.equal(d.state, "delivered");
        assert.equal(d.attempts.length, 1);
        assert.equal(d.attempts[0].response_code, 204);
        assert.ok(!JSON.stringify(d).includes("do not store me"), "the response body is never kept");
      }
    } finally {
      await rx.close();
    }
  });

  test("a receiver that fails twice gets the event on the third attempt; a test event and a rotation", async () => {
    const rx = await receiver((n) => (n <= 2 ? 500 : 200));
    try {
      const o = await createOrg(w.api, "Flaky");
      const set = await w.api("PUT", "/v1/org/webhook", {
        token: o.secret,
        body: { url: rx.url, events: ["token.revoked"] },
      });
      const test = await w.api("POST", "/v1/org/webhook/test", { token: o.secret });
      assert.equal(test.status, 202, test.text);
      assert.equal(test.body.type, "webhook.test");
      assert.ok(await until(() => rx.got.length === 1));
      await advance(o.secret, 5);
      assert.equal(rx.got.length, 2);
      await advance(o.secret, 100);
      assert.equal(rx.got.length, 2, "the third attempt is not due before 5 min");
      await advance(o.secret, 200);
      assert.equal(rx.got.length, 3);
      assert.equal(new Set(rx.got.map((g) => g.headers["webhook-id"])).size, 1, "one webhook-id for every attempt");
      const d = (await w.api("GET", "/v1/org/webhook/deliveries", { token: o.secret })).body.deliveries[0];
      assert.equal(d.state, "delivered");
      assert.deepEqual(
        d.attempts.map((a) => a.response_code),
        [500, 500, 200],
      );
      assert.deepEqual(
        d.attempts.map((a) => a.error),
        ["HTTP 500", "HTTP 500", null],
      );
      // Rotation: both secrets sign during the grace.
      const rot = await w.api("POST", "/v1/org/webhook/rotate", { token: o.secret, body: { grace_seconds: 3600 } });
      assert.equal(rot.status, 200, rot.text);
      await w.api("POST", "/v1/org/webhook/test", { token: o.secret });
      assert.ok(await until(() => rx.got.length === 4));
      const last = rx.got[3];
      assert.equal(last.headers["webhook-signature"].split(" ").length, 2);
      assert.equal(standardWebhooksVerify(rot.body.secret, last.headers, last.body), 0);
      assert.equal(standardWebhooksVerify(set.body.secret, last.headers, last.body), 1);
    } finally {
      await rx.close();
    }
  });

  test("a delivery belongs to its endpoint: after DELETE, nothing pending goes to the next endpoint set", async () => {
    const old = await receiver(() => 503);
    const next = await receiver();
    try {
      const o = await createOrg(w.api, "Moved");
      const first = await w.api("PUT", "/v1/org/webhook", { token: o.secret, body: { url: old.url } });
      await w.api("POST", "/v1/org/webhook/test", { token: o.secret });
      await w.api("POST", "/v1/members", {
        token: o.secret,
        body: { email: "x@moved.io", name: "X", role: "developer" },
      });
      await w.api("POST", "/v1/tokens", { token: o.secret, body: { label: "t", role: "developer", kind: "org" } });
      assert.ok(await until(() => old.got.length >= 2), "first attempts made and failed");
      const del = await w.api("DELETE", "/v1/org/webhook", { token: o.secret });
      assert.equal(del.status, 204, del.text);
      const set = await w.api("PUT", "/v1/org/webhook", { token: o.secret, body: { url: next.url } });
      assert.equal(set.status, 201, set.text);
      assert.notEqual(set.body.secret, first.body.secret);
      // Every retry falls due (5 s, 5 min, … 24 h): none reaches the new endpoint, nor the old one.
      const seen = old.got.length;
      for (const step of [5, 300, 1800, 7200, 18000, 36000, 86400]) await advance(o.secret, step);
      await sleep(200);
      // (The day's audit checkpoint is a new event, made after the move: the new endpoint gets it.)
      assert.equal(changes(next).length, 0, next.got.map((g) => g.body).join("\n"));
      assert.equal(old.got.length, seen);
      assert.ok(next.got.every((g) => JSON.parse(g.body).type === "audit.checkpoint"));
      const checkpoints = next.got.length;
      const log = (await w.api("GET", "/v1/org/webhook/deliveries", { token: o.secret })).body.deliveries;
      assert.ok(log.length >= 2);
      for (const d of log.filter((x) => x.type !== "audit.checkpoint")) {
        assert.equal(d.state, "failed", JSON.stringify(d));
        assert.equal(d.next_attempt_at, null);
        assert.equal(d.attempts.at(-1).error, "the webhook was removed");
      }
      // The new endpoint gets what happens from now on.
      await w.api("POST", "/v1/org/webhook/test", { token: o.secret });
      assert.ok(await until(() => next.got.length === checkpoints + 1));
      const latest = next.got.at(-1);
      assert.equal(JSON.parse(latest.body).type, "webhook.test");
      assert.equal(standardWebhooksVerify(set.body.secret, latest.headers, latest.body), 0);
    } finally {
      await old.close();
      await next.close();
    }
  });

  test("a receiver that never succeeds is given up after 24 h with every attempt recorded", async () => {
    const rx = await receiver(() => 503);
    try {
      const o = await createOrg(w.api, "Down");
      await w.api("PUT", "/v1/org/webhook", { token: o.secret, body: { url: rx.url } });
      await w.api("POST", "/v1/org/webhook/test", { token: o.secret });
      assert.ok(await until(() => rx.got.length === 1));
      // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h after the event.
      for (const [step, want] of [
        [5, 2],
        [295, 3],
        [1500, 4],
        [5400, 5],
        [10800, 6],
        [18000, 7],
        [50400, 8],
        [86400, 8],
      ]) {
        await advance(o.secret, step);
        // (the day's audit checkpoint, once midnight has passed, has deliveries of its own)
        assert.equal(tests(rx).length, want, `after +${step} s`);
      }
      const log = (await w.api("GET", "/v1/org/webhook/deliveries", { token: o.secret })).body.deliveries;
      const d = log.find((x) => x.type === "webhook.test");
      assert.equal(d.state, "failed");
      assert.equal(d.next_attempt_at, null);
      assert.equal(d.attempts.length, 8);
      assert.ok(d.attempts.every((a) => a.response_code === 503 && a.error === "HTTP 503"));
    } finally {
      await rx.close();
    }
  });

  test("an endpoint that hangs holds up nothing: each event's first attempt within 5 s, and the emails", async () => {
    // A receiver that accepts and never answers (found by the red team: events went out 10 s apart).
    const hung = [];
    const server = createServer((req) => hung.push(req));
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    try {
      const o = await createOrg(w.api, "Hung");
      await w.api("PUT", "/v1/org/webhook", {
        token: o.secret,
        body: { url: `http://127.0.0.1:${server.address().port}/h` },
      });
      const started = Date.now();
      for (let i = 0; i < 5; i++) {
        const t = await w.api("POST", "/v1/tokens", {
          token: o.secret,
          body: { label: `hung-${i}`, role: "developer", kind: "org" },
        });
        assert.equal(t.status, 201);
        await sleep(200);
      }
      assert.ok(
        await until(() => hung.length >= 5, 5000),
        `${hung.length} first attempts after ${Date.now() - started} ms`,
      );
      const emailed = async () =>
        (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications.filter(
          (n) => /hung-/.test(n.subject) && n.email?.state === "sent",
        ).length;
      assert.ok(await until(async () => (await emailed()) === 5, 5000), "emails went out while the endpoint hung");
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test("a send still in flight is never started again, even when the clock jumps past its lease", async () => {
    // Found by the second red team: advancing the test clock past a send's lease sent it twice.
    const rx = await receiver();
    const slow = createServer((req, res) => {
      rx.got.push({ headers: req.headers });
      setTimeout(() => {
        res.statusCode = 200;
        res.end();
      }, 1500);
    });
    await new Promise((r) => slow.listen(0, "127.0.0.1", r));
    try {
      const o = await createOrg(w.api, "Slow");
      await w.api("PUT", "/v1/org/webhook", {
        token: o.secret,
        body: { url: `http://127.0.0.1:${slow.address().port}/h` },
      });
      await w.api("POST", "/v1/org/webhook/test", { token: o.secret });
      assert.ok(await until(() => rx.got.length === 1));
      await advance(o.secret, 60);
      await sleep(2000);
      assert.equal(rx.got.length, 1, "sent once");
      const d = (await w.api("GET", "/v1/org/webhook/deliveries", { token: o.secret })).body.deliveries[0];
      assert.equal(d.state, "delivered");
      assert.equal(d.attempts.length, 1);
    } finally {
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
      await rx.close();
    }
  });

  test("in parallel: eight PUTs make one webhook and one secret; eight changes make eight deliveries and one email per admin each (three runs)", async () => {
    for (let run = 0; run < 3; run++) {
      const rx = await receiver();
      try {
        const o = await createOrg(w.api, `Race${run}`);
        await w.api("POST", "/v1/members", {
          token: o.secret,
          body: { email: `b${run}@race.io`, name: "B", role: "admin" },
        });
        const puts = await Promise.all(
          Array.from({ length: 8 }, () => w.api("PUT", "/v1/org/webhook", { token: o.secret, body: { url: rx.url } })),
        );
        assert.deepEqual(puts.map((p) => p.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201], `run ${run}`);
        assert.equal(puts.filter((p) => typeof p.body.secret === "string").length, 1, "one secret, shown once");
        const made = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            w.api("POST", "/v1/tokens", {
              token: o.secret,
              body: { label: `r${run}-${i}`, role: "developer", kind: "org" },
            }),
          ),
        );
        assert.ok(made.every((m) => m.status === 201));
        assert.ok(await until(() => rx.got.filter((g) => JSON.parse(g.body).type === "token.created").length >= 8));
        await sleep(500);
        const created = rx.got.map((g) => JSON.parse(g.body)).filter((p) => p.type === "token.created");
        assert.equal(created.length, 8, `run ${run}: one delivery per change`);
        assert.equal(new Set(rx.got.map((g) => g.headers["webhook-id"])).size, rx.got.length, "no delivery twice");
        const labels = new Set(made.map((m) => m.body.token.id));
        assert.ok(created.every((p) => labels.has(p.data.token_id)));
        const sent = async () =>
          (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications.filter(
            (n) => labels.has(n.token_id) && n.email?.state === "sent",
          );
        assert.ok(await until(async () => (await sent()).length === 16), "two admins, eight changes");
        const to = (await sent()).map((n) => `${n.token_id} ${n.to}`);
        assert.equal(new Set(to).size, 16, "one email per admin per change");
      } finally {
        await rx.close();
      }
    }
  });

  test("endpoints, roles and bad input", async () => {
    const o = await createOrg(w.api, "Strict");
    assertProblem(
      await w.api("PUT", "/v1/org/webhook", { token: o.secret, body: { url: "ftp://x" } }),
      422,
      "VALIDATION_FAILED",
    );
    assertProblem(
      await w.api("PUT", "/v1/org/webhook", { token: o.secret, body: { url: "https://x.io", events: ["nope"] } }),
      422,
      "VALIDATION_FAILED",
    );
    assertProblem(
      await w.api("PUT", "/v1/org/webhook", {
        token: o.secret,
        raw: "{",
        headers: { "content-type": "application/json" },
      }),
      400,
      "BAD_REQUEST",
    );
    assertProblem(await w.api("POST", "/v1/org/webhook/test", { token: o.secret }), 404, "NOT_FOUND");
    assertProblem(await w.api("DELETE", "/v1/org/webhook", { token: o.secret }), 404, "NOT_FOUND");
    assertProblem(await w.api("PATCH", "/v1/org/webhook", { token: o.secret, body: {} }), 405, "METHOD_NOT_ALLOWED");
    assert.deepEqual((await w.api("GET", "/v1/org/webhook", { token: o.secret })).body, { webhook: null });
    const { token: dt } = await developer(w.api, o.secret, "d@strict.io");
    assertProblem(
      await w.api("PUT", "/v1/org/webhook", { token: dt.secret, body: { url: "https://x.io" } }),
      403,
      "FORBIDDEN",
    );
    assertProblem(await w.api("GET", "/v1/org/webhook/deliveries", { token: dt.secret }), 403, "FORBIDDEN");
    const again = await w.api("PUT", "/v1/org/webhook", {
      token: o.secret,
      body: { url: "https://hooks.example.com/a" },
    });
    assert.equal(again.status, 201);
    const update = await w.api("PUT", "/v1/org/webhook", {
      token: o.secret,
      body: { url: "https://hooks.example.com/b", events: ["token.created"] },
    });
    assert.equal(update.status, 200);
    assert.equal(update.body.secret, null);
    assert.equal(update.body.webhook.masked_secret, again.body.webhook.masked_secret);
    assert.equal((await w.api("DELETE", "/v1/org/webhook", { token: o.secret })).status, 204);
    const audit = (await w.api("GET", "/v1/audit", { token: o.secret })).body.events;
    assert.ok(audit.filter((e) => /webhook/i.test(e.summary)).length >= 3);
    assert.ok(!JSON.stringify(audit).includes(again.body.secret.slice(6)), "no signing secret in the audit log");
  });
});

describe("reminders on the authority's clock", () => {
  test("expiry warnings reach the owner and the admins 7 days and 1 day before, once each, and the webhook", async () => {
    const rx = await receiver();
    try {
      const o = await createOrg(w.api, "Expiring");
      await w.api("PATCH", "/v1/org", { token: o.secret, body: { policy: { default_ttl_days: 90 } } });
      const dev = await w.api("POST", "/v1/members", {
        token: o.secret,
        body: { email: "d@expiring.io", name: "Dee", role: "developer" },
      });
      const t = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: {
          label: "short",
          role: "developer",
          kind: "personal",
          owner_member_id: dev.body.id,
          expires_in_days: 10,
        },
      });
      await w.api("PUT", "/v1/org/webhook", { token: o.secret, body: { url: rx.url, events: ["token.expiring"] } });
      const warned = async () =>
        (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications.filter(
          (n) => n.kind === "token.expiring" && n.token_id === t.body.token.id,
        );
      await advance(o.secret, 3 * 86400 - 60);
      assert.equal((await warned()).length, 0, "not before the moment");
      await advance(o.secret, 60);
      let n = await warned();
      assert.deepEqual(n.map((x) => x.to).sort(), ["admin@expiring.io", "d@expiring.io"]);
      assert.match(n[0].subject, /expires in 7 days/);
      assert.equal(n[0].created_by, "system");
      assert.ok(await until(() => rx.got.length === 1));
      assert.equal(JSON.parse(rx.got[0].body).type, "token.expiring");
      await advance(o.secret, 3600);
      assert.equal((await warned()).length, 2, "once");
      await advance(o.secret, 6 * 86400 - 3600);
      n = await warned();
      assert.equal(n.length, 4);
      assert.match(n[0].subject, /expires in 1 day/);
      assert.ok(await until(() => rx.got.length === 2));
    } finally {
      await rx.close();
    }
  });

  test("an idle token is warned, then disabled by the system; a used one is not", async () => {
    const o = await createOrg(w.api, "Idle");
    assertProblem(
      await w.api("PATCH", "/v1/org", { token: o.secret, body: { policy: { disable_after_idle_days: 0 } } }),
      422,
      "VALIDATION_FAILED",
    );
    const p = await w.api("PATCH", "/v1/org", {
      token: o.secret,
      body: { policy: { disable_after_idle_days: 10, default_ttl_days: 90 } },
    });
    assert.equal(p.body.policy.disable_after_idle_days, 10);
    const idle = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "idle", role: "developer", kind: "org" },
    });
    const used = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "used", role: "developer", kind: "org" },
    });
    await advance(o.secret, 3 * 86400);
    const notes = (await w.api("GET", "/v1/notifications", { token: o.secret })).body.notifications;
    assert.ok(notes.some((n) => n.kind === "token.idle" && n.token_id === idle.body.token.id));
    // `used` verifies; the edge reports it to the authority within its flush interval.
    assert.equal((await w.api("POST", "/v1/verify", { body: { token: used.body.secret } })).body.code, "VALID");
    assert.ok(
      await until(async () => {
        const u = await w.api("GET", `/v1/tokens/${used.body.token.id}/usage`, { token: o.secret });
        return u.body.days.some((d) => d.valid > 0);
      }, 5000),
      "the use reached the authority",
    );
    await advance(o.secret, 7 * 86400);
    const after = await w.api("GET", `/v1/tokens/${idle.body.token.id}`, { token: o.secret });
    assert.deepEqual([after.body.state, after.body.state_set_by], ["disabled", "system"]);
    assert.equal((await w.api("POST", "/v1/verify", { body: { token: idle.body.secret } })).body.code, "DISABLED");
    assert.equal((await w.api("GET", `/v1/tokens/${used.body.token.id}`, { token: o.secret })).body.state, "active");
    const audit = (await w.api("GET", `/v1/audit?target=${idle.body.token.id}`, { token: o.secret })).body.events[0];
    assert.equal(audit.action, "token.disabled");
    assert.equal(audit.actor_member_id, null);
    // Only an admin brings it back.
    assert.equal((await w.api("POST", `/v1/tokens/${idle.body.token.id}/enable`, { token: o.secret })).status, 200);
  });
});

describe("usage", () => {
  test("counts match the verifications made, per day, valid and refused, within the flush interval", async () => {
    const u = await start({ USAGE_FLUSH_SECONDS: "1" });
    try {
      const o = await createOrg(u.api, "Counted");
      const t = await u.api("POST", "/v1/tokens", {
        token: o.secret,
        body: { label: "ci", role: "developer", kind: "org", scopes: ["billing"] },
      });
      const verify = (body) => u.api("POST", "/v1/verify", { body: { token: t.body.secret, ...body } });
      for (let i = 0; i < 7; i++) assert.equal((await verify({ scopes: ["billing"] })).body.code, "VALID");
      for (let i = 0; i < 3; i++)
        assert.equal((await verify({ scopes: ["users:read"] })).body.code, "INSUFFICIENT_SCOPE");
      assert.equal((await verify({ consistency: "strict" })).body.code, "VALID");
      await u.api("POST", "/v1/verify", { body: { token: "kw_0000000000000000000000000000003wuQEo" } });
      const today = new Date().toISOString().slice(0, 10);
      let days;
      const ok = await until(async () => {
        days = (await u.api("GET", `/v1/tokens/${t.body.token.id}/usage`, { token: o.secret })).body.days;
        const d = days.at(-1);
        return d.valid === 8 && d.refused === 3;
      }, 8000);
      assert.ok(ok, JSON.stringify(days?.at(-1)));
      assert.equal(days.length, 30);
      assert.equal(days.at(-1).date, today);
      assert.ok(days.slice(0, -1).every((d) => d.valid === 0 && d.refused === 0));
      assert.ok(
        days.every((d, i) => i === 0 || d.date > days[i - 1].date),
        "oldest first",
      );
      const all = await u.api("GET", "/v1/usage", { token: o.secret });
      assert.equal(all.status, 200);
      const mine = all.body.tokens.find((x) => x.token_id === t.body.token.id);
      assert.equal(mine.days.at(-1).valid, 8);
      assertProblem(
        await u.api("GET", "/v1/tokens/tok_00000000000000000000/usage", { token: o.secret }),
        404,
        "NOT_FOUND",
      );
    } finally {
      await u.mf.dispose();
    }
  });
});
