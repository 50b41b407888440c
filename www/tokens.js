// The "Tokens" view: every token within reach, with a filter by status; for a keyward:manage
// session, each row's actions (token-actions.js) and the create wizard (wizard.js). The table
// is token-table.js; a token's label opens its details (usage.js). The modules below this one
// get `refreshTokens` as a callback, never by importing it.
import { READ_ONLY_MESSAGE } from "./access.js";
import { api, fill, h, keepFocus } from "./lib.js";
import { STATUS_LABEL, allTokens, canManage, claimView, isAdmin, main, page, showFailure } from "./state.js";
import { emptyState } from "./states.js";
import { rowActions } from "./token-actions.js";
import { tokenTable } from "./token-table.js";
import { loadUsage } from "./usage.js";
import { createWizard } from "./wizard.js";

/** Repaint the token list after a dialog closes, unless the session ended meanwhile. */
export function refreshTokens() {
  if (page.me) renderTokens().catch(showFailure);
}

/** No token yet: say so, and offer the wizard to a session that may create one. */
function noTokens(members) {
  if (!canManage()) return emptyState("No tokens yet. An admin or a keyward:manage session can create them.");
  const create = h("button", { type: "button", class: "primary" }, "Create your first token");
  create.addEventListener("click", () => createWizard(members, { onClose: refreshTokens }));
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
  create?.addEventListener("click", () => createWizard(members.members, { onClose: refreshTokens }));
  const statusFilter = h(
    "select",
    { id: "status-filter", "aria-label": "Filter by status" },
    h("option", { value: "" }, "All statuses"),
    ...Object.entries(STATUS_LABEL).map(([v, l]) => h("option", { value: v }, l)),
  );
  const actions = canManage() ? (t) => rowActions(t, { onChanged: refreshTokens }) : null;
  const table = tokenTable(tokens, { usage, actions });
  statusFilter.addEventListener("change", () => {
    const v = statusFilter.value;
    table.tbody.querySelectorAll("tr").forEach((tr) => (tr.hidden = Boolean(v) && tr.dataset.status !== v));
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
      tokens.length ? table.el : noTokens(members.members),
    ),
  );
}
