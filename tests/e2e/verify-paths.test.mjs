// End-to-end: `POST /v1/verify` has a fast path (a plain request with a declared length skips the
// router) and the general path (anything else: a browser's Origin, a streamed body). Both call the
// one function that reads the body and makes the answer; this suite holds them to it, byte for
// byte, over valid, refused, malformed, oversized and broken requests.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { ORIGIN, createOrg, start, unclocked } from "./harness.mjs";

/** A client Worker that sends bodies which break mid-way, and a Worker that mirrors what it receives. */
const WORKERS = [
  {
    name: "client",
    modules: true,
    scriptPath: "tests/e2e/workers/broken-body.mjs",
    compatibilityDate: "2025-09-01",
    serviceBindings: { KEYWARD: "keyward", MIRROR: "mirror" },
  },
  {
    name: "mirror",
    modules: true,
    scriptPath: "tests/e2e/workers/mirror.mjs",
    compatibilityDate: "2025-09-01",
    routes: ["mirror.invalid/*"],
  },
];

let w, client;
before(async () => {
  w = await start({}, { workers: WORKERS });
  client = await w.mf.getWorker("client");
});
after(async () => {
  await w.mf.dispose();
});

/**
 * Send `request` (head and the start of a body) over a raw HTTP/1.1 connection to the Worker and
 * half-close it: the server meets the end of its input inside the body. Returns the raw answer.
 */
async function halfClosed(request) {
  const url = new URL(String(await w.mf.ready));
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const got = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer within 10 s")));
    socket.on("data", (d) => got.push(d));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(got).toString()));
    socket.end(request);
  });
}

/** The fast path: a plain POST whose body has a declared length. */
async function fast(body) {
  const res = await w.mf.dispatchFetch("http://localhost/v1/verify", { method: "POST", body });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    retry: res.headers.get("retry-after"),
    body: unclocked(await res.text()),
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
    body: unclocked(await res.text()),
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

  test("a body stream that breaks mid-way gets the same 400 from both paths, and the Worker stays healthy", async () => {
    // Node's fetch cannot send such a request and read the answer: a client whose body stream
    // errors aborts its own request. Two clients that can: a Worker (tests/e2e/workers/broken-body.mjs)
    // whose body is a FixedLengthStream it aborts after a few bytes, and a raw HTTP/1.1 connection
    // that sends the head and a few bytes of the body and then half-closes, so the body ends early
    // while the connection still carries the answer. Each request goes to the mirror Worker too,
    // which shows what keyward receives: which path its conditions choose, and a body read that fails.
    const sent = '{"token":"kw_';
    const declared = 100;

    /** Through a service binding, from the client Worker: `to` is KEYWARD or MIRROR. */
    async function viaWorker(to, origin) {
      const res = await client.fetch("http://client/", {
        method: "POST",
        body: JSON.stringify({ to, origin, declared, sent }),
      });
      assert.equal(res.status, 200, "the client Worker answered");
      return res.json();
    }
    /** Over a raw HTTP/1.1 connection, half-closed after `sent`: `host` picks keyward or the mirror. */
    async function viaSocket(host, how) {
      const head = [`POST /v1/verify HTTP/1.1`, `host: ${host}`];
      if (how === "origin") head.push(`origin: ${ORIGIN}`);
      if (how === "chunked") head.push("transfer-encoding: chunked");
      else head.push(`content-length: ${declared}`);
      const body = how === "chunked" ? `${sent.length.toString(16)}\r\n${sent}\r\n` : sent;
      const raw = await halfClosed(`${head.join("\r\n")}\r\n\r\n${body}`);
      const [top, ...rest] = raw.split("\r\n\r\n");
      const [statusLine, ...lines] = top.split("\r\n");
      const headers = new Map(
        lines.map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
      );
      return {
        raw,
        status: Number(statusLine.split(" ")[1]),
        type: headers.get("content-type") ?? null,
        retry: headers.get("retry-after") ?? null,
        body: rest.join("\r\n\r\n"),
        allowOrigin: headers.get("access-control-allow-origin") ?? null,
      };
    }
    const compared = ({ status, type, retry, body }) => ({ status, type, retry, body });

    // What keyward receives: a declared length and no Origin (the fast path), or an Origin or no
    // declared length (the general path), and either way a body read that fails after at most
    // the bytes sent.
    const seen = {
      "worker, fast": JSON.parse((await viaWorker("MIRROR")).body),
      "worker, origin": JSON.parse((await viaWorker("MIRROR", ORIGIN)).body),
      "socket, fast": JSON.parse((await viaSocket("mirror.invalid", "fast")).body),
      "socket, origin": JSON.parse((await viaSocket("mirror.invalid", "origin")).body),
      "socket, chunked": JSON.parse((await viaSocket("mirror.invalid", "chunked")).body),
    };
    for (const [what, s] of Object.entries(seen)) {
      assert.equal(s.headers["content-length"], what.endsWith("chunked") ? undefined : String(declared), what);
      assert.equal(s.headers.origin, what.endsWith("origin") ? ORIGIN : undefined, what);
      assert.equal(typeof s.error, "string", `${what}: the body read fails (${JSON.stringify(s)})`);
      assert.ok(s.read <= sent.length, what);
    }
    assert.equal(seen["socket, fast"].read, sent.length, "the bytes before the break arrive");

    const answers = {
      "worker, fast": await viaWorker("KEYWARD"),
      "worker, origin": await viaWorker("KEYWARD", ORIGIN),
      "socket, fast": await viaSocket("localhost", "fast"),
      "socket, origin": await viaSocket("localhost", "origin"),
      "socket, chunked": await viaSocket("localhost", "chunked"),
    };
    const a = compared(answers["worker, fast"]);
    for (const [what, b] of Object.entries(answers)) {
      assert.deepEqual(compared(b), a, `${what} vs the fast path through a Worker`);
      assert.equal(b.allowOrigin, what.endsWith("origin") ? ORIGIN : null, `${what}: CORS only with an Origin`);
    }
    // Without an Origin, the two paths' whole HTTP answers are the same bytes.
    assert.equal(answers["socket, chunked"].raw, answers["socket, fast"].raw);
    // The answer `http::read_raw_body` documents for a broken stream (not the one for a short
    // body, "the body is not valid JSON": the read failed, it did not just end).
    assert.equal(a.status, 400);
    assert.equal(a.type, "application/problem+json");
    assert.equal(a.retry, null);
    const p = JSON.parse(a.body);
    assert.equal(p.code, "BAD_REQUEST");
    assert.equal(p.status, 400);
    assert.equal(p.detail, "the request body could not be read");

    // And a client that gives up on its own request (Node's fetch, whose body stream errors)
    // gets no answer, or the same one.
    let res;
    try {
      res = await w.mf.dispatchFetch("http://localhost/v1/verify", {
        method: "POST",
        duplex: "half",
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(sent));
          },
          pull(c) {
            c.error(new Error("the client went away"));
          },
        }),
      });
    } catch {
      res = null;
    }
    if (res) {
      const got = { status: res.status, type: res.headers.get("content-type"), retry: res.headers.get("retry-after") };
      assert.deepEqual({ ...got, body: await res.text() }, a);
    }
    assert.equal((await w.api("GET", "/healthz")).status, 200);
    assert.ok(!/panicked|RuntimeError/.test(w.logs()), "no panic");
  });
});
