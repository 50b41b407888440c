// The runtime's floor: a JS Worker that reads the body and answers a constant.
const BODY = '{"valid":false,"code":"NOT_FOUND"}';
export default {
  async fetch(request) {
    await request.arrayBuffer();
    return new Response(BODY, { headers: { "content-type": "application/json", "cache-control": "no-store" } });
  },
};
