// @keyward/client: verify keyward tokens over a service binding or over HTTP.
// No dependencies and no Node built-ins: Workers, Node >= 20, Deno, Bun and browsers.
import { checkedCost, isKeywardToken, isLegacyKey, legacyFormatsOf } from "./format.js";

export { checksum } from "./format.js";

/** The verdict codes, in the order keyward checks them. */
export const VERIFY_CODES = Object.freeze([
  "MALFORMED",
  "NOT_FOUND",
  "ORG_SUSPENDED",
  "REVOKED",
  "DISABLED",
  "OWNER_DEACTIVATED",
  "EXPIRED",
  "IP_NOT_ALLOWED",
  "INSUFFICIENT_SCOPE",
  "RATE_LIMITED",
  "USAGE_EXCEEDED",
  "VALID",
]);

/** How old the records behind a verdict may be, per consistency (keyward's `max_staleness_s`). */
const STALENESS = Object.freeze({ edge: 65, strict: 0 });
const DEFAULT_TIMEOUT_MS = 5000;
const TOKEN_FIELDS = ["id", "org_id", "kind", "owner_member_id", "role", "scopes", "expires_at"];

/**
 * The one error `verify` throws: keyward gave no verdict. `code` is `UNAVAILABLE` when keyward
 * could not be reached or did not answer as keyward does (network failure, timeout, a rejected
 * binding call, a 5xx, a body that is neither a verdict nor a problem), else the problem's code
 * of a 4xx answer (`BAD_REQUEST`, `RATE_LIMITED`, `PAYLOAD_TOO_LARGE`, …).
 */
export class KeywardError extends Error {
  constructor(message, { status = null, code = "UNAVAILABLE", retryAfter = null, problem = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "KeywardError";
    /** The HTTP status keyward answered, or null when there was no answer. */
    this.status = status;
    this.code = code;
    /** Seconds to wait before asking again (429), or null. */
    this.retryAfter = retryAfter;
    /** The RFC 9457 problem keyward answered, or null. */
    this.problem = problem;
  }

  /** Whether keyward could not be reached or did not answer as keyward (code `UNAVAILABLE`). */
  get unavailable() {
    return this.code === "UNAVAILABLE";
  }
}

/** Whether `token` is well-formed: a keyward token (checksum included) or one of `legacyFormats`. */
export function isWellFormed(token, legacyFormats) {
  return isKeywardToken(token) || isLegacyKey(token, legacyFormatsOf(legacyFormats));
}

/**
 * A client over a service binding (`{binding}`: the `KeywardVerifier` entrypoint) or over HTTP
 * (`{url}`: keyward's origin, `POST {url}/v1/verify`).
 */
export function createClient(options) {
  if (options === null || typeof options !== "object") throw new TypeError("createClient needs {url} or {binding}");
  const { url, binding } = options;
  if ((url === undefined) === (binding === undefined)) {
    throw new TypeError("createClient needs exactly one of url and binding");
  }
  const legacy = legacyFormatsOf(options.legacyFormats);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new TypeError("timeoutMs must be a positive number");
  let ask;
  if (binding !== undefined) {
    if (binding === null || typeof binding.verify !== "function") {
      throw new TypeError("binding must be a service binding to keyward's KeywardVerifier entrypoint");
    }
    ask = (token, body) => viaBinding(binding, timeoutMs, token, body);
  } else {
    if (typeof url !== "string" && !(url instanceof URL)) throw new TypeError("url must be a string or a URL");
    const endpoint = `${String(url).replace(/\/+$/, "")}/v1/verify`;
    new URL(endpoint); // throws a TypeError now for a URL that fetch could never use
    const f = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    if (typeof f !== "function") throw new TypeError("fetch must be a function");
    ask = (token, body) => viaHttp(f, endpoint, timeoutMs, token, body);
  }

  return Object.freeze({
    /**
     * Verify `token`; resolves to keyward's verdict (a union discriminated by `valid`), or throws
     * a KeywardError when keyward gives none. A string that is neither a keyward token nor a
     * declared legacy key is answered MALFORMED here, without a request.
     */
    async verify(token, verifyOptions = {}) {
      const body = requestOptions(verifyOptions);
      if (!isKeywardToken(token) && !isLegacyKey(token, legacy)) {
        const consistency = body.consistency ?? "edge";
        return {
          valid: false,
          code: "MALFORMED",
          consistency,
          checked_at: now(),
          max_staleness_s: STALENESS[consistency],
        };
      }
      return ask(token, body);
    },
  });
}

/** The wire form of `verify`'s options: only the keys given, `clientIp` as `client_ip`. */
function requestOptions(options) {
  if (options === null || typeof options !== "object") throw new TypeError("verify options must be an object");
  const { scopes, consistency, clientIp, cost } = options;
  const out = {};
  if (scopes !== undefined && scopes !== null) {
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string")) {
      throw new TypeError("scopes must be an array of strings");
    }
    out.scopes = [...scopes];
  }
  if (consistency !== undefined && consistency !== null) {
    if (consistency !== "edge" && consistency !== "strict") {
      throw new TypeError('consistency must be "edge" or "strict"');
    }
    out.consistency = consistency;
  }
  if (clientIp !== undefined && clientIp !== null && clientIp !== "") {
    if (typeof clientIp !== "string") throw new TypeError("clientIp must be a string");
    out.client_ip = clientIp;
  }
  if (cost !== undefined && cost !== null) out.cost = checkedCost(cost);
  return out;
}

