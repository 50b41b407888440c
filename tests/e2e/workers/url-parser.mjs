// A Worker that reads URLs with the runtime's own parser: for a posted JSON list of URL strings,
// the host of each as workerd's `new URL(u).hostname` gives it, and as a `new Request(u)` (what
// `fetch` makes of a URL) keeps it; null where the parser refuses the URL.
// tests/e2e/webhook-hosts.test.mjs holds keyward's reading of webhook hosts to it.
const host = (read) => {
  try {
    return read().hostname;
  } catch {
    return null;
  }
};

export default {
  async fetch(request) {
    const urls = await request.json();
    return Response.json(
      urls.map((u) => ({
        url: host(() => new URL(u)),
        request: host(() => new URL(new Request(u).url)),
      })),
    );
  },
};
