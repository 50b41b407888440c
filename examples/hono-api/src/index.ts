import { Hono } from "hono";
import type { KeywardBinding } from "@keyward/client";
import { keyward, type KeywardOptions } from "@keyward/client/hono";

export interface Env {
  /** The service binding to keyward's `KeywardVerifier` entrypoint (wrangler.toml). */
  KEYWARD: KeywardBinding;
  /** keyward's origin, for the same routes verified over HTTP. */
  KEYWARD_URL: string;
}

type AppEnv = { Bindings: Env };

/** The API, whichever way its tokens are verified: only a valid token reaches a route. */
function api(verify: KeywardOptions<AppEnv>) {
  const routes = new Hono<AppEnv>();

  // Any valid token.
  routes.get("/whoami", keyward(verify), (c) => {
    const { token } = c.get("keyward");
    return c.json({ id: token.id, org_id: token.org_id, scopes: token.scopes });
  });

  // A valid token with the `billing` scope; without it, 403 insufficient_scope.
  routes.get("/invoices", keyward({ ...verify, scopes: ["billing"] }), (c) => {
    const { token } = c.get("keyward");
    return c.json({ org_id: token.org_id, invoices: [] });
  });

  return routes;
}

const app = new Hono<AppEnv>();
app.route("/binding", api({ binding: (c) => c.env.KEYWARD }));
app.route("/http", api({ url: (c) => c.env.KEYWARD_URL }));

export default app;
