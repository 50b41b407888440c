// End-to-end: `meta` and `external_id` through create → verify (edge and strict, HTTP), the
// token view, edits with If-Match and the list's filter.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertProblem, createOrg, start } from "./harness.mjs";

let w;
let admin;
before(async () => {
  w = await start();
  admin = (await createOrg(w.api, "Meta")).secret;
});
after(() => w?.mf.dispose());

/** A `meta` object whose compact JSON is exactly `bytes` long (keys in sorted order, as answered). */
const metaOf = (bytes) => ({ a: 1, note: "x".repeat(bytes - '{"a":1,"note":""}'.length) });
const create = (extra) =>
  w.api("POST", "/v1/tokens", { token: admin, body: { label: "svc", role: "developer", kind: "org", ...extra } });

describe("meta and external_id", () => {
  test("1 KiB of metadata round-trips byte for byte through create and verify", async () => {
    const meta = metaOf(1024);
    assert.equal(JSON.stringify(meta).length, 1024);
    const t = await create({ meta, external_id: "cus_42" });
    assert.equal(t.status, 201, t.text);
    assert.deepEqual(t.body.token.meta, meta);
    for (const consistency of ["edge", "strict"]) {
      const r = await w.api("POST", "/v1/verify", { body: { token: t.body.secret, consistency } });
      assert.equal(r.body.code, "VALID", r.text);
      const inText = r.text.slice(r.text.indexOf('"meta":') + '"meta":'.length);
      assert.ok(inText.startsWith(JSON.stringify(meta)), `${consistency}: the bytes as sent`);
      assert.equal(r.body.token.external_id, "cus_42");
    }
    const over = await create({ meta: metaOf(1025) });
    assertProblem(over, 422, "VALIDATION_FAILED");
    assert.deepEqual(Object.keys(over.body.errors), ["meta"]);
  });

  test("edits set and clear them; the list filters by external_id", async () => {
    const t = await create({ label: "edit me" });
    const id = t.body.token.id;
    const etag = t.headers.get("etag");
    const set = await w.api("PATCH", `/v1/tokens/${id}`, {
      token: admin,
      headers: { "if-match": etag },
      body: { meta: { plan: "pro" }, external_id: "cus_7" },
    });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual([set.body.meta, set.body.external_id], [{ plan: "pro" }, "cus_7"]);
    const list = await w.api("GET", "/v1/tokens?external_id=cus_7", { token: admin });
    assert.deepEqual(
      list.body.tokens.map((x) => x.id),
      [id],
    );
    assertProblem(await w.api("GET", "/v1/tokens?external_id=has%20space", { token: admin }), 422, "VALIDATION_FAILED");
    const cleared = await w.api("PATCH", `/v1/tokens/${id}`, {
      token: admin,
      headers: { "if-match": set.headers.get("etag") },
      body: { meta: null, external_id: null },
    });
    assert.deepEqual([cleared.body.meta, cleared.body.external_id], [null, null]);
    const v = await w.api("POST", "/v1/verify", { body: { token: t.body.secret } });
    assert.deepEqual([v.body.token.meta, v.body.token.external_id], [null, null]);
  });
});
