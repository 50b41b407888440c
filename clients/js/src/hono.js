// @keyward/client/hono: a Hono middleware that lets a request reach the route only with a token
// keyward says is valid. It imports nothing from Hono at run time.
import { checkedCost } from "./format.js";
import { KeywardError, createClient } from "./index.js";

const PROBLEM = "application/problem+json";
/** A scope token as RFC 6750 §3 allows it in the `scope` attribute. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

const TITLES = {
  UNAUTHENTICATED: "Authentication required",
  MALFORMED: "Invalid token",
  NOT_FOUND: "Invalid token",
  ORG_SUSPENDED: "Organization suspended",
  REVOKED: "Token revoked",
  DISABLED: "Token disabled",
  OWNER_DEACTIVATED: "Token owner deactivated",
  EXPIRED: "Token expired",
  IP_NOT_ALLOWED: "Not allowed from this network",
  INSUFFICIENT_SCOPE: "Insufficient scope",
  RATE_LIMITED: "Too many requests",
  USAGE_EXCEEDED: "Usage exceeded",
  UNAVAILABLE: "Authorization unavailable",
  INTERNAL: "Internal error",
};
const DETAILS = {
  UNAUTHENTICATED: "This request needs a Bearer token.",
  MALFORMED: "The token is not a well-formed token.",
  NOT_FOUND: "The token is not known.",
  ORG_SUSPENDED: "The organization the token belongs to is suspended.",
  REVOKED: "The token has been revoked.",
  DISABLED: "The token is disabled.",
  OWNER_DEACTIVATED: "The member who owns the token has been deactivated.",
  EXPIRED: "The token has expired.",
  IP_NOT_ALLOWED: "The token may not be used from this network.",
  INSUFFICIENT_SCOPE: "The token lacks a scope this request needs.",
  /** keyward limiting the middleware's checks (the 429 problem). */
  RATE_LIMITED: "Too many token checks just now.",
  /** The token over its own rate limit (the RATE_LIMITED verdict). */
  TOKEN_RATE_LIMITED: "The token is over its rate limit.",
  USAGE_EXCEEDED: "The token has no credits left for this request.",
  UNAVAILABLE: "The token could not be checked just now; try again later.",
  INTERNAL: "The token could not be checked.",
};

