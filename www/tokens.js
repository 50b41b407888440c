// The "Tokens" view: every token within reach, with its status, a 30-day sparkline, a filter by
// status and, for a keyward:manage session, the actions of each row (token-actions.js) and the
// create wizard (wizard.js). A token's label opens its details (usage.js).
import { READ_ONLY_MESSAGE, isKeywardScope, stateNote } from "./access.js";
import { api, fill, h, keepFocus } from "./lib.js";
import { when } from "./time.js";
import { networksSummary } from "./networks.js";
import {
  STATUS_LABEL,
  allTokens,
  canManage,
  claimView,
  isAdmin,
  main,
  page,
  showFailure,
  statusWords,
} from "./state.js";
import { emptyState } from "./states.js";
import { rowActions } from "./token-actions.js";
import { loadUsage, openTokenDetail, sparkline } from "./usage.js";
import { createWizard } from "./wizard.js";

/** Repaint the token list after a dialog closes, unless the session ended meanwhile. */
export function refreshTokens() {
  if (page.me) renderTokens().catch(showFailure);
}

/** No token yet: say so, and offer the wizard to a session that may create one. */
function noTokens(members) {
  if (!canManage()) return emptyState("No tokens yet. An admin or a keyward:manage session can create them.");
  const create = h("button", { type: "button", class: "primary" }, "Create your first token");
  create.addEventListener("click", () => createWizard(members));
  return emptyState("No tokens yet — create one to get started.", create);
}

export async function renderTokens() {
  const current = claimView();
  const [tokens, fresh, members, usage] = await Promise.all([
    allTokens(),
    api("GET", "/v1/me"),
    isAdmin() ? api("GET", "/v1/members") : Promise.resolve({ members: [] }),
    loadUsage(), // one call for every row's sparkline
  ]);
  if (!current()) return;
  const me = (page.me = fresh);
  const { used, limit } = me.personal_tokens;
  const meter = me.member
    ? h(
        "div",
        { class: "meter" },
        h("label", { for: "personal-meter" }, `${used} of ${limit} personal tokens`),
        h("meter", { id: "personal-meter", min: 0, max: limit, value: used, high: limit - 1, optimum: 0 }),
      )
    : null;
  const create = canManage()
    ? h("button", { type: "button", class: "primary", id: "create-token" }, "Create token")
    : null;
  create?.addEventListener("click", () => createWizard(members.members));
  const statusFilter = h(
    "select",
    { id: "status-filter", "aria-label": "Filter by status" },
    h("option", { value: "" }, "All statuses"),
    ...Object.entries(STATUS_LABEL).map(([v, l]) => h("option", { value: v }, l)),
  );
  const table = tokenTable(tokens, members.members, usage);
  statusFilter.addEventListener("change", () => {
    const v = statusFilter.value;
    table.querySelectorAll("tbody tr").forEach((tr) => (tr.hidden = Boolean(v) && tr.dataset.status !== v));
  });
  keepFocus(main, () =>
    fill(
      main,
      h(
        "div",
        { class: "view-head" },
        h("h1", {}, "API tokens"),
        meter,
        h("div", { class: "spacer" }),
        statusFilter,
        create,
      ),
      canManage() ? null : h("p", { class: "notice" }, READ_ONLY_MESSAGE),
      tokens.length ? table : noTokens(members.members),
    ),
  );
}

function tokenTable(tokens, members, usage) {
  const head = [
    "Label",
    "Token",
    "Kind",
    "Owner",
    "Role",
    "Scopes",
    "Created by",
    "Created",
    "Expires",
    "Last used",
    "Status",
    canManage() && "Actions",
  ].filter(Boolean);
  return h(
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
      h(
        "tbody",
        {},
        tokens.map((t) => tokenRow(t, members, usage?.get(t.id))),
      ),
    ),
  );
}

function tokenRow(t, members, days) {
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
          t.description ? h("div", { class: "muted small" }, t.description) : null,
        ),
      ),
    ),
    cell("Token", h("code", { class: "masked" }, t.masked)),
    cell("Kind", t.kind === "org" ? "Org" : "Personal"),
    cell("Owner", t.owner ? t.owner.name || t.owner.email : h("span", { class: "muted" }, "Org")),
    cell("Role", h("span", { class: `badge role-${t.role}` }, t.role)),
    // one child, so the narrow layout's label column keeps the scopes and the networks together
    cell(
      "Scopes",
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
      ),
    ),
    canManage() ? cell("Actions", rowActions(t, members)) : null,
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
