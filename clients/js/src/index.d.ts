/** The verdict codes, in the order keyward checks them (`Verification.code` in keyward's OpenAPI document). */
export type VerifyCode =
  | "MALFORMED"
  | "NOT_FOUND"
  | "ORG_SUSPENDED"
  | "REVOKED"
  | "DISABLED"
  | "OWNER_DEACTIVATED"
  | "EXPIRED"
  | "IP_NOT_ALLOWED"
  | "INSUFFICIENT_SCOPE"
  | "RATE_LIMITED"
  | "USAGE_EXCEEDED"
  | "VALID";

/** Every code but `VALID`: why a token was refused. */
export type InvalidCode = Exclude<VerifyCode, "VALID">;

/** `edge`: Workers KV, up to 65 s old; `strict`: the org's own records, as of now. */
export type Consistency = "edge" | "strict";

/** The token a valid verdict is about (never its secret). */
export interface VerifiedToken {
  id: string;
  org_id: string;
  kind: "personal" | "org";
  /** The member a personal token belongs to; null for an org token. */
  owner_member_id: string | null;
  role: "developer" | "admin";
  scopes: string[];
  /** RFC 3339 UTC, or null when it never expires. */
  expires_at: string | null;
  /** The org's own data about what the token serves (a JSON object of at most 1 KiB), or null. */
  meta: { [key: string]: unknown } | null;
  /** The org's own id for the customer or app the token serves, or null. */
  external_id: string | null;
}

/** A rate-limited token's window, as of this verdict. */
export interface RateLimitState {
  /** `VALID` verdicts allowed per window. */
  limit: number;
  /** `VALID` verdicts left in the current window (after this one). */
  remaining: number;
  /** When the window's count next goes down (RFC 3339 UTC, rounded up to the second): a refused caller may retry then. */
  reset_at: string;
}

/** A token's usage credits, as of this verdict. */
export interface CreditsState {
  /** Credits left (after this verification). */
  remaining: number;
}

interface VerdictBase {
  /** How this answer was reached (always `strict` for a token with a rate limit or credits). */
  consistency: Consistency;
  /** When the verdict was decided: RFC 3339 UTC, seconds precision. */
  checked_at: string;
  /** How old the records behind the verdict may have been, in seconds: 0 for strict, 65 for edge. */
  max_staleness_s: number;
  /** Only for a token with a rate limit (once it is found): its window. */
  ratelimit?: RateLimitState;
  /** Only for a token with usage credits: what is left. */
  credits?: CreditsState;
}

/** The token is valid (and has every scope asked for). */
export interface ValidVerification extends VerdictBase {
  valid: true;
  code: "VALID";
  token: VerifiedToken;
}

/** The token is refused; `code` says why. */
export interface InvalidVerification extends VerdictBase {
  valid: false;
  code: InvalidCode;
  token?: undefined;
}

/** keyward's verdict, discriminated by `valid`. */
export type Verification = ValidVerification | InvalidVerification;

/**
 * A declared legacy key format, as keyward's `LEGACY_KEY_FORMATS` lists them (and with keyward's
 * bounds: at most 16 formats).
 */
export interface LegacyFormat {
  /** The literal start of the key, e.g. `sk_live_`: 1–32 printable ASCII characters, no spaces. */
  prefix: string;
  /** Fewest characters after the prefix: 16 <= min <= max. */
  min: number;
  /** Most characters after the prefix: at most 512. */
  max: number;
  /** `base62`: `0-9A-Za-z`; `hex`: `0-9a-fA-F`; `base64url`: `0-9A-Za-z_-`. */
  alphabet: "base62" | "hex" | "base64url";
}

/** What `verify` may ask besides the token. */
export interface VerifyOptions {
  /** Scopes the token must have (`INSUFFICIENT_SCOPE` otherwise). */
  scopes?: readonly string[] | null;
  /** `edge` (default) or `strict`. */
  consistency?: Consistency | null;
  /** The IPv4 or IPv6 address your own client used, checked against the token's allowed networks (sent as `client_ip`). */
  clientIp?: string | null;
  /**
   * Credits a `VALID` verdict spends: a whole number from 0 to 1000 (a TypeError otherwise);
   * keyward's default is 1. Only tokens with credits spend them (`USAGE_EXCEEDED` with too few left).
   */
  cost?: number | null;
}

