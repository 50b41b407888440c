// The Worker's module entry (wrangler.toml, wrangler.verify.toml: `main = "build*/index.js"`).
// scripts/build-worker.sh writes worker-build's module as `keyward.mjs` beside this file: its
// default export is the fetch handler (the admin API, verification, the page), and it exports
// the org authority's Durable Object class. This file re-exports both and adds
// `KeywardVerifier`, the named entrypoint other Workers bind to:
//
//   services = [{ binding = "KEYWARD", service = "keyward-verify", entrypoint = "KeywardVerifier" }]
//   const answer = await env.KEYWARD.verify(token, { scopes: ["billing"] });
//
// Thin on purpose: `verify` makes the `POST /v1/verify` request a caller would and answers the
// parsed body, so the binding and HTTP cannot disagree (codes, rate limits, usage counting).
import { WorkerEntrypoint } from "cloudflare:workers";
import Keyward from "./keyward.mjs";

export * from "./keyward.mjs";
export default Keyward;

/** Where the synthetic request is addressed; only its path is read. */
const VERIFY_URL = "https://keyward.binding/v1/verify";
/** The client key misses count against when the caller gives no `client_ip`. */
const NO_CLIENT = "service-binding";
/** What may be an address (the endpoint itself answers 400 to a `client_ip` that is not one). */
const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

export class KeywardVerifier extends WorkerEntrypoint {
  /**
   * Verify `token`: `options` is `{scopes?, consistency?, client_ip?, cost?}`, as `POST /v1/verify`
   * takes them (any other key is answered 400, as there). Resolves to exactly the body that
   * endpoint answers: the verdict on 200, else the RFC 9457 problem (with its `status`, and
   * `retry_after` on 429). Rejects only when the call itself cannot be made.
   */
  async verify(token, options = {}) {
    // A plain object only: a Map, a Date or a class instance would cross as something whose
    // entries are not its options, and an option lost is a check skipped.
    const proto = options === null || typeof options !== "object" ? undefined : Object.getPrototypeOf(options);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError("options must be a plain object: {scopes?, consistency?, client_ip?, cost?}");
    }
    // No prototype, so an own `__proto__` key is kept as a key (and refused like any unknown one).
    const ask = Object.create(null);
    ask.token = token;
    for (const [key, value] of Object.entries(options)) {
      if (key === "token") throw new TypeError("the token is the first argument, not an option");
      ask[key] = value;
    }
    const body = JSON.stringify(ask);
    const headers = new Headers({
      "content-type": "application/json",
      "content-length": String(new TextEncoder().encode(body).byteLength),
      // Misses are rate-limited per client: the end user's address when the caller passes it,
      // else one shared key for every binding call.
      "cf-connecting-ip": ADDRESS.test(options.client_ip ?? "") ? options.client_ip : NO_CLIENT,
    });
    const worker = new Keyward(this.ctx, this.env);
    const res = await worker.fetch(new Request(VERIFY_URL, { method: "POST", headers, body }));
    return JSON.parse(await res.text());
  }
}
