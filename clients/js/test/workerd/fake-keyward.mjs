// A fake keyward for the workerd test: the `KeywardVerifier` entrypoint and `POST /v1/verify`,
// answering by the token's prefix (the token itself is any well-formed one):
//   acme: VALID with billing and users:read   ab: VALID with users:read only
//   z9: REVOKED   kw: EXPIRED   sk: 429 RATE_LIMITED (retry after 7 s)   live: 500 INTERNAL
//   q0000: the call fails (the binding rejects; HTTP answers 502 with an HTML page)
//   abcdefghij: over its rate limit (5 per window): RATE_LIMITED, the window resetting in 42 s
//   a1b2c3d4e5: 10 credits: VALID spending `cost` (default 1; nothing is kept), USAGE_EXCEEDED above 10
// Like keyward, it refuses an option it does not know, or a cost that is not 0..1000 (400), and
// it echoes what it was asked in `asked`, so the test sees what crossed the binding or the wire.
import { WorkerEntrypoint } from "cloudflare:workers";

const SCOPES = { acme: ["billing", "users:read"], ab: ["users:read"] };
const KNOWN = new Set(["scopes", "consistency", "client_ip", "cost"]);
const CREDITS = 10;

function problem(status, code, extra = {}) {
  const title = { 400: "Bad request", 429: "Too many requests", 500: "Internal error" }[status];
  const type = `urn:keyward:problem:${code.toLowerCase().replaceAll("_", "-")}`;
  return { type, title, status, detail: `${title}.`, code, ...extra };
}

/** The answer keyward would give: a verdict, a problem, or null for "the call fails". */
function answer(token, options) {
  const unknown = Object.keys(options).filter((k) => !KNOWN.has(k));
  if (unknown.length) return problem(400, "BAD_REQUEST", { detail: `unknown field ${unknown[0]}` });
  const cost = options.cost ?? 1;
  if (!Number.isInteger(cost) || cost < 0 || cost > 1000) return problem(400, "BAD_REQUEST", { detail: "cost" });
  const prefix = token.slice(0, token.indexOf("_"));
  // A metered token is always answered strict, as keyward does.
  const metered = prefix === "abcdefghij" || prefix === "a1b2c3d4e5";
  const consistency = metered ? "strict" : (options.consistency ?? "edge");
  const now = Math.floor(Date.now() / 1000) * 1000;
  const base = { consistency, checked_at: new Date(now).toISOString().slice(0, 19) + "Z" };
  base.max_staleness_s = consistency === "strict" ? 0 : 65;
  const asked = { token, ...options };
  const refused = (code) => ({ valid: false, code, ...base, asked });
  const valid = (id, scopes) => ({
    valid: true,
    code: "VALID",
    ...base,
    token: { id, org_id: "org_fake", kind: "org", owner_member_id: null, role: "developer", scopes, expires_at: null },
    asked,
  });
  switch (prefix) {
    case "acme":
    case "ab": {
      const scopes = SCOPES[prefix];
      if (!(options.scopes ?? []).every((s) => scopes.includes(s))) return refused("INSUFFICIENT_SCOPE");
      const token = {
        id: `tok_${prefix}`,
        org_id: "org_fake",
        kind: "org",
        owner_member_id: null,
        role: "developer",
        scopes,
        expires_at: null,
      };
      return { valid: true, code: "VALID", ...base, token, asked };
    }
    case "z9":
      return refused("REVOKED");
    case "kw":
      return refused("EXPIRED");
    case "sk":
      return problem(429, "RATE_LIMITED", { retry_after: 7 });
    case "live":
      return problem(500, "INTERNAL");
    case "q0000":
      return null;
    case "abcdefghij": {
      const reset_at = new Date(now + 42_000).toISOString().slice(0, 19) + "Z";
      return { ...refused("RATE_LIMITED"), ratelimit: { limit: 5, remaining: 0, reset_at } };
    }
    case "a1b2c3d4e5":
      return cost > CREDITS
        ? { ...refused("USAGE_EXCEEDED"), credits: { remaining: CREDITS } }
        : { ...valid("tok_metered", ["billing"]), credits: { remaining: CREDITS - cost } };
    default:
      return refused("NOT_FOUND");
  }
}

export class KeywardVerifier extends WorkerEntrypoint {
  async verify(token, options = {}) {
    const a = answer(token, options);
    if (a === null) throw new Error("keyward is down");
    return a;
  }
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/v1/verify")
      return new Response("no such route", { status: 404 });
    const { token, ...options } = await request.json();
    const a = answer(token, options);
    if (a === null)
      return new Response("<html>Bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } });
    if (a.valid !== undefined) return Response.json(a);
    const headers = { "content-type": "application/problem+json" };
    if (a.retry_after) headers["retry-after"] = String(a.retry_after);
    return new Response(JSON.stringify(a), { status: a.status, headers });
  },
};
