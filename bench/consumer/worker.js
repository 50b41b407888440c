// The consumer Worker of bench/binding.mjs: a service of one's own that verifies each caller's
// token with keyward before answering. Both routes take keyward's verify body,
// `{"token": …, "scopes": […]}`, and differ only in how they ask keyward:
//   POST /binding  env.KEYWARD.verify(token, {scopes}): the service binding to the named
//                  entrypoint `KeywardVerifier` (README, "Verify from your own Workers");
//   POST /http     `POST /v1/verify` over HTTP, as a consumer without the binding would call
//                  keyward's URL. Here it goes through a plain service binding to keyward's default
//                  entrypoint (KEYWARD_HTTP), so the request still crosses keyward's HTTP handler
//                  but no network: no DNS, no TLS, no hop between data centres.
// Both then do what a consumer does with the answer: go on only if `valid` is true. They answer
// 200 `{code, token_id}` on VALID, else 403 with the code, so wrk counts every refusal or
// problem as a non-2xx answer and a run that measured errors shows it.
export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const { token, scopes } = await request.json();
    let answer;
    if (pathname === "/binding") {
      answer = await env.KEYWARD.verify(token, { scopes });
    } else if (pathname === "/http") {
      const res = await env.KEYWARD_HTTP.fetch(env.KEYWARD_URL, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, scopes }),
      });
      answer = await res.json();
    } else {
      return new Response("not found", { status: 404 });
    }
    return Response.json(
      { code: answer.code ?? null, token_id: answer.token?.id ?? null },
      { status: answer.valid === true ? 200 : 403 },
    );
  },
};
