// A client Worker for tests/e2e/verify-paths.test.mjs: it sends `POST /v1/verify` to the service
// named in the instructions (KEYWARD, or MIRROR to see what arrives) with a body stream that
// breaks mid-way, and returns what came back as JSON. Node's fetch cannot do this: a client whose
// body stream errors aborts its own request, so no answer reaches it.
//
// The body is a FixedLengthStream, so the request declares its length (the fast path's condition):
// a few bytes are written and then the writer aborts. workerd delivers that to the receiver as a
// body read that fails. A stream without a declared length (IdentityTransformStream, a JS
// ReadableStream) is no use here: when it errors, workerd ends the receiver's body cleanly instead,
// so the receiver sees a short body rather than a broken one; the test sends that case over a raw
// HTTP connection instead.
export default {
  async fetch(request, env) {
    const { to, origin, declared, sent } = await request.json();
    const { readable, writable } = new FixedLengthStream(declared);
    const writer = writable.getWriter();
    const feeding = (async () => {
      await writer.write(new TextEncoder().encode(sent));
      await writer.abort(new Error("the client went away"));
    })().catch(() => {});
    const headers = origin ? { origin } : {};
    const res = await env[to].fetch("http://localhost/v1/verify", { method: "POST", headers, body: readable });
    const answer = {
      status: res.status,
      type: res.headers.get("content-type"),
      retry: res.headers.get("retry-after"),
      body: await res.text(),
      allowOrigin: res.headers.get("access-control-allow-origin"),
    };
    await feeding;
    return Response.json(answer);
  },
};
