// End-to-end: the operator lists orgs, deletes one (with verifications in flight; nothing of it
// left in KV afterwards, only its tombstone in the registry) and issues a recovery token to an org
// nobody can sign in to (it works, every admin is emailed, it expires); the operator's audit log
// has each. Runs on the `faults` build, whose authority clock can be moved ahead.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { OPERATOR, assertProblem, createOrg, dumpKv, start, until } from "./harness.mjs";

let w;
before(async () => {
  w = await start({}, { scriptPath: "build-faults/index.js" });
});
after(() => w?.mf.dispose());

const op = (method, path, body) => w.api(method, path, { token: OPERATOR, body });
const verify = (token, consistency = "strict") => w.api("POST", "/v1/verify", { body: { token, consistency } });
const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");
/** Recipients of the emails whose subject contains `part`. */
const mailedTo = (part) =>
  plain(w.logs())
    .split("send_email binding called with MessageBuilder:")
    .slice(1)
    .filter((c) => c.match(/^Subject: (.*)$/m)?.[1]?.includes(part))
    .map((c) => c.match(/^To: (.*)$/m)?.[1]?.trim());

/** Every org of the listing, page by page. */
async function everyOrg(limit) {
  const seen = [];
  let cursor = "";
  for (let pages = 0; pages < 100; pages++) {
    const r = await op("GET", `/v1/orgs?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.orgs.length <= limit);
    seen.push(...r.body.orgs);
    if (!r.body.cursor) return seen;
    cursor = r.body.cursor;
  }
  assert.fail("the listing did not end");
}

async function operatorEvents() {
  const r = await op("GET", "/v1/operator/audit?limit=100");
  assert.equal(r.status, 200, r.text);
  return r.body.events;
}

describe("the operator's orgs", () => {
  test("list by cursor: every org once; only the operator; bad parameters are 422", async () => {
    const made = [];
    for (const name of ["ListA", "ListB", "ListC"]) made.push((await createOrg(w.api, name)).org.id);
    const seen = await everyOrg(2);
    const ids = seen.map((o) => o.id);
    assert.equal(new Set(ids).size, ids.length, "no org twice");
    for (const id of made) assert.ok(ids.includes(id), `${id} listed`);
    const a = seen.find((o) => o.id === made[0]);
    assert.deepEqual([a.name, a.suspended_at], ["ListA", null]);
    assertProblem(await w.api("GET", "/v1/orgs"), 401, "UNAUTHENTICATED");
    const o = await createOrg(w.api, "NotOperator");
    assertProblem(await w.api("GET", "/v1/orgs", { token: o.secret }), 401, "UNAUTHENTICATED");
    for (const q of ["limit=0", "limit=101", "limit=x", "cursor=junk"]) {
      const r = await op("GET", `/v1/orgs?${q}`);
      assertProblem(r, 422, "VALIDATION_FAILED");
    }
    const events = await operatorEvents();
    assert.ok(events.some((e) => e.action === "org.created" && e.org_id === made[2]));
  });

  for (let run = 1; run <= 3; run++) {
    test(`run ${run}: delete with verifications in flight; nothing of the org is left in KV`, async () => {
      const name = `Deleted${run}`;
      const o = await createOrg(w.api, name);
      const keep = await createOrg(w.api, `Kept${run}`);
      const secrets = [o.secret];
      for (const kind of ["org", "personal"]) {
        const t = await w.api("POST", "/v1/tokens", {
          token: o.secret,
          body: {
            label: `svc ${kind}`,
            role: "developer",
            kind,
            ...(kind === "personal" ? { owner_member_id: o.member.id } : {}),
          },
        });
        assert.equal(t.status, 201, t.text);
        secrets.push(t.body.secret);
      }
      for (const s of secrets) assert.equal((await verify(s, "edge")).body.code, "VALID");
      assert.ok(await until(async () => (await dumpKv(w.kv)).includes(`o:${o.org.id}:u:`), 5000), "a last use in KV");
      // the name must be typed exactly; a refusal changes nothing
      assertProblem(
        await op("DELETE", `/v1/orgs/${o.org.id}`, { confirm_name: name.toLowerCase() }),
        422,
        "VALIDATION_FAILED",
      );
      assertProblem(await op("DELETE", `/v1/orgs/${o.org.id}`, {}), 422, "VALIDATION_FAILED");
      assertProblem(
        await w.api("DELETE", `/v1/orgs/${o.org.id}`, { token: o.secret, body: { confirm_name: name } }),
        401,
        "UNAUTHENTICATED",
      );
      assert.equal((await verify(secrets[1])).body.code, "VALID");

      const inFlight = Array.from({ length: 32 }, (_, i) => verify(secrets[i % secrets.length]));
      const deleted = await op("DELETE", `/v1/orgs/${o.org.id}`, { confirm_name: name });
      assert.equal(deleted.status, 200, deleted.text);
      assert.deepEqual([deleted.body.id, deleted.body.erased], [o.org.id, true]);
      for (const a of await Promise.all(inFlight)) assert.ok(["VALID", "NOT_FOUND"].includes(a.body.code), a.text);
      // after the deletion has answered: nothing verifies strictly, the edge follows within its bound
      const afterwards = await Promise.all(secrets.flatMap((s) => [verify(s), verify(s)]));
      assert.deepEqual([...new Set(afterwards.map((a) => a.body.code))], ["NOT_FOUND"]);
      for (const s of secrets) {
        assert.ok(await until(async () => (await verify(s, "edge")).body.code === "NOT_FOUND", 10_000));
      }
      // KV holds nothing of it: no key or value names the org, no verify entry is left
      const kv = await dumpKv(w.kv);
      assert.ok(!kv.includes(o.org.id), "KV still names the deleted org");
      assert.ok(kv.includes(keep.org.id), "the other org is untouched");
      assert.equal((await verify(keep.secret)).body.code, "VALID");
      // gone for every caller; the listing keeps only its tombstone
      assertProblem(await w.api("GET", "/v1/me", { token: o.secret }), 401, "UNAUTHENTICATED");
      assertProblem(await op("GET", `/v1/orgs/${o.org.id}`), 404, "NOT_FOUND");
      // a repeat continues the same deletion (until its last sweep, a minute later)
      const again = await op("DELETE", `/v1/orgs/${o.org.id}`, { confirm_name: name });
      assert.deepEqual([again.status, again.body.deleted_at], [200, deleted.body.deleted_at], again.text);
      const listed = (await everyOrg(100)).find((x) => x.id === o.org.id);
      assert.deepEqual(Object.keys(listed).sort(), ["deleted_at", "id"]);
      assert.equal(listed.deleted_at, deleted.body.deleted_at);
      const events = await operatorEvents();
      const ours = events.filter((e) => e.action === "org.deleted" && e.org_id === o.org.id);
      assert.equal(ours.length, 1, "one deletion, one event");
    });
  }

  test("eight deletions of one org at once: one deletion, one event, no other answer than 200", async () => {
    const o = await createOrg(w.api, "Raced");
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => op("DELETE", `/v1/orgs/${o.org.id}`, { confirm_name: "Raced" })),
    );
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [200], answers.map((a) => a.text).join("\n"));
    assert.equal(new Set(answers.map((a) => a.body.deleted_at)).size, 1);
    const events = await operatorEvents();
    assert.equal(events.filter((e) => e.action === "org.deleted" && e.org_id === o.org.id).length, 1);
    // suspending a suspended org is no new action either
    const s = await createOrg(w.api, "Twice");
    for (let i = 0; i < 3; i++) assert.equal((await op("POST", `/v1/orgs/${s.org.id}/suspend`)).status, 200);
    const suspended = (await operatorEvents()).filter((e) => e.action === "org.suspended" && e.org_id === s.org.id);
    assert.equal(suspended.length, 1);
    // the log names people by id, never by email
    assert.ok(!JSON.stringify(await operatorEvents()).includes("@"), "an email in the operator's log");
  });

  for (let run = 1; run <= 3; run++) {
    test(`run ${run}: eight recoveries for one new admin at once add one member; eight suspends, one event`, async () => {
      const o = await createOrg(w.api, `Flock${run}`);
      const email = `rescuer${run}@flock.io`;
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          op("POST", `/v1/orgs/${o.org.id}/recovery`, {
            admin: { email: i % 2 ? email.toUpperCase() : email, name: "Rescuer" },
          }),
        ),
      );
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [201, 422, 422, 422, 422, 422, 422, 422], answers.map((a) => a.text).join("\n"));
      const members = await w.api("GET", "/v1/members", { token: o.secret });
      assert.equal(members.body.members.filter((m) => m.email.toLowerCase() === email).length, 1);
      const suspends = await Promise.all(Array.from({ length: 8 }, () => op("POST", `/v1/orgs/${o.org.id}/suspend`)));
      assert.deepEqual([...new Set(suspends.map((a) => a.status))], [200]);
      const events = (await operatorEvents()).filter((e) => e.action === "org.suspended" && e.org_id === o.org.id);
      assert.equal(events.length, 1, "one suspension, one event");
      assert.equal((await op("POST", `/v1/orgs/${o.org.id}/resume`)).status, 200);
    });
  }

  test("recovery: a locked-out org gets a day-long admin token; every admin is emailed; it expires", async () => {
    const o = await createOrg(w.api, "Locked");
    const grace = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "grace@locked.io", name: "Grace", role: "admin" },
    });
    assert.equal(grace.status, 201, grace.text);
    const dev = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "dev@locked.io", name: "Dev", role: "developer" },
    });
    // emails are off in the org's policy: a recovery is emailed anyway
    const off = await w.api("PATCH", "/v1/org", { token: o.secret, body: { policy: { email_notifications: false } } });
    assert.equal(off.status, 200, off.text);
    // locked out: the one admin token is revoked
    const revoked = await w.api("POST", `/v1/tokens/${o.token.id}/revoke`, {
      token: o.secret,
      body: { confirm_label: o.token.label },
    });
    assert.equal(revoked.status, 200, revoked.text);
    assertProblem(await w.api("GET", "/v1/me", { token: o.secret }), 401, "UNAUTHENTICATED");

    const path = `/v1/orgs/${o.org.id}/recovery`;
    assertProblem(await op("POST", path, { member_id: dev.body.id }), 422, "VALIDATION_FAILED");
    assertProblem(await op("POST", path, {}), 422, "VALIDATION_FAILED");
    assertProblem(await w.api("POST", path, { body: { member_id: o.member.id } }), 401, "UNAUTHENTICATED");
    const r = await op("POST", path, { member_id: o.member.id });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get("cache-control"), "no-store");
    assert.equal(r.body.token.role, "admin");
    const hours = (Date.parse(r.body.token.expires_at) - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, `expires in ${hours} h`);
    const me = await w.api("GET", "/v1/me", { token: r.body.secret });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.member.id, o.member.id);
    // every active admin is emailed at once; the developer is not
    const locked = () => mailedTo('"Recovery token" issued for recovery').filter((t) => t.includes("locked.io"));
    assert.ok(await until(() => locked().length >= 2, 10_000), w.logs());
    const to = mailedTo('"Recovery token" issued for recovery')
      .filter((t) => t.includes("locked.io"))
      .sort();
    assert.deepEqual(to, ["admin@locked.io", "grace@locked.io"]);
    // audited in the org, as the operator's, and in the operator's log
    const audit = await w.api("GET", `/v1/audit?target=${r.body.token.id}`, { token: r.body.secret });
    assert.deepEqual(
      audit.body.events.map((e) => [e.acted_by, e.actor_token_id]),
      [["operator", null]],
    );
    const events = await operatorEvents();
    const issued = events.find((e) => e.action === "org.recovery_issued" && e.org_id === o.org.id);
    assert.ok(issued.summary.includes(o.member.id), issued.summary);
    assert.ok(!JSON.stringify(events).includes(r.body.secret), "no secret in the operator's log");
    // a day later it is dead (the authority's test clock; this test runs last)
    const moved = await w.api("POST", "/v1/_test/faults", { token: r.body.secret, body: { advance_seconds: 86_401 } });
    assert.equal(moved.status, 200, moved.text);
    assert.equal((await verify(r.body.secret)).body.code, "EXPIRED");
    assertProblem(await w.api("GET", "/v1/me", { token: r.body.secret }), 401, "UNAUTHENTICATED");
  });
});
