// End-to-end: the audit sink (issue #29, "SIEM sink"). A real HTTP receiver on loopback plays a
// Splunk HTTP Event Collector: it checks each request as HEC documents it (`POST` with
// `Authorization: Splunk <token>` and a JSON event `{time, sourcetype, source, event}`), written
// from that documentation, not from keyward's code. Retries run on the authority's test clock
// (the `faults` build's `advance_seconds`), never by sleeping.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { assertProblem, createOrg, developer, sleep, start, until } from "./harness.mjs";

const FAULTS = "build-faults/index.js";
const TOKEN = "5c4a3b2e-1f0d-4e9c-8b7a-6d5e4f3a2b1c";

/**
 * A HEC-compatible receiver on loopback: records every request; `answer(n)` picks the status of
 * the n-th (HEC answers `{"text":"Success","code":0}` with 200).
 */
async function collector(answer = () => 200) {
  const got = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ method: req.method, headers: req.headers, body, path: req.url });
      res.statusCode = answer(got.length);
      res.setHeader("content-type", "application/json");
      res.end('{"text":"Success","code":0}');
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/services/collector/event`;
  return { got, url, close: () => new Promise((r) => server.close(r)) };
}

/** What a HEC endpoint requires of one request; answers the event it carries. */
function hecEvent(g) {
  assert.equal(g.method, "POST");
  assert.equal(g.path, "/services/collector/event");
  assert.equal(g.headers.authorization, `Splunk ${TOKEN}`);
  assert.match(g.headers["content-type"], /^application\/json/);
  const p = JSON.parse(g.body);
  assert.deepEqual(Object.keys(p).sort(), ["event", "source", "sourcetype", "time"]);
  assert.equal(p.sourcetype, "keyward:audit");
  assert.equal(p.source, "keyward");
  assert.ok(Number.isInteger(p.time), `time ${p.time}`);
  assert.equal(typeof p.event, "object");
  return p;
}

let w;
before(async () => {
  w = await start({ WEBHOOK_ALLOW_INSECURE: "true" }, { scriptPath: FAULTS });
});
after(async () => {
  await w.mf.dispose();
});

const advance = async (secret, seconds) => {
  const r = await w.api("POST", "/v1/_test/faults", { token: secret, body: { advance_seconds: seconds } });
  assert.equal(r.status, 200, r.text);
  return r.body;
};

const sinkBody = (url, token = TOKEN) => ({ kind: "splunk_hec", url, token });

describe("the audit sink", () => {
  test("every audit event arrives once, as a HEC event with Authorization: Splunk <token>", async () => {
    const rx = await collector();
    try {
      const o = await createOrg(w.api, "Sunk");
      const set = await w.api("PUT", "/v1/org/audit-sink", { token: o.secret, body: sinkBody(rx.url) });
      assert.equal(set.status, 200, set.text);
      assert.deepEqual(Object.keys(set.body).sort(), ["created_at", "kind", "token_masked", "url"]);
      assert.equal(set.body.kind, "splunk_hec");
      assert.equal(set.body.url, rx.url);
      assert.equal(set.body.token_masked, "••••••••2b1c");
      assert.ok(!set.text.includes(TOKEN));
      const read = await w.api("GET", "/v1/org/audit-sink", { token: o.secret });
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, set.body);

      // Changes of several kinds: members, tokens, the org, the sink itself.
      const dev = await w.api("POST", "/v1/members", {
        token: o.secret,
        body: { email: "d@sunk.io", name: "Dee", role: "developer" },
      });
      const t = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: { label: "ci", role: "developer", kind: "org", scopes: ["billing"] },
      });
      const id = t.body.token.id;
      for (const [method, path, body] of [
        ["PATCH", `/v1/tokens/${id}`, { scopes: [] }],
        ["POST", `/v1/tokens/${id}/disable`],
        ["POST", `/v1/tokens/${id}/revoke`, { confirm_label: "ci" }],
        ["PATCH", "/v1/org", { name: "Sunk Two" }],
        ["PATCH", `/v1/members/${dev.body.id}`, { name: "Dee Two" }],
        ["PUT", "/v1/org/audit-sink", sinkBody(rx.url)],
      ]) {
        const r = await w.api(method, path, { token: o.secret, body });
        assert.ok(r.status < 300, `${method} ${path}: ${r.text}`);
      }
      const events = (await w.api("GET", "/v1/audit", { token: o.secret })).body.events;
      // Newest first. The first set is audited, and is not sent to the sink it set; every later
      // event is.
      const afterSet = events.slice(
        0,
        events.findLastIndex((e) => /^Set the audit sink/.test(e.summary)),
      );
      assert.equal(afterSet.length, 8, events.map((e) => e.action).join());
      assert.ok(await until(() => rx.got.length >= afterSet.length), `got ${rx.got.length}`);
      await sleep(300);
      assert.equal(rx.got.length, afterSet.length, "each event once");
      const got = rx.got.map(hecEvent);
      const byId = new Map(got.map((p) => [p.event.id, p]));
      assert.equal(byId.size, afterSet.length, "no event twice");
      for (const e of afterSet) {
        const p = byId.get(e.id);
        assert.ok(p, `${e.action} ${e.summary} arrived`);
        // Exactly as the audit log lists and exports it, with its place in the chain.
        assert.deepEqual(p.event, e);
        assert.ok(Number.isInteger(p.event.seq) && p.event.seq > 0);
        assert.match(p.event.hash, /^[0-9a-f]{64}$/);
        assert.equal(p.time, Math.floor(Date.parse(e.at) / 1000));
      }
      // A stretch of the chain with no gap, from just after the first set to the head.
      const seqs = got.map((p) => p.event.seq).sort((a, b) => a - b);
      const setSeq = events.at(afterSet.length).seq;
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => setSeq + 1 + i),
      );
      const head = await w.api("GET", "/v1/audit/head", { token: o.secret });
      assert.equal(head.status, 200, head.text);
      assert.equal(seqs.at(-1), head.body.seq);
      assert.equal(byId.get(events[0].id).event.hash, head.body.hash);
      // Each event is the export's line for its seq, byte for byte once parsed.
      const exported = await w.api("GET", `/v1/audit/export?after_seq=${setSeq}`, { token: o.secret });
      assert.equal(exported.status, 200, exported.text);
      const lines = exported.text.split("\n").filter(Boolean);
      assert.equal(lines.length, seqs.length);
      const bySeq = new Map(got.map((p) => [p.event.seq, p.event]));
      for (const line of lines) assert.deepEqual(bySeq.get(JSON.parse(line).seq), JSON.parse(line));
      // The token is nowhere but in the Authorization header.
      const log = await w.api("GET", "/v1/org/audit-sink/deliveries", { token: o.secret });
      assert.equal(log.status, 200);
      assert.equal(log.body.deliveries.length, afterSet.length);
      for (const d of log.body.deliveries) {
        assert.equal(d.state, "delivered");
        assert.equal(d.attempts.length, 1);
        assert.equal(d.attempts[0].response_code, 200);
        assert.equal(d.type, d.payload.event.action);
      }
      const notes = await w.api("GET", "/v1/notifications", { token: o.secret });
      const audit = await w.api("GET", "/v1/audit", { token: o.secret });
      for (const text of [log.text, notes.text, audit.text, read.text, w.logs(), ...rx.got.map((g) => g.body)])
        assert.ok(!text.includes(TOKEN), "the collector token is never repeated");
      assert.ok(audit.body.events.some((e) => e.summary.includes("audit sink (splunk_hec) to http://127.0.0.1:")));
    } finally {
      await rx.close();
    }
  });

  test("a receiver that fails twice gets the event on the third attempt", async () => {
    const rx = await collector((n) => (n <= 2 ? 503 : 200));
    try {
      const o = await createOrg(w.api, "Flakysink");
      assert.equal((await w.api("PUT", "/v1/org/audit-sink", { token: o.secret, body: sinkBody(rx.url) })).status, 200);
      const m = await w.api("POST", "/v1/members", {
        token: o.secret,
        body: { email: "x@flakysink.io", name: "X", role: "developer" },
      });
      assert.equal(m.status, 201, m.text);
      assert.ok(await until(() => rx.got.length === 1));
      await advance(o.secret, 5);
      assert.equal(rx.got.length, 2);
      await advance(o.secret, 100);
      assert.equal(rx.got.length, 2, "the third attempt is not due before 5 min");
      await advance(o.secret, 200);
      assert.equal(rx.got.length, 3);
      const events = rx.got.map(hecEvent);
      assert.equal(new Set(events.map((p) => JSON.stringify(p))).size, 1, "the same event every time");
      assert.equal(events[0].event.action, "member.created");
      assert.equal(events[0].event.target_id, m.body.id);
      const d = (await w.api("GET", "/v1/org/audit-sink/deliveries", { token: o.secret })).body.deliveries[0];
      assert.equal(d.state, "delivered");
      assert.deepEqual(
        d.attempts.map((a) => [a.response_code, a.error]),
        [
          [503, "HTTP 503"],
          [503, "HTTP 503"],
          [200, null],
        ],
      );
      assert.equal(d.next_attempt_at, null);
    } finally {
      await rx.close();
    }
  });

  test("a receiver that never answers delays nothing: changes return promptly and the webhook gets its events", async () => {
    const hung = [];
    const server = createServer((req) => hung.push(req));
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    const hook = [];
    const hookServer = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        hook.push(JSON.parse(body));
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise((r) => hookServer.listen(0, "127.0.0.1", r));
    try {
      const o = await createOrg(w.api, "Hungsink");
      const sinkUrl = `http://127.0.0.1:${server.address().port}/services/collector/event`;
      assert.equal(
        (await w.api("PUT", "/v1/org/audit-sink", { token: o.secret, body: sinkBody(sinkUrl) })).status,
        200,
      );
      const hookUrl = `http://127.0.0.1:${hookServer.address().port}/h`;
      assert.equal((await w.api("PUT", "/v1/org/webhook", { token: o.secret, body: { url: hookUrl } })).status, 201);
      const started = Date.now();
      const ids = [];
      for (let i = 0; i < 5; i++) {
        const t0 = Date.now();
        const t = await w.api("POST", "/v1/tokens", {
          token: o.secret,
          body: { label: `hung-${i}`, role: "developer", kind: "org" },
        });
        assert.equal(t.status, 201, t.text);
        assert.ok(Date.now() - t0 < 2000, `change ${i} took ${Date.now() - t0} ms`);
        ids.push(t.body.token.id);
        await sleep(100);
      }
      const created = () => hook.filter((p) => p.type === "token.created").map((p) => p.data.token_id);
      assert.ok(await until(() => created().length >= 5, 5000), `webhook got ${created().length}`);
      assert.deepEqual(created().sort(), [...ids].sort());
      // The sink's first attempts were all started meanwhile (the webhook's PUT, then each token).
      assert.ok(
        await until(() => hung.length >= 6, 5000),
        `${hung.length} first attempts after ${Date.now() - started} ms`,
      );
      for (const req of hung) assert.equal(req.headers.authorization, `Splunk ${TOKEN}`);
    } finally {
      server.closeAllConnections();
      hookServer.closeAllConnections();
      await new Promise((r) => server.close(r));
      await new Promise((r) => hookServer.close(r));
    }
  });

  for (let run = 1; run <= 3; run++) {
    test(`run ${run}: in parallel, eight PUTs make one sink; each but the first is sent to it once`, async () => {
      const rx = await collector();
      try {
        const o = await createOrg(w.api, `Racesink${run}`);
        const puts = await Promise.all(
          Array.from({ length: 8 }, () =>
            w.api("PUT", "/v1/org/audit-sink", { token: o.secret, body: sinkBody(rx.url) }),
          ),
        );
        assert.deepEqual(
          puts.map((p) => p.status),
          Array(8).fill(200),
        );
        const created = new Set(puts.map((p) => p.body.created_at));
        assert.equal(created.size, 1, "one sink, set once and updated seven times");
        const sets = (await w.api("GET", "/v1/audit", { token: o.secret })).body.events.filter((e) =>
          /^Set the audit sink/.test(e.summary),
        );
        assert.equal(sets.length, 8);
        assert.ok(await until(() => rx.got.length >= 7));
        await sleep(300);
        assert.equal(rx.got.length, 7);
        const sent = new Set(rx.got.map((g) => hecEvent(g).event.id));
        assert.equal(sent.size, 7);
        assert.ok(!sent.has(sets.at(-1).id), "the first set is not sent to the sink it set");
      } finally {
        await rx.close();
      }
    });
  }

  test("bad input, roles and removal", async () => {
    const o = await createOrg(w.api, "Strictsink");
    assertProblem(await w.api("GET", "/v1/org/audit-sink", { token: o.secret }), 404, "NOT_FOUND");
    assertProblem(await w.api("DELETE", "/v1/org/audit-sink", { token: o.secret }), 404, "NOT_FOUND");
    const bad = await w.api("PUT", "/v1/org/audit-sink", {
      token: o.secret,
      body: { kind: "datadog", url: "ftp://x", token: "has spaces in it", extra: 1 },
    });
    assertProblem(bad, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(bad.body.errors).sort(), ["extra", "kind", "token", "url"]);
    assert.ok(!bad.text.includes("has spaces in it"), "the token is never quoted");
    assertProblem(
      await w.api("PUT", "/v1/org/audit-sink", {
        token: o.secret,
        raw: "{",
        headers: { "content-type": "application/json" },
      }),
      400,
      "BAD_REQUEST",
    );
    assertProblem(
      await w.api("POST", "/v1/org/audit-sink", { token: o.secret, body: sinkBody("https://x.io/") }),
      405,
      "METHOD_NOT_ALLOWED",
    );
    const { token: dt } = await developer(w.api, o.secret, "d@strictsink.io");
    for (const [method, path, body] of [
      ["GET", "/v1/org/audit-sink"],
      ["PUT", "/v1/org/audit-sink", sinkBody("https://splunk.example.com/services/collector")],
      ["DELETE", "/v1/org/audit-sink"],
      ["GET", "/v1/org/audit-sink/deliveries"],
    ])
      assertProblem(await w.api(method, path, { token: dt.secret, body }), 403, "FORBIDDEN");
    const set = await w.api("PUT", "/v1/org/audit-sink", {
      token: o.secret,
      body: sinkBody("https://splunk.example.com:8088/services/collector/event"),
    });
    assert.equal(set.status, 200, set.text);
    assert.equal((await w.api("DELETE", "/v1/org/audit-sink", { token: o.secret })).status, 204);
    assertProblem(await w.api("GET", "/v1/org/audit-sink", { token: o.secret }), 404, "NOT_FOUND");
    const audit = (await w.api("GET", "/v1/audit", { token: o.secret })).body.events;
    assert.equal(audit[0].action, "org.updated");
    assert.match(audit[0].summary, /^Removed the audit sink \(splunk_hec\) to https:\/\/splunk\.example\.com:8088\/…$/);
    assert.ok(!JSON.stringify(audit).includes(TOKEN));
  });
});
