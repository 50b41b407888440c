// Network allowlists on the admin page: the "Allowed networks" field of the create wizard and the
// edit dialog, and how a token's allowlist reads in the overview and the token list. The rules
// (IPv4 and IPv6 CIDR blocks, at most 20, no block twice) are the browser module's
// `validateTokenForm`, the server's own code, with errors under `allowed_cidrs`; the server keeps
// each block normalised ("10.1.2.3/24" is stored as "10.1.2.0/24", a bare address is one host).
import { field, h } from "./lib.js";

export const NETWORKS_LABEL = "Allowed networks (optional)";
export const NETWORKS_HINT =
  "Leave empty to allow any network. With networks set, verifications must pass the caller's address as client_ip.";

/** The blocks typed in the field: one per line or comma-separated, blanks ignored. */
export const parseNetworks = (text) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The "Allowed networks" textarea as a form field named `allowed_cidrs` (so `showErrors` puts the
 * validator's message under it). `current` is the token's list when editing; `own` says it is the
 * token this page is signed in with. Returns { el, value() } where `value()` is the list of blocks.
 */
export function networksField(current = [], { own = false } = {}) {
  const input = h(
    "textarea",
    {
      rows: 3,
      spellcheck: "false",
      autocomplete: "off",
      autocapitalize: "off",
      class: "mono",
      placeholder: "192.0.2.0/24\n2001:db8::/32",
    },
    current.join("\n"),
  );
  const el = field(NETWORKS_LABEL, input, { name: "allowed_cidrs", hint: NETWORKS_HINT });
  if (own) {
    el.querySelector(".hint").after(
      h(
        "p",
        { class: "hint" },
        "This is the token you are signed in with: from an address outside these networks keyward refuses it, and this page signs out.",
      ),
    );
  }
  return { el, value: () => parseNetworks(input.value) };
}

/** The allowlist in words, for the wizard's overview. */
export const networksWords = (cidrs = []) => (cidrs.length ? cidrs.join(", ") : "Any network");

/**
 * The allowlist in the token list, next to the scopes: nothing for a token usable from anywhere,
 * else a small "2 networks" that opens to the blocks (the blocks are also its tooltip).
 */
export function networksSummary(cidrs = []) {
  if (!cidrs.length) return null;
  const n = cidrs.length;
  return h(
    "details",
    { class: "networks" },
    h("summary", { title: `Usable only from ${cidrs.join(", ")}` }, `${n} ${n === 1 ? "network" : "networks"}`),
    h(
      "ul",
      { "aria-label": "Allowed networks" },
      cidrs.map((c) => h("li", {}, h("code", {}, c))),
    ),
  );
}
