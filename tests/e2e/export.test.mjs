// End-to-end: the operator exports an org and restores it in another, empty deployment (a second
// Worker with its own Durable Objects and KV): live tokens verify VALID there, at the edge and
// strictly, revoked ones stay refused, spent credits stay spent, and the admin API takes the
// original admin secret. An export is the operator's only, and is refused for an unknown org; an
// import is refused when the org exists, and is checked whole before anything is written; eight
// identical imports at once land once.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { OPERATOR, assertProblem, createOrg, dumpKv, start } from "./harness.mjs";

let source;
let target;
before(async () => {
  [source, target] = await Promise.all([start(), start()]);
});
after(async () => {
  await source?.mf.dispose();
  await target?.mf.dispose();
});

const verify = (w, token, consistency) => w.api("POST", "/v1/verify", { body: { token, consistency } });

/** An org with a live token, a revoked one, one with credits (one spent) and a webhook. */
async function populated(name) {
  const o = await createOrg(source.api, name);
  const make = async (label, extra = {}) => {
    const r = await source.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label, role: "developer", kind: "org", scopes: ["billing"], ...extra },
    });
    assert.equal(r.status, 201, r.text);
    return r.body;
  };
  const live = await make("live");
  const revoked = await make("revoked");
  const paid = await make("paid", { credits: { remaining: 5 } });
  const r = await source.api("POST", `/v1/tokens/${revoked.token.id}/revoke`, {
    token: o.secret,
    body: { confirm_label: "revoked" },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal((await verify(source, paid.secret)).body.credits.remaining, 4);
  return { o, live, revoked, paid };
}

async function exportOf(w, id) {
  const r = await w.api("GET", `/v1/orgs/${id}/export`, { token: OPERATOR });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("cache-control"), "no-store");
  return r;
}

const importInto = (w, text) =>
  w.api("POST", "/v1/orgs/import", {
    token: OPERATOR,
    raw: text,
    headers: { "content-type": "application/json" },
  });

