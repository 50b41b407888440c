// A Worker that answers with what it received: the headers, how many body bytes it could read,
// and the error that ended the read, if any. tests/e2e/verify-paths.test.mjs sends it the same
// broken requests as keyward, to show which path keyward's conditions choose and that the body
// read really fails there.
export default {
  async fetch(request) {
    let read = 0;
    let error = null;
    try {
      const reader = request.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        read += value.length;
      }
    } catch (e) {
      error = String(e);
    }
    return Response.json({ headers: Object.fromEntries(request.headers), read, error });
  },
};
