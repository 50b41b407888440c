// End-to-end: keys brought from elsewhere (POST /v1/tokens/import) verify by their original
// strings under the deployment's LEGACY_KEY_FORMATS, in workerd.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { assertProblem, createOrg, start, until } from "./harness.mjs";

const FORMATS = [{ prefix: "sk_live_", min: 24, max: 64, alphabet: "base62" }];
const sha256 = (s) => createHash("sha256").update(s).digest("hex");
/** A legacy key, distinct per `run` and `n`. */
const key = (run, n) => `sk_live_${run}x${String(n).padStart(24, "0")}`;
const entry = (k, extra = {}) => ({
  sha256: sha256(k),
  hint: k.slice(-4),
  label: "legacy",
  kind: "org",
  role: "developer",
  scopes: ["billing"],
  expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  ...extra,
});

let w;
let admin;
before(async () => {
  w = await start({ LEGACY_KEY_FORMATS: JSON.stringify(FORMATS) });
  admin = (await createOrg(w.api, "Brought")).secret;
});
after(() => w?.mf.dispose());

const verify = (token, extra = {}) => w.api("POST", "/v1/verify", { body: { token, ...extra } });
const importKeys = (tokens, token = admin) => w.api("POST", "/v1/tokens/import", { token, body: { tokens } });