describe("export and restore of an org", () => {
  test("round trip into an empty deployment", async () => {
    const { o, live, revoked, paid } = await populated("Moved");
    const e = await exportOf(source, o.org.id);
    assert.equal(e.body.format, "keyward-org-export");
    assert.equal(e.body.version, 1);
    assert.match(e.body.warning, /^SECRET/);
    assert.equal(e.body.schema_version, 3);
    assert.equal(e.body.org_id, o.org.id);
    for (const s of [o.secret, live.secret, revoked.secret, paid.secret]) assert.ok(!e.text.includes(s), "a secret");
    // nothing of the org in the empty deployment yet
    assert.equal((await verify(target, live.secret)).body.code, "NOT_FOUND");
    const r = await importInto(target, e.text);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get("cache-control"), "no-store");
    assert.equal(r.body.org.id, o.org.id);
    assert.equal(r.body.tokens, 4);
    assert.equal(r.body.webhook, null);
    // live tokens verify VALID, at the edge and strictly; the revoked one stays refused
    for (const s of [live.secret, o.secret]) {
      assert.equal((await verify(target, s, "edge")).body.code, "VALID");
      assert.equal((await verify(target, s, "strict")).body.code, "VALID");
    }
    assert.equal((await verify(target, revoked.secret, "edge")).body.code, "REVOKED");
    assert.equal((await verify(target, revoked.secret, "strict")).body.code, "REVOKED");
    const spent = await verify(target, paid.secret);
    assert.equal(spent.body.code, "VALID", spent.text);
    assert.equal(spent.body.credits.remaining, 3, "the credit spent before the move stays spent");
    // the verify projection in the new KV is the one the records call for
    assert.ok((await dumpKv(target.kv)).includes(o.org.id));
    // the admin API takes the original admin secret, and the audit log says what happened
    const tokens = await target.api("GET", "/v1/tokens", { token: o.secret });
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal(tokens.body.tokens.length, 4);
    const audit = await target.api("GET", "/v1/audit", { token: o.secret });
    assert.match(audit.body.events[0].summary, /^Restored by the operator from an export of /);
    assert.equal(audit.body.events[0].acted_by, "operator");
    assert.ok(audit.body.events.some((ev) => ev.action === "token.revoked"));
    const made = await target.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "after the move", role: "developer", kind: "org" },
    });
    assert.equal(made.status, 201, made.text);
    assert.equal((await verify(target, made.body.secret)).body.code, "VALID");
    // the restored org exports again, with the same records and the restore's audit event
    const again = await exportOf(target, o.org.id);
    assert.ok(again.body.records.length > e.body.records.length);
    // where the org exists, an import is refused and changes nothing: the org, its members,
    // tokens and audit log stay as they were (notifications, meters, usage days and last uses
    // may move meanwhile: sends and usage reports run off the response path)
    const kept = (x) => x.body.records.filter((r) => /^o:[^:]+(:[mta]:.*)?$/.test(r.k));
    const before = await exportOf(target, o.org.id);
    assertProblem(await importInto(target, e.text), 409, "CONFLICT");
    assertProblem(await importInto(source, e.text), 409, "CONFLICT");
    assert.deepEqual(kept(await exportOf(target, o.org.id)), kept(before));
    assert.ok(kept(before).some((r) => r.k.includes(":t:")) && kept(before).some((r) => r.k.includes(":a:")));
  });

  test("a restored org is listed and in the operator's log; a deleted one waits for its erasure", async () => {
    const { o, live } = await populated("Returning");
    const e = await exportOf(source, o.org.id);
    const r = await importInto(target, e.text);
    assert.equal(r.status, 201, r.text);
    // the listing of the deployment it came to shows it alive
    const listed = [];
    let cursor = "";
    do {
      const q = `/v1/orgs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = await target.api("GET", q, { token: OPERATOR });
      assert.equal(page.status, 200, page.text);
      listed.push(...page.body.orgs);
      cursor = page.body.cursor;
    } while (cursor);
    const mine = listed.filter((x) => x.id === o.org.id);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].name, "Returning");
    assert.equal(mine[0].deleted_at, undefined);
    // each deployment's operator log has its half
    const events = async (w) => {
      const log = await w.api("GET", "/v1/operator/audit?limit=100", { token: OPERATOR });
      assert.equal(log.status, 200, log.text);
      for (const ev of log.body.events) assert.ok(!JSON.stringify(ev).includes(o.secret));
      return log.body.events.filter((ev) => ev.org_id === o.org.id).map((ev) => ev.action);
    };
    assert.ok((await events(source)).includes("org.exported"));
    assert.ok((await events(target)).includes("org.imported"));
    // deleted where it was: no export, and no restore until its erasure's last sweep (a minute)
    const del = await source.api("DELETE", `/v1/orgs/${o.org.id}`, {
      token: OPERATOR,
      body: { confirm_name: "Returning" },
    });
    assert.equal(del.status, 200, del.text);
    assertProblem(await source.api("GET", `/v1/orgs/${o.org.id}/export`, { token: OPERATOR }), 404, "NOT_FOUND");
    const early = await importInto(source, e.text);
    assertProblem(early, 409, "CONFLICT");
    assert.match(early.body.detail, /being deleted/);
    assert.equal((await verify(source, live.secret, "strict")).body.code, "NOT_FOUND");
    // the copy in the other deployment is untouched
    assert.equal((await verify(target, live.secret, "strict")).body.code, "VALID");
  });

  test("the webhook comes back with a new signing secret", async () => {
    const o = await createOrg(source.api, "Hooked");
    const put = await source.api("PUT", "/v1/org/webhook", {
      token: o.secret,
      body: { url: "https://hooks.example/keyward" },
    });
    assert.equal(put.status, 201, put.text);
    const e = await exportOf(source, o.org.id);
    assert.ok(!e.text.includes(put.body.secret), "the signing secret is not exported");
    const r = await importInto(target, e.text);
    assert.equal(r.status, 201, r.text);
    assert.match(r.body.webhook.secret, /^whsec_/);
    assert.notEqual(r.body.webhook.secret, put.body.secret);
    const hook = await target.api("GET", "/v1/org/webhook", { token: o.secret });
    assert.equal(hook.body.webhook.url, "https://hooks.example/keyward");
  });

  test("only the operator exports, and only an org that exists", async () => {
    const o = await createOrg(source.api, "Guarded");
    assertProblem(await source.api("GET", `/v1/orgs/${o.org.id}/export`), 401, "UNAUTHENTICATED");
    assertProblem(await source.api("GET", `/v1/orgs/${o.org.id}/export`, { token: o.secret }), 401, "UNAUTHENTICATED");
    assertProblem(
      await source.api("GET", "/v1/orgs/org_00000000000000000000/export", { token: OPERATOR }),
      404,
      "NOT_FOUND",
    );
    assertProblem(await source.api("GET", "/v1/orgs/nope/export", { token: OPERATOR }), 404, "NOT_FOUND");
    const e = await exportOf(source, o.org.id);
    assertProblem(
      await target.api("POST", "/v1/orgs/import", { token: o.secret, raw: e.text }),
      401,
      "UNAUTHENTICATED",
    );
    assertProblem(await target.api("POST", "/v1/orgs/import", { raw: e.text }), 401, "UNAUTHENTICATED");
  });

  test("a malformed or foreign import is refused whole", async () => {
    const { o, live } = await populated("Strict");
    const e = await exportOf(source, o.org.id);
    assertProblem(await importInto(target, "{"), 400, "BAD_REQUEST");
    assertProblem(await importInto(target, "[]"), 400, "BAD_REQUEST");
    assertProblem(await importInto(target, "{}"), 422, "VALIDATION_FAILED");
    const bad = (change) => {
      const copy = structuredClone(e.body);
      change(copy);
      return JSON.stringify(copy);
    };
    const foreign = await importInto(
      target,
      bad((c) => c.records.push({ k: "o:org_00000000000000000000:m:mem_1", v: {} })),
    );
    assertProblem(foreign, 422, "VALIDATION_FAILED");
    assert.match(foreign.body.errors[`records[${e.body.records.length}].k`], /not a key of this org/);
    const broken = await importInto(
      target,
      bad((c) => {
        const t = c.records.find((r) => r.k.includes(":t:"));
        t.v.hash = "not a hash";
      }),
    );
    assertProblem(broken, 422, "VALIDATION_FAILED");
    const newer = await importInto(
      target,
      bad((c) => (c.schema_version = 99)),
    );
    assertProblem(newer, 422, "VALIDATION_FAILED");
    assert.match(newer.body.errors.schema_version, /newer/);
    const twice = await importInto(
      target,
      bad((c) => c.records.push(c.records[1])),
    );
    assertProblem(twice, 422, "VALIDATION_FAILED");
    // none of it wrote anything: the org is unknown there
    assertProblem(await target.api("GET", `/v1/orgs/${o.org.id}`, { token: OPERATOR }), 404, "NOT_FOUND");
    assert.equal((await verify(target, live.secret)).body.code, "NOT_FOUND");
    // the same records under another org id: its hashes are another org's here
    const { o: mine } = await populated("Mine");
    const me = await exportOf(source, mine.org.id);
    const other = "org_ZZZZZZZZZZZZZZZZZZZZ";
    const renamed = JSON.parse(me.text.replaceAll(mine.org.id, other));
    // (its audit log names the old id in its events' targets: no longer whole, refused first)
    const unchained = await importInto(source, JSON.stringify(renamed));
    assertProblem(unchained, 422, "VALIDATION_FAILED");
    assert.match(unchained.body.errors.records, /audit log that is not whole: the chain breaks at seq 1/);
    renamed.records = renamed.records.filter((r) => !/:a:|:ah$/.test(r.k));
    assertProblem(await importInto(source, JSON.stringify(renamed)), 409, "CONFLICT");
    assertProblem(await source.api("GET", `/v1/orgs/${other}`, { token: OPERATOR }), 404, "NOT_FOUND");
    // over 8 MiB
    const huge = JSON.stringify({ ...e.body, padding: "x".repeat(8 * 1024 * 1024) });
    assertProblem(await importInto(target, huge), 413, "PAYLOAD_TOO_LARGE");
  });

  test("eight identical imports at once: one lands, seven are refused, nothing half-written", async () => {
    const { o, live, revoked } = await populated("Parallel");
    const e = await exportOf(source, o.org.id);
    const answers = await Promise.all(Array.from({ length: 8 }, () => importInto(target, e.text)));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409], answers.map((a) => a.text).join("\n"));
    for (const a of answers.filter((a) => a.status === 409)) assertProblem(a, 409, "CONFLICT");
    // exactly the export's records plus one restore event, once
    const now = await exportOf(target, o.org.id);
    const restores = now.body.records.filter((r) => r.k.includes(":a:") && /^Restored/.test(r.v.summary));
    assert.equal(restores.length, 1);
    const keys = (x) => x.body.records.map((r) => r.k).filter((k) => !k.includes(":a:") && !k.includes(":wh"));
    assert.deepEqual(keys(now), keys(e));
    assert.equal((await verify(target, live.secret, "strict")).body.code, "VALID");
    assert.equal((await verify(target, revoked.secret, "edge")).body.code, "REVOKED");
  });
});
