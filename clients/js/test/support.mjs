// Shared by the client tests: well-formed tokens, canned verdicts and problems, fake transports.
import { readFileSync } from "node:fs";

const vectors = JSON.parse(readFileSync(new URL("../../../tests/vectors/tokens.json", import.meta.url), "utf8"));
/** Well-formed keyward tokens (made by keyward's own code). */
export const TOKENS = vectors.ok;

export const VERIFIED_TOKEN = Object.freeze({
  id: "tok_4fX0aQbbbbbbbbbbbbbb",
  org_id: "org_4fX0aQcccccccccccccc",
  kind: "personal",
  owner_member_id: "mem_4fX0aQdddddddddddddd",
  role: "developer",
  scopes: ["billing", "users:read"],
  expires_at: "2027-01-01T00:00:00Z",
});

/** A rate-limited token's window in a verdict checked at 12:00:00 (support's `verdict`): retry in 30 s. */
export const RATELIMIT = Object.freeze({ limit: 100, remaining: 0, reset_at: "2026-05-01T12:00:30Z" });

/** keyward's 200 answer with `code` (and the token when VALID), and any `extra` fields (ratelimit, credits). */
export function verdict(code, consistency = "edge", extra = {}) {
  const v = {
    valid: code === "VALID",
    code,
    consistency,
    checked_at: "2026-05-01T12:00:00Z",
    max_staleness_s: consistency === "strict" ? 0 : 65,
  };
  if (code === "VALID") v.token = structuredClone(VERIFIED_TOKEN);
  return Object.assign(v, structuredClone(extra));
}

const TITLES = { BAD_REQUEST: "Bad request", RATE_LIMITED: "Too many requests", INTERNAL: "Internal error" };

/** keyward's problem document for `status` and `code`. */
export function problemOf(status, code, extra = {}) {
  return {
    type: `urn:keyward:problem:${code.toLowerCase().replaceAll("_", "-")}`,
    title: TITLES[code] ?? code,
    status,
    detail: `${code} detail`,
    code,
    ...extra,
  };
}

/**
 * A fake fetch: `answer(body, url, init)` makes the Response (or throws); every call is
 * recorded as { url, init, body }.
 */
export function fakeFetch(answer) {
  const calls = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    calls.push({ url, init, body });
    return answer(body, url, init);
  };
  return { fetch, calls };
}

/** A fake service binding: `answer(token, options)` is what `verify` resolves to (or throws). */
export function fakeBinding(answer) {
  const calls = [];
  return {
    calls,
    async verify(token, options) {
      calls.push({ token, options });
      return answer(token, options);
    },
  };
}

/** The JSON Response keyward would send. */
export function json(status, body, headers = {}) {
  const type = status === 200 ? "application/json" : "application/problem+json";
  return new Response(JSON.stringify(body), { status, headers: { "content-type": type, ...headers } });
}