/** The `Authorization: Bearer <token>` credentials, or undefined. */
export function bearerToken(c) {
  const header = c.req.header("authorization");
  const m = header === undefined ? null : /^Bearer[ ]+(\S.*?)[ ]*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** The address Cloudflare saw the client use (`CF-Connecting-IP`). */
function connectingIp(c) {
  return c.req.header("cf-connecting-ip") || undefined;
}

/**
 * An RFC 9457 problem response; its words are fixed per code (`detail` names another line of
 * DETAILS) and never quote the request. With `retryAfter` (whole seconds), also `Retry-After`
 * and `retry_after`.
 */
function problem(status, code, { headers = {}, detail = code, retryAfter = null } = {}) {
  const body = {
    type: `urn:keyward:problem:${code.toLowerCase().replaceAll("_", "-")}`,
    title: TITLES[code],
    status,
    detail: DETAILS[detail] ?? DETAILS.INTERNAL,
    code,
  };
  const all = { "content-type": PROBLEM, ...headers };
  if (retryAfter !== null) {
    body.detail = `${body.detail.slice(0, -1)}; try again in ${retryAfter} second${retryAfter === 1 ? "" : "s"}.`;
    body.retry_after = retryAfter;
    all["retry-after"] = String(retryAfter);
  }
  return new Response(JSON.stringify(body), { status, headers: all });
}

/** The longest wait the middleware passes on, as keyward bounds its own (a day). */
const MAX_WAIT_S = 86_400;

/**
 * Whole seconds from the verdict to its `ratelimit.reset_at`, both on keyward's clock (so the
 * server's own clock does not matter), rounded up, within 1..86400; null when either is unknown.
 */
function waitOf(verdict) {
  const reset = Date.parse(verdict.ratelimit?.reset_at ?? "");
  const checked = Date.parse(verdict.checked_at);
  if (!Number.isFinite(reset) || !Number.isFinite(checked)) return null;
  return Math.min(MAX_WAIT_S, Math.max(1, Math.ceil((reset - checked) / 1000)));
}

/**
 * The refusal for an invalid verdict, or for no token at all (`verdict` null). A token over its
 * rate limit or out of credits is a good token refused for now: 429 or 402, with no challenge.
 */
function refusal(verdict, scopes) {
  if (verdict === null) return problem(401, "UNAUTHENTICATED", { headers: { "www-authenticate": "Bearer" } });
  switch (verdict.code) {
    case "INSUFFICIENT_SCOPE": {
      const scope =
        scopes && scopes.length && scopes.every((s) => SCOPE_TOKEN.test(s)) ? `, scope="${scopes.join(" ")}"` : "";
      const headers = { "www-authenticate": `Bearer error="insufficient_scope"${scope}` };
      return problem(403, "INSUFFICIENT_SCOPE", { headers });
    }
    case "RATE_LIMITED":
      return problem(429, "RATE_LIMITED", { detail: "TOKEN_RATE_LIMITED", retryAfter: waitOf(verdict) });
    case "USAGE_EXCEEDED":
      return problem(402, "USAGE_EXCEEDED");
    default:
      return problem(401, verdict.code, { headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
  }
}

/** The answer when keyward gives no verdict: 503 unreachable, 429 rate-limited, else 500 (our own request was wrong). */
function failure(error) {
  if (error.code === "RATE_LIMITED") return problem(429, "RATE_LIMITED", { retryAfter: error.retryAfter });
  if (error.code === "UNAVAILABLE") return problem(503, "UNAVAILABLE");
  return problem(500, "INTERNAL");
}

/** `hook`'s Response if it gave one, else the default. */
async function replaced(hook, fallback, ...args) {
  if (hook === undefined) return fallback;
  const r = await hook(...args);
  return r instanceof Response ? r : fallback;
}

/**
 * The middleware: with `binding` (a function of the context answering the service binding) or
 * `url` (keyward's origin, or a function of the context answering it). Only a valid verdict lets
 * the request through, set as `c.get("keyward")`; everything else is answered here.
 */
export function keyward(options) {
  if (options === null || typeof options !== "object") throw new TypeError("keyward() needs {binding} or {url}");
  const { binding, url, scopes, consistency, cost, legacyFormats, fetch, timeoutMs, onInvalid, onError } = options;
  if ((binding === undefined) === (url === undefined)) {
    throw new TypeError("keyward() needs exactly one of binding and url");
  }
  if (binding !== undefined && typeof binding !== "function") {
    throw new TypeError("binding must be a function of the context, e.g. (c) => c.env.KEYWARD");
  }
  if (typeof url !== "undefined" && typeof url !== "string" && typeof url !== "function") {
    throw new TypeError("url must be a string or a function of the context");
  }
  for (const [name, hook] of Object.entries({ onInvalid, onError })) {
    if (hook !== undefined && typeof hook !== "function") throw new TypeError(`${name} must be a function`);
  }
  const getToken = options.getToken ?? bearerToken;
  const clientIp = options.clientIp ?? connectingIp;
  // What does not depend on the request is checked now, not at the first request.
  if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((s) => typeof s === "string"))) {
    throw new TypeError("scopes must be an array of strings");
  }
  if (consistency !== undefined && consistency !== "edge" && consistency !== "strict") {
    throw new TypeError('consistency must be "edge" or "strict"');
  }
  if (cost !== undefined && typeof cost !== "function") checkedCost(cost);
  createClient({ binding: { verify() {} }, legacyFormats });
  const asked = { scopes, consistency };
  const fixed = typeof url === "string" ? createClient({ url, fetch, timeoutMs, legacyFormats }) : undefined;

  /** The client for this request's binding or URL; a misconfiguration throws (Hono answers 500). */
  function clientFor(c) {
    if (url !== undefined) return createClient({ url: url(c), fetch, timeoutMs, legacyFormats });
    const b = binding(c);
    if (b === undefined || b === null) {
      throw new TypeError("keyward(): binding(c) gave no service binding; is it declared in wrangler.toml?");
    }
    return createClient({ binding: b, timeoutMs, legacyFormats });
  }

  return async function keywardMiddleware(c, next) {
    const token = getToken(c);
    if (token === undefined || token === null || token === "") {
      return replaced(onInvalid, refusal(null, scopes), c, null);
    }
    const client = fixed ?? clientFor(c);
    // A cost that is not one (from a function of the context) throws: Hono answers 500.
    const spend = typeof cost === "function" ? await cost(c) : cost;
    let verdict;
    try {
      verdict = await client.verify(String(token), { ...asked, clientIp: clientIp(c), cost: spend });
    } catch (error) {
      if (!(error instanceof KeywardError)) throw error;
      return replaced(onError, failure(error), c, error);
    }
    if (verdict.valid !== true) return replaced(onInvalid, refusal(verdict, scopes), c, verdict);
    c.set("keyward", verdict);
    await next();
  };
}
