import type { Context, Env, MiddlewareHandler } from "hono";
import type {
  Consistency,
  InvalidVerification,
  KeywardBinding,
  KeywardError,
  LegacyFormat,
  ValidVerification,
} from "./index.js";

/** What the middleware sets on the context: `c.get("keyward")` is the valid verdict. */
export type KeywardVariables = { keyward: ValidVerification };

/** The Hono environment the middleware adds: `new Hono<{ Bindings: …; Variables: KeywardVariables }>()`. */
export type KeywardEnv = { Variables: KeywardVariables };

/** A hook's answer: the Response to send instead of the default refusal (anything else: the default is sent). */
type Replacement = Response | void | undefined | Promise<Response | void | undefined>;

interface CommonOptions<E extends Env> {
  /** Scopes the token must have: without one of them, 403 `insufficient_scope`. */
  scopes?: readonly string[];
  /** `edge` (default) or `strict`. */
  consistency?: Consistency;
  /**
   * Credits a valid request spends (tokens with credits only): a whole number from 0 to 1000, or
   * a function of the context answering one (or nothing: keyward's default, 1). A fixed value out
   * of range throws a TypeError at once; a function's, at the request (Hono answers 500).
   */
  cost?: number | ((c: Context<E>) => number | undefined | null | Promise<number | undefined | null>);
  /** Legacy key formats keyward accepts besides its own (its `LEGACY_KEY_FORMATS`). */
  legacyFormats?: readonly LegacyFormat[];
  /** Where the token is; default: `Authorization: Bearer <token>`. Nothing (or "") is "no token": 401. */
  getToken?: (c: Context<E>) => string | undefined | null;
  /**
   * The address your client used, for tokens bound to networks; default: the `CF-Connecting-IP`
   * header, which only Cloudflare's edge sets reliably. Elsewhere, give your own.
   */
  clientIp?: (c: Context<E>) => string | undefined | null;
  /**
   * Called when the request is refused for its token: `verdict` is keyward's invalid verdict, or
   * null when no token was presented. It may return a Response to send instead of the default
   * 401/402/403/429; it cannot let the request through (the route never runs).
   */
  onInvalid?: (c: Context<E>, verdict: InvalidVerification | null) => Replacement;
  /**
   * Called when keyward gives no verdict (default answers: 503 unreachable, 429 rate-limited, 500
   * otherwise). It may return a Response to send instead; the route never runs.
   */
  onError?: (c: Context<E>, error: KeywardError) => Replacement;
}

/** Verify over the service binding to keyward's `KeywardVerifier` entrypoint. */
export interface BindingOptions<E extends Env = any> extends CommonOptions<E> {
  /** The binding, from the context: `(c) => c.env.KEYWARD`. */
  binding: (c: Context<E>) => KeywardBinding;
  url?: undefined;
  fetch?: undefined;
  timeoutMs?: undefined;
}

/** Verify over HTTP: `POST {url}/v1/verify`. */
export interface UrlOptions<E extends Env = any> extends CommonOptions<E> {
  /** keyward's origin, or a function of the context answering it: `(c) => c.env.KEYWARD_URL`. */
  url: string | ((c: Context<E>) => string);
  binding?: undefined;
  /** The fetch to use; default: the global one. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Give up after this many milliseconds (then 503); default 5000. */
  timeoutMs?: number;
}

export type KeywardOptions<E extends Env = any> = BindingOptions<E> | UrlOptions<E>;

/**
 * A middleware that lets a request reach the route only with a valid token, set as
 * `c.get("keyward")`. No token: 401 `Bearer`; an invalid one: 401 `Bearer error="invalid_token"`;
 * `INSUFFICIENT_SCOPE`: 403 `Bearer error="insufficient_scope"`; the token over its rate limit
 * (`RATE_LIMITED`): 429 with `Retry-After` until its `ratelimit.reset_at`; the token out of
 * credits (`USAGE_EXCEEDED`): 402; keyward unreachable: 503; keyward rate-limiting: 429 with
 * `Retry-After`; keyward refusing the request itself: 500. Each with an
 * `application/problem+json` body that never quotes the token. Throws a TypeError for bad options.
 */
export function keyward<E extends Env = any>(options: KeywardOptions<E>): MiddlewareHandler<KeywardEnv>;

/** The `Authorization: Bearer <token>` credentials of the request, or undefined. */
export function bearerToken(c: Context): string | undefined;
