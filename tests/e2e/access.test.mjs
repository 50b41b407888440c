// End-to-end: sign-in through Cloudflare Access. A key pair made here plays the Access team: its
// JWKS is served on loopback (an http:// team domain, allowed only with WEBHOOK_ALLOW_INSECURE),
// and the JWTs it signs stand for the `Cf-Access-Jwt-Assertion` header Access adds. A valid JWT
// signs the member with its email in, through an HttpOnly cookie; forged, expired, misdirected
// JWTs, unknown or deactivated members are refused; changes need the session's CSRF token; sign-out
// ends the session; eight sign-ins at once give eight working sessions.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { generateKeyPairSync, sign } from "node:crypto";
import { OPERATOR, assertProblem, createOrg, sleep, start } from "./harness.mjs";

const AUD = "keyward-test-aud";
const b64u = (b) => Buffer.from(b).toString("base64url");

/** A signing key of the team: its private key and its public JWK under `kid`. */
function teamKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" } };
}

const key1 = teamKey("k1");
const key2 = teamKey("k2");
const forger = teamKey("k1"); // same kid, another key
const published = [key1.jwk];
let certFetches = 0;
const certs = createServer((req, res) => {
  if (req.url !== "/cdn-cgi/access/certs") return res.writeHead(404).end();
  certFetches++;
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: published }));
});

let w;
let TEAM;
let plain; // a deployment without Access
before(async () => {
  await new Promise((r) => certs.listen(0, "127.0.0.1", r));
  TEAM = `http://127.0.0.1:${certs.address().port}`;
  w = await start({ ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, WEBHOOK_ALLOW_INSECURE: "true" });
  plain = await start();
});
after(async () => {
  await w?.mf.dispose();
  await plain?.mf.dispose();
  certs.close();
});

/** A JWT as Access would sign it for `email`, with `claims` overriding the defaults. */
function jwt(email, { key = key1, claims = {}, header = {} } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const h = b64u(JSON.stringify({ alg: "RS256", kid: key.kid, typ: "JWT", ...header }));
  const c = { aud: [AUD], email, exp: now + 600, iat: now, nbf: now, iss: TEAM, sub: "u", type: "app", ...claims };
  const p = b64u(JSON.stringify(c));
  return `${h}.${p}.${b64u(sign("sha256", Buffer.from(`${h}.${p}`), key.privateKey))}`;
}

/** Sign in with `token` (a JWT); answers the API's reply plus the session cookie, if set. */
async function signIn(token, body) {
  const r = await w.api("POST", "/v1/session", {
    body,
    headers: token === undefined ? {} : { "cf-access-jwt-assertion": token },
  });
  const set = r.headers.get("set-cookie") ?? "";
  return { ...r, setCookie: set, cookie: set.split(";")[0] };
}

/** A call in a session: its cookie and, unless told otherwise, its CSRF token. */
const inSession = (s, method, path, { csrf = s.body.csrf_token, headers = {}, ...opts } = {}) =>
  w.api(method, path, {
    ...opts,
    headers: { cookie: s.cookie, ...(csrf ? { "keyward-csrf": csrf } : {}), ...headers },
  });

