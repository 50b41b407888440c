// The page with Cloudflare Access in front of it: it signs in as the member Access vouches for
// without a pasted token (the JWT header Access adds is played by the context's extra headers,
// signed by a key made here and published on loopback), asks which organisation when the email
// has several, sends the session's CSRF token with its changes and ends the session at sign-out;
// pasting a token stays available, with Access and without it. Screenshots 96-99 and 100 (the audit
// log naming the operator acting for a member) in test-results/screenshots/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { generateKeyPairSync, sign } from "node:crypto";
import { OPERATOR, SHOTS, createOrg, signIn, suite } from "./harness.mjs";

const AUD = "keyward-browser-aud";
const b64u = (b) => Buffer.from(b).toString("base64url");
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const certs = createServer((req, res) =>
  req.url === "/cdn-cgi/access/certs"
    ? res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256" }] }))
    : res.writeHead(404).end(),
);

let base, team;
const s = suite(async () => {
  await new Promise((r) => certs.listen(0, "127.0.0.1", r));
  team = `http://127.0.0.1:${certs.address().port}`;
  return { ACCESS_TEAM_DOMAIN: team, ACCESS_AUD: AUD };
});
before(async () => ({ base } = await s.ready));
after(() => certs.close());

/** The JWT Access would add for `email`. */
function jwt(email) {
  const now = Math.floor(Date.now() / 1000);
  const h = b64u(JSON.stringify({ alg: "RS256", kid: "k1", typ: "JWT" }));
  const p = b64u(JSON.stringify({ aud: [AUD], email, exp: now + 3600, iat: now, nbf: now, iss: team }));
  return `${h}.${p}.${b64u(sign("sha256", Buffer.from(`${h}.${p}`), privateKey))}`;
}

/** A browser session behind Access as `email` (no email: a request Access did not vouch for). */
function newPage(email) {
  return s.page({ extraHTTPHeaders: email ? { "cf-access-jwt-assertion": jwt(email) } : {} });
}

const shot = (p, name) => p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
/** What the page's own API client answers for a call (it adds the CSRF token in a session). */
const pageApi = (p, method, path, body) =>
  p.evaluate(
    async ([m, u, b]) => {
      const { api } = await import("/lib.js");
      try {
        return { ok: true, body: await api(m, u, b, null) };
      } catch (e) {
        return { ok: false, status: e.status };
      }
    },
    [method, path, body],
  );
const sessionStatus = (p) => p.evaluate(async () => (await fetch("/v1/session")).status);

test("behind Access the page signs in without a token, changes carry the CSRF token, sign-out ends the session", async () => {
  const o = await createOrg(base, { name: "Sso", admin: { email: "ada@sso.io", name: "Ada Admin" } });
  const p = await newPage("Ada@Sso.io");
  await p.goto(base);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  await assert.doesNotReject(p.locator("#whoami", { hasText: "Ada Admin · Sso" }).waitFor());
  assert.deepEqual(
    (await p.context().cookies()).map((c) => [c.name, c.httpOnly, c.secure, c.sameSite]),
    [["__Host-keyward_session", true, true, "Strict"]],
  );
  assert.equal(await p.evaluate(() => document.cookie), "", "the page's script cannot read the session");
  await shot(p, "96-access-signed-in");

  // The page's client sends the CSRF token: a change goes through; without it, refused.
  const made = await pageApi(p, "POST", "/v1/tokens", { label: "from the page", role: "developer", kind: "org" });
  assert.ok(made.ok, JSON.stringify(made));
  const bare = await p.evaluate(
    async () =>
      (
        await fetch("/v1/tokens", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ label: "no csrf", role: "developer", kind: "org" }),
        })
      ).status,
  );
  assert.equal(bare, 403);
  // Reloading keeps the session (the cookie) and finds its CSRF token again.
  await p.reload();
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  await p.getByText("from the page", { exact: true }).waitFor();
  assert.ok((await pageApi(p, "POST", "/v1/tokens", { label: "after reload", role: "developer", kind: "org" })).ok);

  await p.getByRole("button", { name: "Sign out" }).click();
  await p.getByRole("heading", { name: "Cloudflare Access" }).waitFor();
  assert.equal(await sessionStatus(p), 401, "the session ended on the server");
  await shot(p, "97-access-signed-out");
  // Signed out, the tab stays signed out on reload until asked again.
  await p.reload();
  await p.getByRole("heading", { name: "Cloudflare Access" }).waitFor();
  await p.getByRole("button", { name: "Use Cloudflare Access" }).click();
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.equal(await sessionStatus(p), 200);
  assert.ok(o.org.id);
});

test("an email in two organisations picks one", async () => {
  const a = await createOrg(base, { name: "PickA", admin: { email: "bo@pick.io", name: "Bo A" } });
  const b = await createOrg(base, { name: "PickB", admin: { email: "bo@pick.io", name: "Bo B" } });
  const p = await newPage("bo@pick.io");
  await p.goto(base);
  const choices = p.getByRole("list", { name: "Organisations" });
  await choices.waitFor();
  assert.deepEqual(await choices.getByRole("button").allTextContents(), ["PickA", "PickB"]);
  await shot(p, "98-access-org-picker");
  await choices.getByRole("button", { name: "PickB" }).click();
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  await p.locator("#whoami", { hasText: "Bo B · PickB" }).waitFor();
  const me = await pageApi(p, "GET", "/v1/me");
  assert.equal(me.body.org.id, b.org.id);
  assert.notEqual(me.body.org.id, a.org.id);
});

test("pasting a token stays available where Access vouches for nobody here", async () => {
  const o = await createOrg(base, { name: "Pasted", admin: { email: "cy@pasted.io", name: "Cy Admin" } });
  const p = await newPage("stranger@elsewhere.io");
  await p.goto(base);
  await p.getByText("Cloudflare Access did not vouch for an active member").waitFor();
  await shot(p, "99-access-token-fallback");
  await signIn(p, base, o.secret);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  await p.locator("#whoami", { hasText: "Cy Admin · Pasted" }).waitFor();
});

test("the audit log names the operator acting for a member, and a session's changes as the member's", async () => {
  const o = await createOrg(base, { name: "Actfor", admin: { email: "di@actfor.io", name: "Di Admin" } });
  const res = await fetch(new URL("/v1/tokens", base), {
    method: "POST",
    headers: {
      authorization: `Bearer ${OPERATOR}`,
      "keyward-act-as": o.member.id,
      "keyward-org": o.org.id,
      "content-type": "application/json",
    },
    body: JSON.stringify({ label: "made by the SaaS", role: "developer", kind: "org" }),
  });
  assert.equal(res.status, 201, await res.text());
  const p = await newPage("di@actfor.io");
  await p.goto(base);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.ok(
    (await pageApi(p, "POST", "/v1/tokens", { label: "made in a session", role: "developer", kind: "org" })).ok,
  );
  await p.getByRole("link", { name: "Audit log" }).click();
  const actedFor = p.locator(".acted-for");
  await actedFor.first().waitFor();
  assert.match(await actedFor.first().innerText(), /^operator for\s*Di Admin/);
  await p.getByText("signed in, no token").first().waitFor();
  await shot(p, "100-audit-operator-for");
});
