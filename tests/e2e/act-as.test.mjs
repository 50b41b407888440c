// End-to-end: a SaaS backend acting for one member of one org (`Keyward-Act-As` with the operator
// secret and `Keyward-Org`): exactly that member's rights, audited as "the operator for" them;
// a wrong secret, a missing org, an unknown or deactivated member are refused, and the client's
// internal-looking headers never reach the authority as the edge's.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { OPERATOR, assertProblem, createOrg, developer, start } from "./harness.mjs";

let w;
before(async () => {
  w = await start();
});
after(() => w?.mf.dispose());

/** A call made by the operator for `member` of `org`. */
const actAs = (org, member, method, path, opts = {}) =>
  w.api(method, path, {
    token: OPERATOR,
    ...opts,
    headers: { "keyward-act-as": member, "keyward-org": org, ...(opts.headers ?? {}) },
  });

describe("acting for a member", () => {
  test("a developer acted for has a developer's rights: own tokens only, no member list", async () => {
    const o = await createOrg(w.api, "ActDev");
    const d = await developer(w.api, o.secret, "dev@actdev.io");
    const as = (method, path, opts) => actAs(o.org.id, d.member.id, method, path, opts);

    const me = await as("GET", "/v1/me");
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.member.id, d.member.id);
    assert.equal(me.body.token, null);

    assertProblem(await as("GET", "/v1/members"), 403, "FORBIDDEN");
    // Another member's token (the admin's) is out of reach: 404, as for a developer's own token.
    assertProblem(await as("GET", `/v1/tokens/${o.token.id}`), 404, "NOT_FOUND");
    assertProblem(await as("POST", `/v1/tokens/${o.token.id}/revoke`, { body: {} }), 404, "NOT_FOUND");
    // No org token, no admin role.
    assertProblem(
      await as("POST", "/v1/tokens", { body: { label: "x", role: "developer", kind: "org" } }),
      403,
      "FORBIDDEN",
    );
    assertProblem(
      await as("POST", "/v1/tokens", { body: { label: "x", role: "admin", kind: "personal" } }),
      403,
      "FORBIDDEN",
    );

    const made = await as("POST", "/v1/tokens", {
      body: { label: "from the SaaS", role: "developer", kind: "personal", scopes: ["billing"] },
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.body.token.owner.id, d.member.id);
    assert.equal(made.body.token.created_by.id, d.member.id);
    assert.equal(made.body.token.created_with, null);
    const verified = await w.api("POST", "/v1/verify", { body: { token: made.body.secret, consistency: "strict" } });
    assert.equal(verified.body.code, "VALID", verified.text);

    const listed = await as("GET", "/v1/tokens");
    assert.deepEqual(listed.body.tokens.map((t) => t.id).sort(), [d.token.token.id, made.body.token.id].sort());

    const revoked = await as("POST", `/v1/tokens/${made.body.token.id}/revoke`, {
      body: { confirm_label: "from the SaaS" },
    });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.body.state, "revoked");
    const after = await w.api("POST", "/v1/verify", { body: { token: made.body.secret, consistency: "strict" } });
    assert.equal(after.body.code, "REVOKED", after.text);

    // The audit names the operator and the member, and no token.
    const audit = await w.api("GET", `/v1/audit?target=${made.body.token.id}`, { token: o.secret });
    assert.equal(audit.status, 200, audit.text);
    assert.deepEqual(
      audit.body.events.map((e) => [e.action, e.acted_by, e.actor_member_id, e.actor_token_id]),
      [
        ["token.revoked", "operator", d.member.id, null],
        ["token.created", "operator", d.member.id, null],
      ],
    );
  });

  test("an admin acted for does admin things", async () => {
    const o = await createOrg(w.api, "ActAdmin");
    const as = (method, path, opts) => actAs(o.org.id, o.member.id, method, path, opts);
    const members = await as("GET", "/v1/members");
    assert.equal(members.status, 200, members.text);
    const added = await as("POST", "/v1/members", {
      body: { email: "new@actadmin.io", name: "New", role: "developer" },
    });
    assert.equal(added.status, 201, added.text);
    const orgToken = await as("POST", "/v1/tokens", {
      body: { label: "ci", role: "admin", kind: "org", scopes: ["billing", "keyward:read"] },
    });
    assert.equal(orgToken.status, 201, orgToken.text);
    assert.equal(orgToken.body.token.created_with, null);
    const renamed = await as("PATCH", "/v1/org", { body: { name: "ActAdmin Renamed" } });
    assert.equal(renamed.status, 200, renamed.text);
    const audit = await w.api("GET", `/v1/audit?target=${added.body.id}`, { token: o.secret });
    assert.deepEqual(
      audit.body.events.map((e) => [e.acted_by, e.actor_member_id, e.actor_token_id]),
      [["operator", o.member.id, null]],
    );
  });

  test("refused: a wrong secret, a token as bearer, no org, another org, unknown or deactivated members", async () => {
    const o = await createOrg(w.api, "ActRefused");
    const other = await createOrg(w.api, "ActOther");
    const d = await developer(w.api, o.secret, "dev@actrefused.io");
    const headers = { "keyward-act-as": d.member.id, "keyward-org": o.org.id };
    assertProblem(await w.api("GET", "/v1/me", { token: "not-the-operator", headers }), 401, "UNAUTHENTICATED");
    assertProblem(await w.api("GET", "/v1/me", { token: o.secret, headers }), 401, "UNAUTHENTICATED");
    assertProblem(await w.api("GET", "/v1/me", { headers }), 401, "UNAUTHENTICATED");
    assertProblem(
      await w.api("GET", "/v1/me", { token: OPERATOR, headers: { "keyward-act-as": d.member.id } }),
      400,
      "BAD_REQUEST",
    );
    // The member of another org, or an unknown one: not a member there.
    assertProblem(await actAs(other.org.id, d.member.id, "GET", "/v1/me"), 401, "UNAUTHENTICATED");
    assertProblem(await actAs(o.org.id, "mem_00000000000000000000", "GET", "/v1/me"), 401, "UNAUTHENTICATED");
    assertProblem(await actAs("org_00000000000000000000", o.member.id, "GET", "/v1/me"), 401, "UNAUTHENTICATED");
    // Deactivated: refused from then on.
    const off = await w.api("PATCH", `/v1/members/${d.member.id}`, {
      token: o.secret,
      body: { status: "deactivated" },
    });
    assert.equal(off.status, 200, off.text);
    assertProblem(await actAs(o.org.id, d.member.id, "GET", "/v1/me"), 401, "UNAUTHENTICATED");
  });

  test("a token caller's own Keyward-Org or Keyward-Token headers change nothing", async () => {
    const o = await createOrg(w.api, "Spoofer");
    const victim = await createOrg(w.api, "Victim");
    const me = await w.api("GET", "/v1/me", {
      token: o.secret,
      headers: { "keyward-org": victim.org.id, "keyward-token": victim.token.id },
    });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.org.id, o.org.id);
    assert.equal(me.body.token.id, o.token.id);
  });
});
