// End-to-end: per-token rate limits and usage credits, decided by the org authority under real
// parallel load (each parallel case three times, on a fresh token), refills on the `faults`
// build's test clock, and what a refused verification spends (nothing).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertProblem, createOrg, start, until } from "./harness.mjs";

const FAULTS = "build-faults/index.js";
const RUNS = 3;

let w;
let admin;
before(async () => {
  w = await start({ USAGE_FLUSH_SECONDS: "1" }, { scriptPath: FAULTS });
  admin = (await createOrg(w.api, "Metered")).secret;
});
after(() => w?.mf.dispose());

const create = async (extra, label = "metered") => {
  const r = await w.api("POST", "/v1/tokens", {
    token: admin,
    body: { label, role: "developer", kind: "org", ...extra },
  });
  assert.equal(r.status, 201, r.text);
  return r.body;
};
const verify = (token, extra = {}) => w.api("POST", "/v1/verify", { body: { token, ...extra } });
/** `n` verifications of `token` sent at once; answers their codes, counted. */
async function burst(token, n, extra = {}) {
  const answers = await Promise.all(Array.from({ length: n }, () => verify(token, extra)));
  const counts = {};
  for (const a of answers) {
    assert.equal(a.status, 200, a.text);
    counts[a.body.code] = (counts[a.body.code] ?? 0) + 1;
  }
  return { counts, answers };
}
const view = async (id) => (await w.api("GET", `/v1/tokens/${id}`, { token: admin })).body;

describe("credits under parallel load", () => {
  for (let run = 1; run <= RUNS; run++) {
    test(`run ${run}: 64 at once with 10 credits give exactly 10 VALID, and the view then says 0`, async () => {
      const t = await create({ credits: { remaining: 10 } });
      const { counts, answers } = await burst(t.secret, 64);
      assert.deepEqual(counts, { VALID: 10, USAGE_EXCEEDED: 54 });
      assert.ok(answers.every((a) => a.body.consistency === "strict" && a.body.max_staleness_s === 0));
      const left = answers.filter((a) => a.body.valid).map((a) => a.body.credits.remaining);
      assert.deepEqual(
        left.sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        "each credit spent once",
      );
      assert.equal((await view(t.token.id)).credits.remaining, 0);
    });

    test(`run ${run}: cost 3 with 10 credits gives exactly 3 VALID`, async () => {
      const t = await create({ credits: { remaining: 10 } });
      const { counts } = await burst(t.secret, 24, { cost: 3 });
      assert.deepEqual(counts, { VALID: 3, USAGE_EXCEEDED: 21 });
      assert.equal((await view(t.token.id)).credits.remaining, 1);
    });

    test(`run ${run}: 40 at once against 5 per 60 s give exactly 5 VALID`, async () => {
      const t = await create({ ratelimit: { limit: 5, period_s: 60 } });
      const { counts, answers } = await burst(t.secret, 40);
      assert.deepEqual(counts, { VALID: 5, RATE_LIMITED: 35 });
      const limited = answers.find((a) => a.body.code === "RATE_LIMITED").body;
      assert.equal(limited.valid, false);
      assert.deepEqual([limited.ratelimit.limit, limited.ratelimit.remaining], [5, 0]);
      const wait = Date.parse(limited.ratelimit.reset_at) - Date.now();
      assert.ok(wait > 0 && wait <= 62_000, `reset_at ${limited.ratelimit.reset_at}`);
      assert.equal(limited.token, undefined, "a refused answer names no token");
    });
  }
});

describe("shared by one customer", () => {
  for (let run = 1; run <= RUNS; run++) {
    test(`run ${run}: two tokens of one external_id, 64 at once, spend one balance of 10`, async () => {
      const external_id = `cus_shared_${run}`;
      const a = await create({ external_id, credits: { remaining: 10, shared: true } }, "a");
      const b = await create({ external_id, credits: { shared: true }, ratelimit: { limit: 100, period_s: 60 } }, "b");
      const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => verify(i % 2 ? a.secret : b.secret)));
      const valid = answers.filter((r) => r.body.code === "VALID").length;
      assert.equal(valid, 10, answers.map((r) => r.body.code).join());
      assert.ok(answers.every((r) => r.body.valid || r.body.code === "USAGE_EXCEEDED"));
      assert.deepEqual(
        [(await view(a.token.id)).credits, (await view(b.token.id)).credits].map((c) => c.remaining),
        [0, 0],
      );
    });
  }
});

describe("what a refused verification spends", () => {
  test("a revoked token with credits spends none, and re-approved it has them all", async () => {
    const t = await create({ credits: { remaining: 5 }, ratelimit: { limit: 100, period_s: 60 } }, "gone");
    const revoked = await w.api("POST", `/v1/tokens/${t.token.id}/revoke`, {
      token: admin,
      headers: { "if-match": '"1"' },
      body: { confirm_label: "gone" },
    });
    assert.equal(revoked.status, 200, revoked.text);
    const { counts, answers } = await burst(t.secret, 16);
    assert.deepEqual(counts, { REVOKED: 16 });
    assert.ok(answers.every((a) => a.body.credits.remaining === 5 && a.body.ratelimit.remaining === 100));
    assert.equal((await view(t.token.id)).credits.remaining, 5);
    const back = await w.api("POST", `/v1/tokens/${t.token.id}/reapprove`, {
      token: admin,
      headers: { "if-match": revoked.headers.get("etag") },
    });
    assert.equal(back.status, 200, back.text);
    assert.equal((await verify(t.secret)).body.credits.remaining, 4);
  });

  test("a rate-limited verification spends no credit; a scope refusal spends neither", async () => {
    const t = await create({ credits: { remaining: 50 }, ratelimit: { limit: 2, period_s: 60 } });
    const scoped = await verify(t.secret, { scopes: ["billing"] });
    assert.equal(scoped.body.code, "INSUFFICIENT_SCOPE");
    assert.deepEqual([scoped.body.credits.remaining, scoped.body.ratelimit.remaining], [50, 2]);
    const { counts } = await burst(t.secret, 10);
    assert.deepEqual(counts, { VALID: 2, RATE_LIMITED: 8 });
    assert.equal((await view(t.token.id)).credits.remaining, 48);
  });
});

