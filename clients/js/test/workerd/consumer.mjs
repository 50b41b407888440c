// The Worker the workerd test bundles (esbuild) with the client and Hono: the client alone under
// /client/<binding|http>?token=…&scopes=a,b&consistency=…&ip=…&cost=…, and the middleware guarding
// /mw/<binding|http>/whoami (any valid token), /mw/<binding|http>/invoices (scope billing) and
// /mw/<binding|http>/metered?cost=… (any valid token, spending `cost`).
import { Hono } from "hono";
import { KeywardError, createClient } from "../../src/index.js";
import { keyward } from "../../src/hono.js";

const app = new Hono();

app.get("/client/:via", async (c) => {
  const client =
    c.req.param("via") === "binding"
      ? createClient({ binding: c.env.KEYWARD })
      : createClient({ url: c.env.KEYWARD_URL, timeoutMs: 3000 });
  const q = c.req.query();
  const options = { scopes: q.scopes?.split(","), consistency: q.consistency, clientIp: q.ip };
  if (q.cost !== undefined) options.cost = Number(q.cost);
  try {
    return c.json({ verdict: await client.verify(q.token ?? "", options) });
  } catch (e) {
    if (!(e instanceof KeywardError)) throw e;
    const { name, code, status, retryAfter, problem } = e;
    return c.json({ error: { name, code, status, retryAfter, problem: problem?.code ?? null } });
  }
});

for (const via of ["binding", "http"]) {
  const base =
    via === "binding" ? { binding: (c) => c.env.KEYWARD } : { url: (c) => c.env.KEYWARD_URL, timeoutMs: 3000 };
  app.get(`/mw/${via}/whoami`, keyward(base), (c) => {
    const { token } = c.get("keyward");
    return c.json({ id: token.id, scopes: token.scopes });
  });
  app.get(`/mw/${via}/invoices`, keyward({ ...base, scopes: ["billing"] }), (c) => c.json({ invoices: [] }));
  const cost = (c) => (c.req.query("cost") === undefined ? undefined : Number(c.req.query("cost")));
  app.get(`/mw/${via}/metered`, keyward({ ...base, cost }), (c) => {
    const { token, ratelimit, credits } = c.get("keyward");
    return c.json({ id: token.id, ratelimit: ratelimit ?? null, credits: credits ?? null });
  });
}

export default app;
