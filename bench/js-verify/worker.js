// The bar to beat: the same verify as keyward's POST /v1/verify, written as a plain JS Worker.
// Same token format and checksum, WebCrypto SHA-256, one KV get of the same entry format, the
// same checks in the same order, the same JSON answer.
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TOKEN = /^([a-z][a-z0-9]{1,9})_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/;
const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const enc = new TextEncoder();

function checksum(s) {
  let c = 0xffffffff;
  for (const b of enc.encode(s)) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  let n = (c ^ 0xffffffff) >>> 0;
  let out = "";
  for (let i = 0; i < 6; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

const json = (body) => new Response(JSON.stringify(body), { headers: { "content-type": "application/json", "cache-control": "no-store" } });

export default {
  async fetch(request, env) {
    let body;
    try {
      body = await request.json();
    } catch {
      return new Response(JSON.stringify({ code: "BAD_REQUEST" }), { status: 400 });
    }
    const token = body?.token;
    const scopes = body?.scopes ?? [];
    if (typeof token !== "string") return new Response(JSON.stringify({ code: "BAD_REQUEST" }), { status: 400 });
    const m = TOKEN.exec(token);
    if (!m || checksum(`${m[1]}_${m[2]}`) !== m[3]) return json({ valid: false, code: "MALFORMED" });
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(token)));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    const e = await env.TOKENS.get(`v:${hex}`, "json");
    const now = Date.now();
    let code = "VALID";
    if (!e || (e.grace_until != null && now >= e.grace_until)) code = "NOT_FOUND";
    else if (e.state === "revoked") code = "REVOKED";
    else if (e.state === "disabled") code = "DISABLED";
    else if (e.owner_member_id != null && !e.owner_active) code = "OWNER_DEACTIVATED";
    else if (e.expires_at != null && now >= e.expires_at) code = "EXPIRED";
    else if (scopes.some((s) => !e.scopes.includes(s))) code = "INSUFFICIENT_SCOPE";
    if (code !== "VALID") return json({ valid: false, code });
    return json({
      valid: true,
      code,
      token: { id: e.token_id, org_id: e.org_id, kind: e.kind, owner_member_id: e.owner_member_id, role: e.role, scopes: e.scopes, expires_at: new Date(e.expires_at).toISOString().replace(/\.\d{3}Z$/, "Z") },
    });
  },
};