describe("the verify request", () => {
  test("edge asked, strict answered; cost over GET; bad costs are 400", async () => {
    const t = await create({ credits: { remaining: 100 } });
    const edge = await verify(t.secret, { consistency: "edge" });
    assert.deepEqual([edge.body.code, edge.body.consistency], ["VALID", "strict"]);
    const get = await w.api("GET", "/v1/verify?cost=7", { token: t.secret });
    assert.deepEqual([get.body.code, get.body.credits.remaining], ["VALID", 92]);
    for (const cost of [-1, 1001, 1.5, "3", true]) {
      assertProblem(await verify(t.secret, { cost }), 400, "BAD_REQUEST");
    }
    assertProblem(await w.api("GET", "/v1/verify?cost=x", { token: t.secret }), 400, "BAD_REQUEST");
    assert.equal((await view(t.token.id)).credits.remaining, 92, "a refused request spends nothing");
    // a plain token ignores cost and answers neither field
    const plain = await create({}, "plain");
    const p = await verify(plain.secret, { cost: 1000 });
    assert.deepEqual(
      [p.body.code, p.body.consistency, p.body.credits, p.body.ratelimit],
      ["VALID", "edge", undefined, undefined],
    );
  });

  test("an admin sets the balance with If-Match; a stale ETag is refused and changes nothing", async () => {
    const t = await create({ credits: { remaining: 1 } });
    assert.equal((await verify(t.secret)).body.code, "VALID");
    const stale = await w.api("PATCH", `/v1/tokens/${t.token.id}`, {
      token: admin,
      headers: { "if-match": '"0"' },
      body: { credits: { remaining: 9 } },
    });
    assertProblem(stale, 412, "PRECONDITION_FAILED");
    const set = await w.api("PATCH", `/v1/tokens/${t.token.id}`, {
      token: admin,
      headers: { "if-match": '"1"' },
      body: { credits: { remaining: 3 } },
    });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.credits.remaining, 3);
    const { counts } = await burst(t.secret, 8);
    assert.deepEqual(counts, { VALID: 3, USAGE_EXCEEDED: 5 });
  });

  test("people are told once per window and once per refill; the usage counts both refusals", async () => {
    const t = await create({ credits: { remaining: 1 }, ratelimit: { limit: 3, period_s: 3600 } }, "told");
    await burst(t.secret, 6);
    const notes = (await w.api("GET", "/v1/notifications", { token: admin })).body.notifications;
    const about = notes.filter((n) => n.token_id === t.token.id).map((n) => n.kind);
    assert.equal(about.filter((k) => k === "token.credits_exhausted").length, 1, about.join());
    const limited = await create({ ratelimit: { limit: 1, period_s: 3600 } }, "limited");
    await burst(limited.secret, 5);
    const again = (await w.api("GET", "/v1/notifications", { token: admin })).body.notifications;
    assert.equal(again.filter((n) => n.token_id === limited.token.id && n.kind === "token.limited").length, 1);
    let today;
    const counted = await until(async () => {
      const u = await w.api("GET", `/v1/tokens/${limited.token.id}/usage`, { token: admin });
      today = u.body.days.at(-1);
      return today.valid === 1 && today.rate_limited === 4;
    });
    assert.ok(counted, JSON.stringify(today));
    assert.deepEqual([today.refused, today.usage_exceeded], [4, 0]);
  });
});

describe("refills", () => {
  test("a daily refill on the test clock restores the amount once", async () => {
    const t = await create({ credits: { remaining: 2, refill: { amount: 7, interval: "day" } } }, "daily");
    assert.deepEqual((await burst(t.secret, 4)).counts, { VALID: 2, USAGE_EXCEEDED: 2 });
    const advance = async (seconds) => {
      const r = await w.api("POST", "/v1/_test/faults", { token: admin, body: { advance_seconds: seconds } });
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    const { now } = await advance(0);
    const midnight = Math.ceil((Date.parse(now) + 1) / 86_400_000) * 86_400_000;
    const to = Math.ceil((midnight - Date.parse(now)) / 1000) + 1;
    await advance(to);
    assert.equal((await view(t.token.id)).credits.remaining, 7);
    assert.equal((await verify(t.secret, { cost: 2 })).body.credits.remaining, 5);
    await advance(3600);
    assert.equal((await view(t.token.id)).credits.remaining, 5, "once, not at every run of the alarm");
    const { counts } = await burst(t.secret, 8);
    assert.deepEqual(counts, { VALID: 5, USAGE_EXCEEDED: 3 });
  });
});