describe("sign-in through Cloudflare Access", () => {
  test("a valid JWT signs the member in; the cookie works for admin calls; the audit says session", async () => {
    const o = await createOrg(w.api, "AccessOne");
    const s = await signIn(jwt("Admin@AccessOne.io"));
    assert.equal(s.status, 201, s.text);
    assert.match(s.setCookie, /^__Host-keyward_session=org_[A-Za-z0-9]+\.[A-Za-z0-9_-]{43}; /);
    for (const flag of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"]) assert.ok(s.setCookie.includes(flag), flag);
    assert.equal(s.headers.get("cache-control"), "no-store");
    assert.equal(s.body.member.id, o.member.id);
    assert.equal(s.body.org.id, o.org.id);
    assert.equal(typeof s.body.csrf_token, "string");
    assert.ok(!s.text.includes(s.cookie.split(".")[1]), "the session secret is only in the cookie");

    const me = await inSession(s, "GET", "/v1/me");
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.token, null);
    assert.equal(me.body.member.id, o.member.id);
    const again = await inSession(s, "GET", "/v1/session", { csrf: null });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.csrf_token, s.body.csrf_token);

    const made = await inSession(s, "POST", "/v1/tokens", {
      body: { label: "made in a session", role: "admin", kind: "org", scopes: ["billing"] },
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.body.token.created_with, null);
    const audit = await inSession(s, "GET", `/v1/audit?target=${made.body.token.id}`);
    assert.deepEqual(
      audit.body.events.map((e) => [e.acted_by, e.actor_member_id, e.actor_token_id]),
      [["session", o.member.id, null]],
    );
  });

  test("refused: no JWT, forged, expired, not yet valid, wrong audience or issuer, alg none, no or unknown email", async () => {
    await createOrg(w.api, "AccessTwo");
    const email = "admin@accesstwo.io";
    const now = Math.floor(Date.now() / 1000);
    const refused = {
      "no JWT": undefined,
      garbage: "not.a.jwt",
      forged: jwt(email, { key: forger }),
      expired: jwt(email, { claims: { exp: now - 120 } }),
      "not yet valid": jwt(email, { claims: { nbf: now + 600 } }),
      "wrong audience": jwt(email, { claims: { aud: ["another-app"] } }),
      "wrong issuer": jwt(email, { claims: { iss: "https://evil.cloudflareaccess.com" } }),
      "alg none": `${b64u(JSON.stringify({ alg: "none" }))}.${jwt(email).split(".")[1]}.`,
      "no email": jwt(undefined),
      "unknown email": jwt("nobody@accesstwo.io"),
    };
    for (const [why, token] of Object.entries(refused)) {
      const r = await signIn(token);
      assertProblem(r, 401, "UNAUTHENTICATED");
      assert.equal(r.setCookie, "", why);
    }
    const logs = w.logs();
    for (const token of Object.values(refused)) if (token) assert.ok(!logs.includes(token), "a JWT is never logged");
  });

  test("a deactivated member cannot sign in, and their session stops working", async () => {
    const o = await createOrg(w.api, "AccessThree");
    const dev = await w.api("POST", "/v1/members", {
      token: o.secret,
      body: { email: "dev@accessthree.io", name: "Dev", role: "developer" },
    });
    const s = await signIn(jwt("dev@accessthree.io"));
    assert.equal(s.status, 201, s.text);
    // A developer's rights: no member list.
    assertProblem(await inSession(s, "GET", "/v1/members"), 403, "FORBIDDEN");
    const off = await w.api("PATCH", `/v1/members/${dev.body.id}`, {
      token: o.secret,
      body: { status: "deactivated" },
    });
    assert.equal(off.status, 200, off.text);
    const me = await inSession(s, "GET", "/v1/me");
    assertProblem(me, 401, "UNAUTHENTICATED");
    assert.match(me.headers.get("set-cookie") ?? "", /Max-Age=0/);
    assertProblem(await signIn(jwt("dev@accessthree.io")), 401, "UNAUTHENTICATED");
  });

  test("changes need the session's CSRF token and this site's origin; sign-out ends the session", async () => {
    await createOrg(w.api, "AccessFour");
    const s = await signIn(jwt("admin@accessfour.io"));
    assert.equal(s.status, 201, s.text);
    const body = { label: "x", role: "developer", kind: "org" };
    assertProblem(await inSession(s, "POST", "/v1/tokens", { body, csrf: null }), 403, "FORBIDDEN");
    assertProblem(await inSession(s, "POST", "/v1/tokens", { body, csrf: "wrong" }), 403, "FORBIDDEN");
    assertProblem(
      await inSession(s, "POST", "/v1/tokens", { body, headers: { origin: "https://evil.example" } }),
      403,
      "FORBIDDEN",
    );
    assertProblem(await inSession(s, "DELETE", "/v1/session", { csrf: null }), 403, "FORBIDDEN");
    // Reads need no CSRF token.
    assert.equal((await inSession(s, "GET", "/v1/tokens", { csrf: null })).status, 200);
    // Another session's CSRF token is not this one's.
    const other = await signIn(jwt("admin@accessfour.io"));
    assertProblem(await inSession(s, "POST", "/v1/tokens", { body, csrf: other.body.csrf_token }), 403, "FORBIDDEN");

    const out = await inSession(s, "DELETE", "/v1/session");
    assert.equal(out.status, 204, out.text);
    assert.match(out.headers.get("set-cookie") ?? "", /^__Host-keyward_session=; .*Max-Age=0/);
    assertProblem(await inSession(s, "GET", "/v1/me"), 401, "UNAUTHENTICATED");
    assertProblem(await inSession(s, "GET", "/v1/session"), 401, "UNAUTHENTICATED");
    // The other session lives on.
    assert.equal((await inSession(other, "GET", "/v1/me")).status, 200);
  });

  test("an email in several orgs chooses one", async () => {
    const a = await createOrg(w.api, "AccessPickA");
    const b = await createOrg(w.api, "AccessPickB");
    const add = await w.api("POST", "/v1/members", {
      token: b.secret,
      body: { email: "admin@accesspicka.io", name: "Ada in B", role: "developer" },
    });
    assert.equal(add.status, 201, add.text);
    const choose = await signIn(jwt("admin@accesspicka.io"));
    assert.equal(choose.status, 200, choose.text);
    assert.equal(choose.setCookie, "");
    assert.deepEqual(
      choose.body.orgs.map((o) => [o.id, o.name]),
      [
        [a.org.id, "AccessPickA"],
        [b.org.id, "AccessPickB"],
      ],
    );
    const inB = await signIn(jwt("admin@accesspicka.io"), { org_id: b.org.id });
    assert.equal(inB.status, 201, inB.text);
    assert.equal(inB.body.member.id, add.body.id);
    assert.equal(inB.body.org.id, b.org.id);
    // An org where the email is nobody: refused.
    const other = await createOrg(w.api, "AccessPickC");
    assertProblem(await signIn(jwt("admin@accesspicka.io"), { org_id: other.org.id }), 401, "UNAUTHENTICATED");
    assertProblem(await signIn(jwt("admin@accesspicka.io"), { nope: 1 }), 400, "BAD_REQUEST");
  });

  test("eight sign-ins at once give eight working sessions", async () => {
    await createOrg(w.api, "AccessMany");
    const sessions = await Promise.all(Array.from({ length: 8 }, () => signIn(jwt("admin@accessmany.io"))));
    assert.deepEqual(
      sessions.map((s) => s.status),
      Array(8).fill(201),
    );
    assert.equal(new Set(sessions.map((s) => s.cookie)).size, 8);
    const made = await Promise.all(
      sessions.map((s, i) =>
        inSession(s, "POST", "/v1/tokens", { body: { label: `parallel ${i}`, role: "developer", kind: "org" } }),
      ),
    );
    assert.deepEqual(
      made.map((r) => r.status),
      Array(8).fill(201),
    );
    const me = await Promise.all(sessions.map((s) => inSession(s, "GET", "/v1/me")));
    assert.ok(me.every((r) => r.status === 200));
  });

  test("a key the team adds later is fetched when a JWT names it", async () => {
    await createOrg(w.api, "AccessRotate");
    assert.equal((await signIn(jwt("admin@accessrotate.io"))).status, 201);
    published.push(key2.jwk);
    // Refetches for an unknown key id are at most one per 10 seconds.
    await sleep(10_500);
    const before = certFetches;
    const s = await signIn(jwt("admin@accessrotate.io", { key: key2 }));
    assert.equal(s.status, 201, s.text);
    assert.equal(certFetches, before + 1);
  });

  test("without ACCESS_TEAM_DOMAIN and ACCESS_AUD the session routes say so; tokens still work", async () => {
    for (const method of ["POST", "GET", "DELETE"]) {
      const r = await plain.api(method, "/v1/session", { headers: { "cf-access-jwt-assertion": jwt("a@b.io") } });
      assertProblem(r, 404, "NOT_FOUND");
      assert.match(r.body.detail, /Cloudflare Access is not configured/);
    }
    const o = await createOrg(plain.api, "NoAccess");
    assert.equal((await plain.api("GET", "/v1/me", { token: o.secret })).status, 200);
    assert.ok(OPERATOR);
  });
});