describe("POST /v1/tokens/import", () => {
  test("1 000 imported keys verify by their original strings", async () => {
    const keys = Array.from({ length: 1000 }, (_, n) => key("a", n));
    const r = await importKeys(keys.map((k) => entry(k)));
    assert.equal(r.status, 201, r.text.slice(0, 500));
    assert.equal(r.body.tokens.length, 1000);
    assert.ok(r.body.tokens.every((t) => t.imported === true && t.prefix === "" && t.masked.endsWith(t.hint)));
    for (let i = 0; i < keys.length; i += 50) {
      const answers = await Promise.all(keys.slice(i, i + 50).map((k) => verify(k, { scopes: ["billing"] })));
      for (const a of answers) assert.equal(a.body.code, "VALID", a.text);
    }
    const strict = await verify(keys[123], { consistency: "strict" });
    assert.equal(strict.body.code, "VALID");
    assert.equal(strict.body.token.id, r.body.tokens[123].id);
    // Of a declared shape but never imported: NOT_FOUND; of no declared shape: MALFORMED.
    assert.equal((await verify(key("z", 1))).body.code, "NOT_FOUND");
    for (const junk of ["sk_live_short", "sk_test_000000000000000000000000", `${key("a", 1)}-`]) {
      assert.equal((await verify(junk)).body.code, "MALFORMED", junk);
    }
    // Listed and revocable like any other token.
    const id = r.body.tokens[5].id;
    const revoked = await w.api("POST", `/v1/tokens/${id}/revoke`, { token: admin, body: { confirm_label: "legacy" } });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal((await verify(keys[5])).body.code, "REVOKED");
  });

  test("refusals: 422 names the entry, a known hash is 409, over 1 MiB is 413, developers 403", async () => {
    const bad = await importKeys([
      entry(key("b", 1)),
      entry(key("b", 2)),
      entry(key("b", 3)),
      entry(key("b", 4), { role: "owner" }),
    ]);
    assertProblem(bad, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(bad.body.errors), ["tokens[3].role"]);
    assert.equal((await verify(key("b", 1))).body.code, "NOT_FOUND", "nothing of a refused import is kept");
    assert.equal((await importKeys([entry(key("b", 1))])).status, 201);
    const again = await importKeys([entry(key("b", 2)), entry(key("b", 1))]);
    assertProblem(again, 409, "CONFLICT");
    assert.match(again.body.detail, /tokens\[1\]\.sha256/);
    const huge = await importKeys(
      Array.from({ length: 1000 }, (_, n) => entry(key("c", n), { label: "x".repeat(1200) })),
    );
    assertProblem(huge, 413, "PAYLOAD_TOO_LARGE");
    const dev = await w.api("POST", "/v1/tokens", {
      token: admin,
      body: { label: "d", role: "developer", kind: "org", scopes: ["keyward:manage"] },
    });
    assertProblem(await importKeys([entry(key("d", 1))], dev.body.secret), 403, "FORBIDDEN");
  });

  test("an imported key never reaches keyward itself, not even in keyward's own format", async () => {
    // A keyward-format string the admin chose (its checksum made with a real token's rule).
    const real = (await w.api("POST", "/v1/tokens", { token: admin, body: { label: "k", role: "admin", kind: "org" } }))
      .body.secret;
    const r = await importKeys([entry(real, { role: "admin", label: "chosen" })]);
    assertProblem(r, 409, "CONFLICT"); // a keyward secret's hash is known
    const revokedOld = await w.api("POST", "/v1/tokens", {
      token: admin,
      body: { label: "gone", role: "admin", kind: "org" },
    });
    const chosen = revokedOld.body.secret;
    await w.api("DELETE", `/v1/tokens/${revokedOld.body.token.id}`, { token: admin, body: { confirm_label: "gone" } });
    const again = await importKeys([entry(chosen, { role: "admin", label: "chosen" })]);
    assert.equal(again.status, 201, again.text);
    const id = again.body.tokens[0].id;
    const etag = (await w.api("GET", `/v1/tokens/${id}`, { token: admin })).headers.get("etag");
    const patch = await w.api("PATCH", `/v1/tokens/${id}`, {
      token: admin,
      headers: { "if-match": etag },
      body: { scopes: ["billing", "keyward:manage"] },
    });
    assertProblem(patch, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(patch.body.errors), ["scopes"]);
    assert.equal((await verify(chosen)).body.code, "VALID", "it verifies for the customer's services");
    assertProblem(await w.api("GET", "/v1/me", { token: chosen }), 401, "UNAUTHENTICATED");
    // A strict miss is KV's: as stale as an edge answer.
    const miss = await verify(key("m", 1), { consistency: "strict" });
    assert.deepEqual([miss.body.code, miss.body.consistency, miss.body.max_staleness_s], ["NOT_FOUND", "strict", 65]);
  });

  test("the same import sent eight times at once lands once", async () => {
    for (let run = 0; run < 3; run++) {
      const tokens = Array.from({ length: 20 }, (_, n) => entry(key(`p${run}`, n)));
      const answers = await Promise.all(Array.from({ length: 8 }, () => importKeys(tokens)));
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(
        statuses,
        [201, 409, 409, 409, 409, 409, 409, 409],
        answers.map((a) => a.text.slice(0, 200)).join("\n"),
      );
      const list = await w.api("GET", "/v1/tokens?kind=org", { token: admin });
      assert.equal(list.status, 200);
      for (const t of tokens) assert.equal((await verify(key(`p${run}`, tokens.indexOf(t)))).body.code, "VALID");
    }
  });

  test("two orgs importing the same key at once: one holds it, for good", async () => {
    const other = (await createOrg(w.api, "Twin")).secret;
    for (let run = 0; run < 8; run++) {
      const k = key(`t${run}`, 1);
      const [a, b] = await Promise.all([importKeys([entry(k)]), importKeys([entry(k)], other)]);
      assert.deepEqual([a.status, b.status].sort(), [201, 409], `${a.text}\n${b.text}`);
      const winner = a.status === 201 ? a : b;
      const v = await verify(k, { consistency: "strict" });
      assert.equal(v.body.token.id, winner.body.tokens[0].id);
    }
    // A refused import gives back what it claimed: an owner who is not a member (422 after the
    // claim) leaves the key free for another org.
    const free = key("u", 1);
    const refused = await importKeys([entry(free, { kind: "personal", owner_member_id: "mem_000000000000000000000" })]);
    assertProblem(refused, 422, "VALIDATION_FAILED");
    assert.equal((await importKeys([entry(free)], other)).status, 201);
    // A key once held stays its org's, even deleted: another org cannot take it over.
    const list = await w.api("GET", "/v1/tokens?kind=org", { token: other });
    const held = list.body.tokens.find((t) => t.hint === free.slice(-4) && t.imported);
    const del = await w.api("DELETE", `/v1/tokens/${held.id}`, { token: other, body: { confirm_label: "legacy" } });
    assert.equal(del.status, 204, del.text);
    assertProblem(await importKeys([entry(free)]), 409, "CONFLICT");
    assert.equal((await importKeys([entry(free)], other)).status, 201, "its own org may bring it back");
  });

  test("an import racing a member's deactivation leaves none of their keys verifying", async () => {
    for (let run = 0; run < 5; run++) {
      const m = await w.api("POST", "/v1/members", {
        token: admin,
        body: { email: `racer${run}@brought.io`, name: "R", role: "developer" },
      });
      assert.equal(m.status, 201, m.text);
      const keys = Array.from({ length: 8 }, (_, n) => key(`r${run}`, n));
      const personal = keys.map((k) => entry(k, { kind: "personal", owner_member_id: m.body.id }));
      const [imported, deactivated] = await Promise.all([
        importKeys(personal),
        w.api("PATCH", `/v1/members/${m.body.id}`, { token: admin, body: { status: "deactivated" } }),
      ]);
      assert.equal(deactivated.status, 200, deactivated.text);
      assert.ok([201, 422].includes(imported.status), imported.text);
      // Strictly at once; at the edge once the projection has caught up (it may trail the
      // answers by a moment when the two changes' KV writes overlap: the edge bound).
      for (const k of keys) {
        const strict = await verify(k, { consistency: "strict" });
        assert.notEqual(strict.body.code, "VALID", `run ${run} strict: ${imported.status}`);
        const settled = await until(async () => (await verify(k)).body.code !== "VALID", 8000);
        assert.ok(settled, `run ${run} edge: ${imported.status}`);
      }
    }
  });
});