/** What the binding's `verify` takes (keyward's wire names). */
export interface BindingVerifyOptions {
  scopes?: string[];
  consistency?: Consistency;
  client_ip?: string;
  /** Credits a `VALID` verdict spends: 0 to 1000, default 1. */
  cost?: number;
}

/** An RFC 9457 problem, as keyward answers one. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: Record<string, string>;
  /** RATE_LIMITED: seconds to wait. */
  retry_after?: number;
}

/**
 * A service binding to keyward's `KeywardVerifier` entrypoint
 * (`services = [{ binding = "KEYWARD", service = "keyward-verify", entrypoint = "KeywardVerifier" }]`).
 * It resolves to the verdict, or to the problem keyward would answer over HTTP.
 */
export interface KeywardBinding {
  verify(token: string, options: BindingVerifyOptions): Promise<unknown>;
}

/** Options of a client that calls keyward over HTTP. */
export interface HttpClientOptions {
  /** keyward's origin (or base URL): the client posts to `{url}/v1/verify`. */
  url: string | URL;
  /** The fetch to use; default: the global one. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Give up (KeywardError UNAVAILABLE) after this many milliseconds; default 5000. */
  timeoutMs?: number;
  legacyFormats?: readonly LegacyFormat[];
  binding?: undefined;
}

/** Options of a client that calls keyward over a service binding. */
export interface BindingClientOptions {
  binding: KeywardBinding;
  /** Give up (KeywardError UNAVAILABLE) after this many milliseconds; default 5000. */
  timeoutMs?: number;
  legacyFormats?: readonly LegacyFormat[];
  url?: undefined;
}

export type ClientOptions = HttpClientOptions | BindingClientOptions;

export interface KeywardClient {
  /**
   * keyward's verdict on `token`. A string that is neither a keyward token (checksum included)
   * nor one of the legacy formats is answered `MALFORMED` locally, without a request. Throws a
   * {@link KeywardError} when keyward gives no verdict, and a TypeError for options of the wrong shape.
   */
  verify(token: string, options?: VerifyOptions): Promise<Verification>;
}

/** Make a client over a service binding (`{binding}`) or over HTTP (`{url}`). Throws a TypeError for bad options. */
export function createClient(options: ClientOptions): KeywardClient;

/** Whether `token` is a keyward token (checksum included) or one of `legacyFormats`. */
export function isWellFormed(token: string, legacyFormats?: readonly LegacyFormat[]): boolean;

/** The six base62 check characters keyward appends to `<prefix>_<body>`. */
export function checksum(signed: string): string;

/** The verdict codes, in the order keyward checks them. */
export const VERIFY_CODES: readonly VerifyCode[];

/** What a KeywardError's `code` can be: `UNAVAILABLE`, or the code of the 4xx problem keyward answered. */
export type KeywardErrorCode = "UNAVAILABLE" | "BAD_REQUEST" | "RATE_LIMITED" | "PAYLOAD_TOO_LARGE" | (string & {});

/**
 * The one error `verify` throws: keyward gave no verdict. Never a verdict, never a pass.
 * `UNAVAILABLE`: network failure, timeout, a failed binding call, a 5xx, or an answer keyward would not give;
 * otherwise the problem code of a 4xx answer.
 */
export class KeywardError extends Error {
  constructor(
    message: string,
    init?: {
      status?: number | null;
      code?: string;
      retryAfter?: number | null;
      problem?: Problem | null;
      cause?: unknown;
    },
  );
  name: "KeywardError";
  /** The HTTP status (or the binding's problem status); null when there was no answer. */
  status: number | null;
  code: KeywardErrorCode;
  /** Seconds to wait before asking again (RATE_LIMITED), else null. */
  retryAfter: number | null;
  /** The problem keyward answered, or null. */
  problem: Problem | null;
  /** Whether `code` is `UNAVAILABLE`. */
  readonly unavailable: boolean;
}
