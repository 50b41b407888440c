// End-to-end: `POST /v1/verify` has a fast path (a plain request with a declared length skips the
// router) and the general path (anything else: a browser's Origin, a streamed body). Both call the
// one function that reads the body and makes the answer; this suite holds them to it, byte for
// byte, over valid, refused, malformed, oversized and broken requests.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ORIGIN, createOrg, start } from "./harness.mjs";

let w;
before(async () => {
  w = await start();
});
after(async () => {
  await w.mf.dispose();
});

/** The fast path: a plain POST whose body has a declared length. */
async function fast(body) {
  const res = await w.mf.dispatchFetch("http://localhost/v1/verify", { method: "POST", body });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    retry: res.headers.get("retry-after"),
    body: await res.text(),
  };
}

/** The general path, two ways: with an Origin (CORS applies), and with a streamed body of no declared length. */
async function general(body, how) {
  const init = { method: "POST" };
  if (how === "origin") {
    init.headers = { origin: ORIGIN };
    init.body = body;
  } else {
    const bytes = new TextEncoder().encode(body);
    init.body = new ReadableStream({
      start(c) {
        // In two chunks, so the reader really streams.
        c.enqueue(bytes.slice(0, bytes.length >> 1));
        c.enqueue(bytes.slice(bytes.length >> 1));
        c.close();
      },
    });
    init.duplex = "half";
  }
  const res = await w.mf.dispatchFetch("http://localhost/v1/verify", init);
  const out = {
    status: res.status,
    type: res.headers.get("content-type"),
    retry: res.headers.get("retry-after"),
    body: await res.text(),
  };
  if (how === "origin")
    assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN, "the general path answered (CORS)");
  return out;
}

describe("the two verify paths", () => {
  test("answer byte for byte alike", async () => {
    const o = await createOrg(w.api, "Paths");
    const t = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "p", role: "developer", kind: "org", scopes: ["billing"] },
    });
    const revoked = await w.api("POST", "/v1/tokens", {
      token: o.secret,
      body: { label: "r", role: "developer", kind: "org" },
    });
    await w.api("POST", `/v1/tokens/${revoked.body.token.id}/revoke`, {
      token: o.secret,
      body: { confirm_label: "r" },
    });
    const bodies = [
      JSON.stringify({ token: t.body.secret }),
      JSON.stringify({ token: t.body.secret, scopes: ["billing"], consistency: "strict" }),
      JSON.stringify({ token: t.body.secret, scopes: ["nope"] }),
      JSON.stringify({ token: revoked.body.secret }),
      JSON.stringify({ token: "kw_0000000000000000000000000000003wuQEo" }),
      JSON.stringify({ token: "junk" }),
      JSON.stringify({ token: t.body.secret, client_ip: "not an ip" }),
      JSON.stringify({ token: t.body.secret, extra: 1 }),
      JSON.stringify({ token: 42 }),
      JSON.stringify({}),
      "{not json",
      "[]",
      "",
      JSON.stringify({ token: "x".repeat(70_000) }),
    ];
    for (const body of bodies) {
      const a = await fast(body);
      for (const how of ["origin", "stream"]) {
        const b = await general(body, how);
        assert.deepEqual(b, a, `${how} vs fast for ${body.slice(0, 80)}`);
      }
    }
  });

  test("a body stream that breaks mid-way leaves the Worker healthy, and no panic", async () => {
    // A client whose body stream errors aborts its own request, so no answer comes back to
    // compare (undici rejects). Both paths read bodies with the one reader
    // (`http::read_raw_body`), which maps a broken stream to 400 BAD_REQUEST; what can be seen
    // from outside is that nothing breaks.
    const init = {
      method: "POST",
      duplex: "half",
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"token":"kw_'));
        },
        pull(c) {
          c.error(new Error("the client went away"));
        },
      }),
    };
    let res;
    try {
      res = await w.mf.dispatchFetch("http://localhost/v1/verify", init);
    } catch {
      // The client side may give up first; then there is no answer to compare, and the Worker
      // must still be healthy.
      res = null;
    }
    if (res) {
      assert.equal(res.status, 400, await res.clone().text());
      const p = await res.json();
      assert.equal(p.code, "BAD_REQUEST");
    }
    assert.equal((await w.api("GET", "/healthz")).status, 200);
    assert.ok(!/panicked|RuntimeError/.test(w.logs()), "no panic");
  });
});
