// "Check a token": the wasm module's format and checksum verdict as you type, then the server's
// (POST /v1/verify, sent without the session's token).
import { checkToken } from "./pkg/keyward.js";
import { api, field, fill, h } from "./lib.js";
import { claimView, main } from "./state.js";

export async function renderCheck() {
  claimView();
  const input = h("input", { type: "password", autocomplete: "off", spellcheck: "false", autofocus: true });
  const scopesIn = h("input", { type: "text", placeholder: "billing, users:read" });
  const local = h("p", { class: "check-local", "aria-live": "polite" });
  const remote = h("p", { class: "check-remote", "aria-live": "polite" });
  input.addEventListener("input", () => {
    remote.textContent = "";
    const c = checkToken(input.value.trim());
    local.textContent = !input.value ? "" : c.ok ? `Format: well formed (${c.masked})` : `Format: ${c.code}`;
    local.dataset.ok = String(c.ok);
  });
  const form = h(
    "form",
    { class: "panel" },
    h("h1", {}, "Check a token"),
    field("Token", input, {
      name: "token",
      hint: "Checked at once in your browser (format and checksum), then by the server's verify endpoint.",
    }),
    field("Required scopes (optional)", scopesIn, { name: "scopes" }),
    local,
    remote,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Verify with the server")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const scopes = scopesIn.value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    try {
      const v = await api("POST", "/v1/verify", { token: input.value.trim(), scopes }, null);
      remote.textContent = `Server: ${v.code}${v.valid ? ` — ${v.token.kind} ${v.token.role} token, scopes ${v.token.scopes.join(", ") || "none"}` : ""}`;
      remote.dataset.ok = String(v.valid);
    } catch (err) {
      remote.textContent = `Server: ${err.message}`;
    }
  });
  fill(main, form);
  input.focus();
}