/** RFC 3339 UTC, seconds precision, as keyward writes `checked_at`. */
function now() {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

async function viaBinding(binding, timeoutMs, token, body) {
  let timer;
  let late = false;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new Error("timeout"));
    }, timeoutMs);
  });
  let answer;
  try {
    answer = await Promise.race([binding.verify(token, body), deadline]);
  } catch (cause) {
    const message = late
      ? `keyward did not answer within ${timeoutMs} ms over the service binding`
      : "keyward could not be reached over the service binding";
    throw new KeywardError(message, { cause });
  } finally {
    clearTimeout(timer);
  }
  if (answer !== null && typeof answer === "object" && "valid" in answer) return verdictOf(answer, null);
  throw problemError(answer, typeof answer?.status === "number" ? answer.status : null, null);
}

async function viaHttp(f, endpoint, timeoutMs, token, body) {
  const signal = AbortSignal.timeout(timeoutMs);
  // The timeout holds even against a fetch that ignores its signal (a custom one, or a stuck body).
  const deadline = new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  let status = null;
  let res, text;
  try {
    [res, text] = await Promise.race([
      (async () => {
        const r = await f(endpoint, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, application/problem+json" },
          body: JSON.stringify({ token, ...body }),
          // keyward never redirects: a redirect is not followed, so the token goes nowhere else.
          redirect: "manual",
          signal,
        });
        status = r.status;
        return [r, await r.text()];
      })(),
      deadline,
    ]);
  } catch (cause) {
    const message = signal.aborted ? `keyward did not answer within ${timeoutMs} ms` : "keyward could not be reached";
    throw new KeywardError(message, { status, cause });
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.status === 200) return verdictOf(json, 200);
  throw problemError(json, res.status, res.headers.get("retry-after"));
}

/** `answer` as a verdict, after checking it is one; anything else is UNAVAILABLE, never a verdict. */
function verdictOf(answer, status) {
  const fail = (why) => new KeywardError(`keyward's answer is not a verdict: ${why}`, { status });
  if (answer === null || typeof answer !== "object" || Array.isArray(answer)) throw fail("not an object");
  const { valid, code, consistency, checked_at, max_staleness_s, token } = answer;
  if (typeof valid !== "boolean") throw fail("valid is not a boolean");
  if (!VERIFY_CODES.includes(code)) throw fail("unknown code");
  if (valid !== (code === "VALID")) throw fail("valid and code disagree");
  if (consistency !== "edge" && consistency !== "strict") throw fail("unknown consistency");
  if (typeof checked_at !== "string") throw fail("checked_at is not a string");
  if (!Number.isInteger(max_staleness_s) || max_staleness_s < 0) throw fail("max_staleness_s is not a whole number");
  if (valid) {
    if (token === null || typeof token !== "object" || !TOKEN_FIELDS.every((k) => k in token)) {
      throw fail("a valid verdict without its token");
    }
    if (typeof token.id !== "string" || !Array.isArray(token.scopes)) throw fail("the token has no id or scopes");
  }
  const { ratelimit, credits } = answer;
  if (ratelimit !== undefined) {
    if (!isObject(ratelimit) || !count(ratelimit.limit) || !count(ratelimit.remaining)) {
      throw fail("ratelimit is not {limit, remaining, reset_at}");
    }
    if (typeof ratelimit.reset_at !== "string") throw fail("ratelimit.reset_at is not a string");
  }
  if (credits !== undefined && !(isObject(credits) && count(credits.remaining))) {
    throw fail("credits is not {remaining}");
  }
  return answer;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const count = (n) => Number.isSafeInteger(n) && n >= 0;

/** The KeywardError for a non-verdict answer: the problem's code for a 4xx problem, else UNAVAILABLE. */
function problemError(body, status, retryAfterHeader) {
  const problem =
    body !== null && typeof body === "object" && !Array.isArray(body) && typeof body.code === "string" ? body : null;
  if (status === null || status >= 500 || problem === null || status < 400) {
    const what = status === null ? "an answer that is neither a verdict nor a problem" : `status ${status}`;
    return new KeywardError(`keyward is unavailable (${what})`, { status, problem });
  }
  // A wait keyward could mean: whole seconds, at most a day; anything else is not passed on.
  const sane = (n) => (Number.isSafeInteger(n) && n >= 0 && n <= 86_400 ? n : null);
  let retryAfter = sane(problem.retry_after);
  if (retryAfter === null && retryAfterHeader !== null && /^\d{1,6}$/.test(retryAfterHeader.trim())) {
    retryAfter = sane(Number(retryAfterHeader.trim()));
  }
  const detail = typeof problem.detail === "string" ? `: ${problem.detail}` : "";
  return new KeywardError(`keyward answered ${status} ${problem.code}${detail}`, {
    status,
    code: problem.code,
    retryAfter,
    problem,
  });
}
