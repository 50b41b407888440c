// How the client's types read to a TypeScript user; `tsc -p clients/js` (make test-client) fails
// if any line marked @ts-expect-error compiles, or any other line does not.
import { Hono } from "hono";
import {
  KeywardError,
  createClient,
  isWellFormed,
  type CreditsState,
  type InvalidCode,
  type KeywardBinding,
  type RateLimitState,
  type Verification,
  type VerifiedToken,
} from "../../src/index.js";
import { bearerToken, keyward, type KeywardEnv, type KeywardVariables } from "../../src/hono.js";

declare const binding: KeywardBinding;
declare const token: string;

export async function narrowing() {
  const client = createClient({ binding, legacyFormats: [{ prefix: "sk_live_", min: 24, max: 64, alphabet: "hex" }] });
  const v: Verification = await client.verify(token, { scopes: ["billing"], consistency: "strict", clientIp: "::1" });
  // @ts-expect-error the token is there only once `valid` is known to be true
  v.token.id;
  if (v.valid) {
    const t: VerifiedToken = v.token;
    const code: "VALID" = v.code;
    return [t.id, t.org_id, t.owner_member_id ?? "org token", t.expires_at, code, v.checked_at, v.max_staleness_s];
  }
  // @ts-expect-error an invalid verdict is never VALID
  const never: "VALID" = v.code;
  return [v.code, never];
}

export async function metered() {
  const client = createClient({ binding });
  const v = await client.verify(token, { cost: 3 });
  // Only a token with a rate limit or credits has them.
  // @ts-expect-error ratelimit may be absent
  v.ratelimit.remaining;
  const left: number | undefined = v.credits?.remaining;
  if (!v.valid && v.code === "RATE_LIMITED" && v.ratelimit) {
    const { limit, remaining, reset_at }: RateLimitState = v.ratelimit;
    return [limit, remaining, reset_at, left];
  }
  const refused: InvalidCode[] = ["RATE_LIMITED", "USAGE_EXCEEDED"];
  const credits: CreditsState | undefined = v.credits;
  // @ts-expect-error cost is a number of credits
  client.verify(token, { cost: "3" });
  await binding.verify(token, { cost: 0 });
  return [refused, credits];
}

export function options() {
  createClient({ url: "https://keyward.example", timeoutMs: 2000, fetch: (input, init) => fetch(input, init) });
  createClient({ url: new URL("https://keyward.example") });
  // @ts-expect-error one of url and binding, not both
  createClient({ url: "https://keyward.example", binding });
  // @ts-expect-error one of url and binding is needed
  createClient({});
  createClient({ binding, timeoutMs: 5 });
  // @ts-expect-error a timeout is a number of milliseconds
  createClient({ binding, timeoutMs: "5s" });
  // @ts-expect-error the legacy alphabets are base62, hex and base64url
  createClient({ binding, legacyFormats: [{ prefix: "x_", min: 1, max: 2, alphabet: "base32" }] });
  const client = createClient({ binding });
  // @ts-expect-error consistency is edge or strict
  client.verify(token, { consistency: "eventual" });
  // @ts-expect-error the option is clientIp (sent as client_ip)
  client.verify(token, { client_ip: "::1" });
  return isWellFormed(token);
}

export function errors(e: unknown) {
  if (e instanceof KeywardError) {
    const status: number | null = e.status;
    const retry: number | null = e.retryAfter;
    const unavailable: boolean = e.unavailable;
    return [status, retry, unavailable, e.code, e.problem?.detail];
  }
  return [];
}

type Bindings = { KEYWARD: KeywardBinding; KEYWARD_URL: string };

export function middleware() {
  const app = new Hono<{ Bindings: Bindings }>();
  app.get("/a", keyward<{ Bindings: Bindings }>({ binding: (c) => c.env.KEYWARD, scopes: ["billing"] }), (c) => {
    const v = c.get("keyward");
    const valid: true = v.valid;
    return c.json({ id: v.token.id, valid });
  });
  app.get(
    "/b",
    keyward<{ Bindings: Bindings }>({
      url: (c) => c.env.KEYWARD_URL,
      consistency: "strict",
      getToken: (c) => c.req.header("x-api-key"),
      clientIp: (c) => c.req.header("x-real-ip"),
      onInvalid: (c, verdict) => c.json({ refused: verdict?.code ?? "no token" }, 401),
      onError: (c, error) => {
        console.log(error.code);
      },
    }),
    (c) => c.text(c.get("keyward").token.role),
  );
  // @ts-expect-error c.env has no such binding
  keyward<{ Bindings: Bindings }>({ binding: (c) => c.env.NOPE });
  // @ts-expect-error the url form takes no binding
  keyward({ url: "https://keyward.example", binding: (c) => c.env.KEYWARD });
  // @ts-expect-error scopes are strings
  keyward({ url: "https://keyward.example", scopes: [1] });
  app.get(
    "/metered",
    keyward<{ Bindings: Bindings }>({ binding: (c) => c.env.KEYWARD, cost: (c) => (c.req.query("bulk") ? 10 : 1) }),
    (c) => {
      const { ratelimit, credits } = c.get("keyward");
      return c.json({ left: ratelimit?.remaining ?? null, credits: credits?.remaining ?? null });
    },
  );
  keyward({ url: "https://keyward.example", cost: 5 });
  keyward({ url: "https://keyward.example", cost: async () => undefined });
  // @ts-expect-error a cost is a number of credits
  keyward({ url: "https://keyward.example", cost: "5" });
  // @ts-expect-error a cost function answers a number
  keyward({ url: "https://keyward.example", cost: () => "5" });
  // Without the middleware, the context holds no verdict.
  // @ts-expect-error no keyward variable on a route it does not guard
  app.get("/c", (c) => c.text(c.get("keyward").token.id));

  const vars: KeywardVariables = { keyward: undefined as never };
  const env: KeywardEnv = { Variables: vars };
  return [env, bearerToken];
}
