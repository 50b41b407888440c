// End-to-end: rate limits (the Workers Rate Limiting binding, here with low limits) and a
// verify cache that a flood of made-up tokens cannot flush.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { assertProblem, createOrg, ratelimits, start } from "./harness.mjs";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A well-formed token (right pattern and checksum) that nobody issued. */
function madeUp() {
  let body = "";
  for (const b of randomBytes(60)) if (b < 248 && body.length < 30) body += ALPHABET[b % 62];
  const signed = `kw_${body}`;
  let n = crc32(signed) >>> 0;
  let check = "";
  for (let i = 0; i < 6; i++) {
    check = ALPHABET[n % 62] + check;
    n = Math.floor(n / 62);
  }
  return signed + check;
}

test("misses, failed sign-ins and strict verifications are limited; known tokens never are", async () => {
  const w = await start({}, { limits: ratelimits({ misses: 5, auth: 3, strict: 4 }) });
  try {
    const o = await createOrg(w.api, "Limits");
    const from = (ip) => ({ "cf-connecting-ip": ip });
    const verify = (token, ip, extra = {}) =>
      w.api("POST", "/v1/verify", { body: { token, ...extra }, headers: from(ip) });
    // five misses from one address are answered, and the sixth (it is counted off the response
    // path: the isolate remembers the limiter's answer for the next one); then 429, Retry-After
    for (const token of ["junk", madeUp(), "junk2", madeUp(), madeUp(), madeUp()]) {
      assert.equal((await verify(token, "198.51.100.1")).status, 200);
    }
    let limited;
    for (let i = 0; i < 20 && limited?.status !== 429; i++) {
      if (i) await sleep(25);
      limited = await verify(madeUp(), "198.51.100.1");
    }
    assertProblem(limited, 429, "RATE_LIMITED");
    assert.equal(limited.headers.get("retry-after"), "60");
    const viaGet = await w.api("GET", "/v1/verify", { token: "junk", headers: from("198.51.100.1") });
    assertProblem(viaGet, 429, "RATE_LIMITED");
    // ...while that address's real token, and other addresses, are unaffected
    for (let i = 0; i < 20; i++) assert.equal((await verify(o.secret, "198.51.100.1")).body.code, "VALID");
    assert.equal((await verify(madeUp(), "198.51.100.2")).body.code, "NOT_FOUND");

    // failed admin sign-ins: three 401s, then 429; a good token from there still works
    for (let i = 0; i < 3; i++) {
      assertProblem(
        await w.api("GET", "/v1/me", { token: madeUp(), headers: from("203.0.113.7") }),
        401,
        "UNAUTHENTICATED",
      );
    }
    const locked = await w.api("GET", "/v1/me", { token: "junk", headers: from("203.0.113.7") });
    assertProblem(locked, 429, "RATE_LIMITED");
    assert.equal(locked.headers.get("retry-after"), "60");
    assert.equal((await w.api("GET", "/v1/me", { token: o.secret, headers: from("203.0.113.7") })).status, 200);
    assertProblem(await w.api("GET", "/v1/me", { headers: from("203.0.113.8") }), 401, "UNAUTHENTICATED");

    // strict verifications: four per token, then 429; edge verifications of it go on
    for (let i = 0; i < 4; i++) {
      assert.equal((await verify(o.secret, "192.0.2.9", { consistency: "strict" })).body.code, "VALID");
    }
    assertProblem(await verify(o.secret, "192.0.2.9", { consistency: "strict" }), 429, "RATE_LIMITED");
    assert.equal((await verify(o.secret, "192.0.2.9")).body.code, "VALID");
  } finally {
    await w.mf.dispose();
  }
});

// A flood of made-up tokens must not push a hot token out of the isolate's cache. To see that
// from outside, the flood has to outgrow the cache within an entry's 5 s life, which 20 000
// requests through Miniflare cannot; so this Worker runs with the cache's bounds scaled down
// (the VERIFY_CACHE_MAX / VERIFY_MISS_CACHE_MAX vars: 32 entries, 8 misses) and the flood is
// many times both. A cache that kept misses with entries, or emptied itself when full, fails
// this test; the same property with the real bounds and 20 000 misses is a native unit test
// (`store::cache::tests::misses_never_push_out_values`).
test("a flood of made-up tokens leaves a hot token's cache entry in place", async () => {
  const w = await start({ VERIFY_CACHE_MAX: "32", VERIFY_MISS_CACHE_MAX: "8" });
  try {
    const o = await createOrg(w.api, "Flood");
    const hot = o.secret;
    const verify = (token) => w.api("POST", "/v1/verify", { body: { token } });
    assert.equal((await verify(hot)).body.code, "VALID");
    const read = Date.now();
    // Change KV behind the isolate's back: from now on only its cached entry says VALID.
    const key = `v:${createHash("sha256").update(hot).digest("hex")}`;
    const entry = await w.kv.get(key, "json");
    await w.kv.put(key, JSON.stringify({ ...entry, state: "revoked" }));
    let junk = 0;
    const flood = async () => {
      // Stop well inside the entry's 4 s before its refresh is due.
      while (Date.now() - read < 3_000) {
        assert.equal((await verify(madeUp())).body.code, "NOT_FOUND");
        junk++;
        if (junk % 50 === 0)
          assert.equal((await verify(hot)).body.code, "VALID", `evicted after ${junk} made-up tokens`);
      }
    };
    await Promise.all([flood(), flood(), flood(), flood()]);
    assert.ok(junk >= 320, `the flood outgrew both bounds ten times over (${junk} requests)`);
    assert.equal((await verify(hot)).body.code, "VALID", "still served from the isolate's cache");
    // ...and within the cache's 5 s bound the change is seen (so KV was really changed).
    let code = "VALID";
    for (let i = 0; i < 40 && code === "VALID"; i++) {
      await sleep(250);
      code = (await verify(hot)).body.code;
    }
    assert.equal(code, "REVOKED");
  } finally {
    await w.mf.dispose();
  }
});
