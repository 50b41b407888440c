// The token format the client checks before any request: keyward's own (the vectors keyward's
// parse is tested with, tests/vectors/tokens.json) and the declared legacy formats.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { checksum, createClient, isWellFormed } from "../src/index.js";

const vectors = JSON.parse(readFileSync(new URL("../../../tests/vectors/tokens.json", import.meta.url), "utf8"));

/** A client whose every request is counted and answered VALID, so a local refusal shows as no request. */
function counting(options = {}) {
  const seen = [];
  const client = createClient({
    url: "https://keyward.example",
    fetch: async (url, init) => {
      seen.push(JSON.parse(init.body));
      return Response.json({
        valid: true,
        code: "VALID",
        consistency: "edge",
        checked_at: "2026-01-01T00:00:00Z",
        max_staleness_s: 65,
        token: {
          id: "tok_x",
          org_id: "org_x",
          kind: "org",
          owner_member_id: null,
          role: "developer",
          scopes: [],
          expires_at: null,
        },
      });
    },
    ...options,
  });
  return { client, seen };
}

test("the checksum of the documented vectors", () => {
  assert.equal(checksum("kw_000000000000000000000000000000"), "3wuQEo");
  assert.equal(checksum("kw_AbCdEfGhIjKlMnOpQrStUvWxYz0123"), "14Wc0Q");
});

test("every token keyward's parse accepts is well-formed, and reaches keyward", async () => {
  assert.ok(vectors.ok.length >= 20);
  const { client, seen } = counting();
  for (const t of vectors.ok) {
    assert.ok(isWellFormed(t), t);
    assert.equal(checksum(t.slice(0, -6)), t.slice(-6), t);
    assert.equal((await client.verify(t)).code, "VALID", t);
  }
  assert.deepEqual(
    seen.map((b) => b.token),
    vectors.ok,
  );
});

test("checks padded with zeros are among the vectors, so the padding is tested", () => {
  assert.ok(vectors.ok.some((t) => /^0[^0]/.test(t.slice(-6))));
  assert.ok(vectors.ok.some((t) => t.slice(-6).startsWith("00")));
});

test("every string keyward's parse refuses is MALFORMED here, with no request", async () => {
  assert.ok(vectors.bad.length >= 20);
  const { client, seen } = counting();
  for (const { token, why } of vectors.bad) {
    assert.equal(isWellFormed(token), false, why);
    const v = await client.verify(token);
    assert.equal(v.valid, false, why);
    assert.equal(v.code, "MALFORMED", why);
  }
  assert.equal(seen.length, 0);
});

test("each single-character change of a token breaks it", () => {
  const t = vectors.ok[2];
  for (let i = 0; i < t.length; i++) {
    if (t[i] === "_") continue;
    const other = t[i] === "a" ? "b" : "a";
    const changed = t.slice(0, i) + other + t.slice(i + 1);
    assert.equal(isWellFormed(changed), false, `position ${i}`);
  }
});

test("anything but a string is MALFORMED, with no request", async () => {
  const { client, seen } = counting();
  for (const t of [undefined, null, 42, {}, [vectors.ok[0]], new String(vectors.ok[0])]) {
    assert.equal(isWellFormed(t), false);
    assert.equal((await client.verify(t)).code, "MALFORMED");
  }
  assert.equal(seen.length, 0);
});

