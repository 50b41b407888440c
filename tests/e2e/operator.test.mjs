// End-to-end: the operator reads, suspends and resumes an org. While suspended, its tokens verify
// ORG_SUSPENDED (strict at once, even with verifications in flight; the edge within its bound)
// and its admin API answers 403; resumed, everything is as it was.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { OPERATOR, assertProblem, createOrg, start, until } from "./harness.mjs";

let w;
before(async () => {
  w = await start();
});
after(() => w?.mf.dispose());

const op = (method, path) => w.api(method, path, { token: OPERATOR });
const verify = (token, consistency = "strict") => w.api("POST", "/v1/verify", { body: { token, consistency } });

describe("the operator's orgs", () => {
  test("read one; only the operator; an unknown or malformed id is 404", async () => {
    const o = await createOrg(w.api, "Readable");
    const r = await op("GET", `/v1/orgs/${o.org.id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.id, r.body.name, r.body.suspended_at], [o.org.id, "Readable", null]);
    assert.match(r.headers.get("etag"), /^"\d+"$/);
    assertProblem(await w.api("GET", `/v1/orgs/${o.org.id}`, { token: o.secret }), 401, "UNAUTHENTICATED");
    assertProblem(await w.api("GET", `/v1/orgs/${o.org.id}`), 401, "UNAUTHENTICATED");
    assertProblem(await op("GET", "/v1/orgs/org_00000000000000000000"), 404, "NOT_FOUND");
    assertProblem(await op("GET", "/v1/orgs/nope"), 404, "NOT_FOUND");
    assertProblem(await op("POST", "/v1/orgs/nope/suspend"), 404, "NOT_FOUND");
  });

  for (let run = 1; run <= 3; run++) {
    test(`run ${run}: suspend with verifications in flight, then resume`, async () => {
      const o = await createOrg(w.api, `Suspended${run}`);
      const t = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: { label: "svc", role: "developer", kind: "org" },
      });
      assert.equal(t.status, 201, t.text);
      const secret = t.body.secret;
      // 32 strict verifications in flight around the suspension
      const inFlight = Array.from({ length: 32 }, () => verify(secret));
      const suspended = await op("POST", `/v1/orgs/${o.org.id}/suspend`);
      assert.equal(suspended.status, 200, suspended.text);
      assert.ok(suspended.body.suspended_at);
      const answers = await Promise.all(inFlight);
      assert.ok(answers.every((a) => ["VALID", "ORG_SUSPENDED"].includes(a.body.code)));
      // after the suspension has answered, no strict verification is VALID
      const afterwards = await Promise.all(Array.from({ length: 16 }, () => verify(secret)));
      assert.deepEqual([...new Set(afterwards.map((a) => a.body.code))], ["ORG_SUSPENDED"]);
      // the edge within its bound (the isolate's cache, here; KV's propagation on Cloudflare)
      assert.ok(await until(async () => (await verify(secret, "edge")).body.code === "ORG_SUSPENDED", 10_000));
      // the admin API: 403, with its reason
      const me = await w.api("GET", "/v1/me", { token: o.secret });
      assertProblem(me, 403, "FORBIDDEN");
      assert.match(me.body.detail, /suspended/);
      // resumed: as before
      const resumed = await op("POST", `/v1/orgs/${o.org.id}/resume`);
      assert.equal(resumed.status, 200, resumed.text);
      assert.equal(resumed.body.suspended_at, null);
      assert.equal((await verify(secret)).body.code, "VALID");
      assert.ok(await until(async () => (await verify(secret, "edge")).body.code === "VALID", 10_000));
      assert.equal((await w.api("GET", "/v1/me", { token: o.secret })).status, 200);
      const audit = await w.api("GET", `/v1/audit?target=${o.org.id}`, { token: o.secret });
      const summaries = audit.body.events.map((e) => `${e.acted_by}: ${e.summary}`);
      assert.ok(summaries.includes("operator: Suspended by the operator"), summaries.join("; "));
      assert.ok(summaries.includes("operator: Resumed by the operator"), summaries.join("; "));
    });
  }
});
