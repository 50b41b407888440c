// The token list's table: one row per token with its status, a 30-day sparkline, an "imported"
// badge for a key brought from elsewhere, its credits and rate limit under its scopes and networks
// (the column is "Scopes & limits" when some token has them) and, for a keyward:manage session,
// the actions the view passes in. tokens.js orders and filters the rows.
import { graceNote, importedBadge, isKeywardScope, stateNote } from "./access.js";
import { h } from "./lib.js";
import { meteringSummary } from "./metering.js";
import { networksSummary } from "./networks.js";
import { statusWords } from "./state.js";
import { when } from "./time.js";
import { openTokenDetail } from "./token-detail.js";
import { sparkline } from "./usage.js";

/**
 * The table of `tokens`: `usage` maps a token id to its days (null: no sparklines), `actions(t)`
 * builds a row's actions (null: no Actions column). Returns { el, tbody, rows } where `rows`
 * maps each token id to its row.
 */
export function tokenTable(tokens, { usage, actions }) {
  const scopesHead = tokens.some((t) => t.credits || t.ratelimit) ? "Scopes & limits" : "Scopes";
  const head = [
    "Label",
    "Token",
    "Kind",
    "Owner",
    "Role",
    scopesHead,
    "Created by",
    "Created",
    "Expires",
    "Last used",
    "Status",
    actions && "Actions",
  ].filter(Boolean);
  const rows = new Map(tokens.map((t) => [t.id, tokenRow(t, usage?.get(t.id), { actions, scopesHead })]));
  const tbody = h("tbody", {}, [...rows.values()]);
  const el = h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "tokens" },
      h("caption", { class: "sr-only" }, "API tokens"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          head.map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      tbody,
    ),
  );
  return { el, tbody, rows };
}

function tokenRow(t, days, { actions, scopesHead }) {
  const grace = graceNote(t);
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  return h(
    "tr",
    { dataset: { id: t.id, status: t.status } },
    cell(
      "Label",
      h(
        "div",
        { class: "label-cell" },
        logoThumb(t),
        h(
          "div",
          {},
          h(
            "button",
            {
              type: "button",
              class: "link",
              "aria-label": `Details and usage of ${t.label}`,
              onclick: () => openTokenDetail(t, statusWords(t)),
            },
            h("strong", {}, t.label),
          ),
          t.imported ? [" ", importedBadge(t)] : null,
          t.description ? h("div", { class: "muted small" }, t.description) : null,
        ),
      ),
    ),
    cell("Token", h("code", { class: "masked" }, t.masked)),
    cell("Kind", t.kind === "org" ? "Org" : "Personal"),
    cell("Owner", t.owner ? t.owner.name || t.owner.email : h("span", { class: "muted" }, "Org")),
    cell("Role", h("span", { class: `badge role-${t.role}` }, t.role)),
    // one child, so the narrow layout's label column keeps the scopes, networks and limits together
    cell(
      scopesHead,
      h(
        "div",
        {},
        t.scopes.length
          ? h(
              "div",
              { class: "chips" },
              t.scopes.map((s) =>
                h(
                  "span",
                  {
                    class: isKeywardScope(s) ? "chip keyward" : "chip",
                    title: isKeywardScope(s) ? "Access to keyward itself" : null,
                  },
                  s,
                ),
              ),
            )
          : h("span", { class: "muted" }, "none"),
        networksSummary(t.allowed_cidrs),
        meteringSummary(t),
      ),
    ),
    cell("Created by", t.created_by.name || t.created_by.email),
    cell("Created", when(t.created_at)),
    cell("Expires", when(t.expires_at, "Never")),
    cell("Last used", h("div", {}, when(t.last_used_at, "Never"), sparkline(days))),
    cell(
      "Status",
      h(
        "div",
        {},
        h("span", { class: `badge status-${t.status}` }, statusWords(t)),
        stateNote(t) ? h("div", { class: "muted small state-note" }, stateNote(t)) : null,
        grace ? h("div", { class: "muted small state-note" }, grace) : null,
      ),
    ),
    actions ? cell("Actions", actions(t)) : null,
  );
}

/**
 * A token's logo, or the first letter of its label when it has none or the browser cannot draw
 * it (the server checks a logo's type, size and magic number, not that the image is whole).
 */
function logoThumb(t) {
  const letter = () =>
    h("span", { class: "logo-thumb placeholder", "aria-hidden": "true" }, t.label.slice(0, 1).toUpperCase());
  if (!t.logo) return letter();
  const img = h("img", { src: t.logo, alt: "", class: "logo-thumb" });
  img.addEventListener("error", () => img.replaceWith(letter()), { once: true });
  return img;
}
