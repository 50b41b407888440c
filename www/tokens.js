// The "Tokens" view: every token within reach, newest first, found with a search (label, masked
// token, owner), a sort and a filter by status, all over the loaded list; for a keyward:manage
// session, each row's actions (token-actions.js) and the create wizard (wizard.js), and for an
// admin with it, the import of keys brought from elsewhere (token-import.js). The table is
// token-table.js; a token's label opens its details (usage.js). The modules below this one get
// `refreshTokens` as a callback, never by importing it.
import { READ_ONLY_MESSAGE } from "./access.js";
import { api, fill, h, keepFocus } from "./lib.js";
import { STATUS_LABEL, allTokens, canManage, claimView, isAdmin, main, page, showFailure } from "./state.js";
import { emptyState } from "./states.js";
import { rowActions } from "./token-actions.js";
import { importDialog } from "./token-import.js";
import { tokenTable } from "./token-table.js";
import { loadUsage } from "./usage.js";
import { createWizard } from "./wizard.js";

/** Repaint the token list after a dialog closes, unless the session ended meanwhile. */
export function refreshTokens() {
  if (page.me) renderTokens().catch(showFailure);
}

/** What the list shows: the search, the sort and the status, kept while the view repaints. */
const shown = { q: "", sort: "newest", status: "" };

const time = (iso) => (iso ? Date.parse(iso) : Infinity);
const byLabel = (a, b) => a.label.localeCompare(b.label, undefined, { sensitivity: "base", numeric: true });
const SORTS = {
  newest: ["Newest first", (a, b) => time(b.created_at) - time(a.created_at) || byLabel(a, b)],
  label: ["Label (A–Z)", (a, b) => byLabel(a, b) || time(b.created_at) - time(a.created_at)],
  expires: ["Expires soonest", (a, b) => time(a.expires_at) - time(b.expires_at) || byLabel(a, b)],
};

/** Whether `t` has `q` (lower case) in its label, masked token or owner's name or email. */
const matches = (t, q) =>
  !q || [t.label, t.masked, t.owner?.name, t.owner?.email].some((s) => s?.toLowerCase().includes(q));

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
  // Importing is an admin's (POST /v1/tokens/import answers 403 to anyone else).
  const importKeys =
    canManage() && isAdmin() ? h("button", { type: "button", id: "import-tokens" }, "Import keys") : null;
  importKeys?.addEventListener("click", () => importDialog(members.members, { onImported: refreshTokens }));
  const actions = canManage() ? (t) => rowActions(t, { onChanged: refreshTokens }) : null;
  const table = tokenTable(tokens, { usage, actions });
  keepFocus(main, () =>
    fill(
      main,
      h(
        "div",
        { class: "view-head" },
        h("h1", {}, "API tokens"),
        meter,
        h("div", { class: "spacer" }),
        importKeys,
        create,
      ),
      canManage() ? null : h("p", { class: "notice" }, READ_ONLY_MESSAGE),
      tokens.length ? [finder(tokens, table), table.el] : noTokens(members.members),
    ),
  );
}

/**
 * The search, sort and status filter over the loaded tokens: each change orders the table's rows
 * and hides those that do not match; a line says how many match when some are hidden.
 */
function finder(tokens, table) {
  const search = h("input", {
    type: "search",
    id: "token-search",
    value: shown.q,
    "aria-label": "Search tokens",
    placeholder: "Search label, token or owner",
    autocomplete: "off",
    spellcheck: "false",
  });
  const sort = h(
    "select",
    { id: "token-sort", "aria-label": "Sort tokens" },
    Object.entries(SORTS).map(([v, [label]]) => h("option", { value: v, selected: v === shown.sort }, label)),
  );
  const status = h(
    "select",
    { id: "status-filter", "aria-label": "Filter by status" },
    h("option", { value: "" }, "All statuses"),
    ...Object.entries(STATUS_LABEL).map(([v, l]) => h("option", { value: v, selected: v === shown.status }, l)),
  );
  const count = h("p", { class: "muted small match-count", role: "status" });
  const apply = () => {
    Object.assign(shown, { q: search.value, sort: sort.value, status: status.value });
    const q = shown.q.trim().toLowerCase();
    const ordered = [...tokens].sort(SORTS[shown.sort]?.[1] ?? SORTS.newest[1]);
    let n = 0;
    for (const t of ordered) {
      const tr = table.rows.get(t.id);
      tr.hidden = !matches(t, q) || Boolean(shown.status && t.status !== shown.status);
      if (!tr.hidden) n++;
    }
    table.tbody.replaceChildren(...ordered.map((t) => table.rows.get(t.id)));
    count.textContent =
      n === tokens.length
        ? ""
        : n
          ? `${n} of ${tokens.length} tokens match.`
          : "No token matches: change the search or the filter.";
  };
  search.addEventListener("input", apply);
  sort.addEventListener("change", apply);
  status.addEventListener("change", apply);
  apply();
  return h(
    "div",
    { class: "filters token-finder", role: "group", "aria-label": "Find tokens" },
    search,
    sort,
    status,
    count,
  );
}