test("a local MALFORMED verdict is shaped as keyward's: checked now, staleness of the consistency asked", async () => {
  const { client } = counting();
  const before = Math.floor(Date.now() / 1000);
  const edge = await client.verify("kw_nope");
  const strict = await client.verify("kw_nope", { consistency: "strict" });
  const after = Math.floor(Date.now() / 1000);
  assert.deepEqual(Object.keys(edge).sort(), ["checked_at", "code", "consistency", "max_staleness_s", "valid"]);
  assert.deepEqual([edge.consistency, edge.max_staleness_s], ["edge", 65]);
  assert.deepEqual([strict.consistency, strict.max_staleness_s], ["strict", 0]);
  assert.match(edge.checked_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const at = Date.parse(edge.checked_at) / 1000;
  assert.ok(at >= before && at <= after, edge.checked_at);
});

const LEGACY = [
  { prefix: "sk_live_", min: 24, max: 32, alphabet: "base62" },
  { prefix: "hx-", min: 16, max: 16, alphabet: "hex" },
  { prefix: "b64.", min: 16, max: 18, alphabet: "base64url" },
];

test("legacy formats: the prefix, then min to max characters of the alphabet", async () => {
  const accepted = [
    "sk_live_" + "a".repeat(24),
    "sk_live_" + "Z9".repeat(16),
    "hx-" + "00fF".repeat(4),
    "hx-" + "abcd".repeat(4),
    "b64." + "a-_".repeat(5) + "Z",
    "b64." + "AZaz9".repeat(3) + "-_0",
  ];
  const refused = [
    "sk_live_" + "a".repeat(23),
    "sk_live_" + "a".repeat(33),
    "sk_live_" + "a".repeat(23) + "-",
    "sk_test_" + "a".repeat(24),
    "SK_LIVE_" + "a".repeat(24),
    "hx-" + "abcd".repeat(3) + "abcg",
    "hx-" + "ABCD".repeat(3) + "ABCG",
    "hx-" + "a".repeat(15),
    "hx-" + "a".repeat(17),
    "b64." + "a".repeat(15) + "=",
    "b64." + "a".repeat(14) + "+/",
    "b64." + "a".repeat(15),
    "b64." + "a".repeat(19),
    "b64." + "a".repeat(15) + "\u00e9",
    "x" + "hx-" + "abcd".repeat(4),
  ];
  const { client, seen } = counting({ legacyFormats: LEGACY });
  for (const t of accepted) {
    assert.ok(isWellFormed(t, LEGACY), t);
    assert.equal((await client.verify(t)).code, "VALID", t);
  }
  for (const t of refused) {
    assert.equal(isWellFormed(t, LEGACY), false, t);
    assert.equal((await client.verify(t)).code, "MALFORMED", t);
  }
  assert.deepEqual(
    seen.map((b) => b.token),
    accepted,
  );
  // Without the formats declared, none of them is a token.
  for (const t of accepted) assert.equal(isWellFormed(t), false, t);
  // Keyward's own tokens are still accepted beside the legacy ones.
  assert.ok(isWellFormed(vectors.ok[0], LEGACY));
});

test("the alphabets, character by character, as keyward's legacy.rs tests them", () => {
  for (const [alphabet, yes, no] of [
    ["base62", "aZ9", "-_+/=. \u00e9"],
    ["hex", "09afAF", "gG-_ "],
    ["base64url", "aZ9-_", "+/=. \u00e9"],
  ]) {
    const formats = [{ prefix: "k_", min: 16, max: 64, alphabet }];
    for (const c of yes) assert.ok(isWellFormed(`k_${c.repeat(16)}`, formats), `${alphabet} ${c}`);
    for (const c of no) assert.equal(isWellFormed(`k_${"a".repeat(15)}${c}`, formats), false, `${alphabet} ${c}`);
  }
});

test("legacy formats keyward would refuse are refused when the client is made", () => {
  const ok = { prefix: "a_", min: 16, max: 16, alphabet: "hex" };
  const bad = [
    {},
    "sk_",
    [1],
    [null],
    [{ prefix: "a_", min: 16, max: 16 }],
    [{ ...ok, alphabet: "base32" }],
    [{ ...ok, regex: ".*" }],
    [{ ...ok, prefix: "" }],
    [{ ...ok, prefix: "a b" }],
    [{ ...ok, prefix: "a\u00e9" }],
    [{ ...ok, prefix: "p".repeat(33) }],
    [{ ...ok, min: 8 }],
    [{ ...ok, min: 20 }],
    [{ ...ok, max: 513 }],
    [{ ...ok, min: -1 }],
    [{ ...ok, min: 16.5, max: 17 }],
    [{ ...ok, max: "16" }],
    Array(17).fill(ok),
  ];
  for (const legacyFormats of bad) {
    assert.throws(
      () => createClient({ url: "https://k.example", legacyFormats }),
      TypeError,
      JSON.stringify(legacyFormats),
    );
    assert.throws(() => isWellFormed("a_0123456789abcdef", legacyFormats), TypeError);
  }
  // The bounds themselves are allowed.
  const edges = [{ ...ok, prefix: "p".repeat(32), min: 16, max: 512 }, ...Array(15).fill(ok)];
  assert.doesNotThrow(() => createClient({ url: "https://k.example", legacyFormats: edges }));
  assert.ok(isWellFormed("a_0123456789abcdef", [ok]));
});
