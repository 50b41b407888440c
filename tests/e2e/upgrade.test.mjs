// End-to-end: an upgrade. The current build starts over a copy of the stored state that the
// previous release made (tests/e2e/fixtures/upgrade-*/: its Durable Objects and KV as Miniflare
// persisted them), and the org it holds still serves: its live tokens verify VALID at the edge and
// strictly, the revoked one stays refused, credits spent before the upgrade stay spent, the admin
// API takes the admin secret made before it, and the authority's records are migrated to the
// current storage schema on first access.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertProblem, start } from "./harness.mjs";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const releases = readdirSync(FIXTURES).filter((d) => d.startsWith("upgrade-"));

describe("upgrades", () => {
  test("there is a fixture of a previous release", () => assert.ok(releases.length > 0));

  for (const release of releases) {
    describe(`from ${release.replace("upgrade-", "")}`, () => {
      const fixture = JSON.parse(readFileSync(join(FIXTURES, release, "secrets.json"), "utf8"));
      let w;
      let dir;
      before(async () => {
        // A copy: the fixture itself is never written to.
        dir = mkdtempSync(join(tmpdir(), "keyward-upgrade-"));
        cpSync(join(FIXTURES, release, "state"), dir, { recursive: true });
        w = await start({ OPERATOR_SECRET: fixture.operator }, { persist: dir });
      });
      after(async () => {
        await w?.mf.dispose();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });
      const verify = (token, consistency) => w.api("POST", "/v1/verify", { body: { token, consistency } });

      test("the org still serves", async () => {
        const health = await w.api("GET", "/healthz");
        assert.equal(health.status, 200);
        assert.match(health.body.version, /^\d+\.\d+\.\d+/);
        // the edge reads the projection the previous release wrote
        assert.equal((await verify(fixture.live.secret, "edge")).body.code, "VALID");
        assert.equal((await verify(fixture.live.secret, "strict")).body.code, "VALID");
        assert.equal((await verify(fixture.revoked.secret, "edge")).body.code, "REVOKED");
        assert.equal((await verify(fixture.revoked.secret, "strict")).body.code, "REVOKED");
        const paid = await verify(fixture.paid.secret, "strict");
        assert.equal(paid.body.code, "VALID", paid.text);
        assert.equal(paid.body.credits.remaining, fixture.credits_left - 1);
        // the admin API, with the admin secret made before the upgrade
        const me = await w.api("GET", "/v1/me", { token: fixture.admin.secret });
        assert.equal(me.status, 200, me.text);
        assert.equal(me.body.org.id, fixture.org_id);
        const list = await w.api("GET", "/v1/tokens", { token: fixture.admin.secret });
        assert.equal(list.status, 200, list.text);
        const byId = Object.fromEntries(list.body.tokens.map((t) => [t.id, t.status]));
        assert.equal(byId[fixture.live.id], "active");
        assert.equal(byId[fixture.revoked.id], "revoked");
        // changes work: a new token verifies, a revocation holds
        const made = await w.api("POST", "/v1/tokens", {
          token: fixture.admin.secret,
          body: { label: "after the upgrade", role: "developer", kind: "org", scopes: ["billing"] },
        });
        assert.equal(made.status, 201, made.text);
        assert.equal((await verify(made.body.secret, "edge")).body.code, "VALID");
        // the operator's view, and the records now of the current storage schema
        const org = await w.api("GET", `/v1/orgs/${fixture.org_id}`, { token: fixture.operator });
        assert.equal(org.status, 200, org.text);
        // an org made before the registry existed is listed once the operator has read it
        const listed = await w.api("GET", "/v1/orgs?limit=100", { token: fixture.operator });
        assert.equal(listed.status, 200, listed.text);
        assert.deepEqual(
          listed.body.orgs.map((x) => x.id),
          [fixture.org_id],
        );
        const exported = await w.api("GET", `/v1/orgs/${fixture.org_id}/export`, { token: fixture.operator });
        assert.equal(exported.status, 200, exported.text);
        assert.equal(exported.body.schema_version, 3);
        assert.equal(exported.body.keyward_version, health.body.version);
        // the revoked token is refused by the admin API too
        assertProblem(await w.api("GET", "/v1/me", { token: fixture.revoked.secret }), 401, "UNAUTHENTICATED");
        // the audit log written before the chain is chained, oldest first, and goes on from there
        const head = await w.api("GET", "/v1/audit/head", { token: fixture.admin.secret });
        assert.equal(head.status, 200, head.text);
        const log = await w.api("GET", "/v1/audit/export", { token: fixture.admin.secret });
        const events = log.text
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l));
        assert.deepEqual(
          events.map((e) => e.seq),
          Array.from({ length: head.body.seq }, (_, i) => i + 1),
        );
        assert.equal(events[0].action, "org.created", "the oldest event first");
        assert.equal(events.at(-1).summary.includes("after the upgrade"), true, events.at(-1).summary);
        assert.equal(events.at(-1).hash, head.body.hash);
        // migrated once, on the authority's first request, and said so in the log
        assert.ok(w.logs().includes("storage schema: migrated from 1 to 3"), w.logs());
        assert.ok(!/error: storage schema/.test(w.logs()), w.logs());
      });
    });
  }
});
