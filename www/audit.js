// The "Audit log" view (admins): what happened, newest first, in people's names. Who acted (a
// member's name and email, the operator (or the operator for a member), a leak report, or keyward
// itself), with which token or sign-in session, and on what (a token links to its details),
// filtered by a token (the API's `target` or `actor_token`) and by action (over the events
// loaded), "Load more" following the cursor. Above it, the log's integrity: the head of its
// hash chain, the last checkpoint sent out, and the whole log as NDJSON for
// `keyward-audit-verify`.
import { auditActions } from "./pkg/keyward.js";
import { api, apiText, fill, h, keepFocus, toast } from "./lib.js";
import { when } from "./time.js";
import { allTokens, claimView, main, page } from "./state.js";
import { emptyState, errorState, loadingState } from "./states.js";

const PAGE = 50;

/** Who made the change when no token did, as the server records it (`acted_by`). */
export function systemActor(e) {
  return { keyward: "keyward (automatic)", report: "leak report" }[e.acted_by] ?? "operator";
}

/** The audit query for a token filter and a cursor. */
export function auditQuery({ token, as }, cursor) {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (token) q.set(as === "actor" ? "actor_token" : "target", token);
  if (cursor) q.set("cursor", cursor);
  return `/v1/audit?${q}`;
}

export async function renderAudit() {
  const current = claimView();
  // Names for ids, read once per view load: members and every page of tokens.
  const [{ members }, tokens, head] = await Promise.all([
    api("GET", "/v1/members"),
    allTokens(),
    api("GET", "/v1/audit/head"),
  ]);
  const view = {
    members: new Map(members.map((m) => [m.id, m])),
    tokens: new Map(tokens.map((t) => [t.id, t])),
    filter: { token: "", as: "target", action: "" },
    events: [],
    cursor: null,
  };
  const first = await api("GET", auditQuery(view.filter));
  if (!current()) return;
  view.events = first.events;
  view.cursor = first.cursor;

  const list = h("div", { class: "audit-list" });
  const tokenSel = h(
    "select",
    { id: "audit-token", "aria-label": "Filter by token" },
    h("option", { value: "" }, "Any token"),
    tokens.map((t) => h("option", { value: t.id }, `${t.label} (${t.masked})`)),
  );
  const asSel = h(
    "select",
    { id: "audit-token-as", "aria-label": "The token's part" },
    h("option", { value: "target" }, "changed"),
    h("option", { value: "actor" }, "acting"),
  );
  const actionSel = h(
    "select",
    { id: "audit-action", "aria-label": "Filter by action" },
    h("option", { value: "" }, "All actions"),
    auditActions().map((a) => h("option", { value: a }, a)),
  );
  const reload = async () => {
    view.filter.token = tokenSel.value;
    view.filter.as = asSel.value;
    fill(list, loadingState("the audit log"));
    try {
      const got = await api("GET", auditQuery(view.filter));
      if (!current()) return;
      view.events = got.events;
      view.cursor = got.cursor;
      paint(list, view, more);
    } catch (err) {
      if (current()) fill(list, errorState("The audit log could not be read", err, reload));
    }
  };
  const more = async (button) => {
    button.disabled = true;
    button.textContent = "Loading…";
    try {
      const got = await api("GET", auditQuery(view.filter, view.cursor));
      if (!current()) return;
      view.events = view.events.concat(got.events);
      view.cursor = got.cursor;
      paint(list, view, more);
    } catch (err) {
      if (!current()) return;
      const slot = h(
        "div",
        {},
        errorState("More events could not be read", err, () => more(button)),
      );
      button.replaceWith(slot);
      button.disabled = false;
      button.textContent = "Load more";
      slot.querySelector(".retry").addEventListener("click", () => slot.replaceWith(button), { once: true });
    }
  };
  tokenSel.addEventListener("change", reload);
  asSel.addEventListener("change", reload);
  actionSel.addEventListener("change", () => {
    view.filter.action = actionSel.value;
    paint(list, view, more);
  });
  fill(
    main,
    h("div", { class: "view-head" }, h("h1", {}, "Audit log")),
    integrity(head),
    h(
      "div",
      { class: "filters", role: "group", "aria-label": "Filters" },
      h("span", {}, "Token"),
      tokenSel,
      asSel,
      h("span", {}, "Action"),
      actionSel,
    ),
    list,
  );
  paint(list, view, more);
}

/** The events loaded (the action filter applied), and Load more while there is a cursor. */
function paint(list, view, more) {
  const { action, token } = view.filter;
  const shown = action ? view.events.filter((e) => e.action === action) : view.events;
  const next = view.cursor ? h("button", { type: "button", id: "audit-more" }, "Load more") : null;
  next?.addEventListener("click", () => more(next));
  const filtered = Boolean(action || token);
  const none = filtered
    ? emptyState(
        view.cursor
          ? "No events match these filters among those loaded. Load more to look further back."
          : "No events match these filters.",
      )
    : emptyState("No audit events yet.");
  keepFocus(list, () =>
    fill(
      list,
      shown.length ? table(shown, view) : none,
      h(
        "div",
        { class: "list-foot" },
        h("p", { class: "muted small", role: "status" }, loadedWords(view, shown)),
        next,
      ),
    ),
  );
}

const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;
function loadedWords(view, shown) {
  const all = view.events.length;
  const head = shown.length === all ? plural(all, "event") : `${shown.length} of ${plural(all, "event")} loaded`;
  return view.cursor ? `${head}; older ones remain.` : `${head}; that is all.`;
}

function table(events, view) {
  const cell = (label, ...c) => h("td", { "data-label": label }, ...c);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "audit" },
      h("caption", { class: "sr-only" }, "Audit events, newest first"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["When", "Action", "Who", "Target", "Summary"].map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      h(
        "tbody",
        {},
        events.map((e) =>
          h(
            "tr",
            { dataset: { id: e.id ?? "", action: e.action ?? "" } },
            cell("When", when(e.at)),
            cell("Action", h("code", {}, e.action)),
            cell("Who", actor(e, view)),
            cell("Target", target(e, view)),
            cell("Summary", e.summary ?? ""),
          ),
        ),
      ),
    ),
  );
}

/** A member by name and email; an id no longer known, greyed. */
function member(id, view) {
  const m = view.members.get(id);
  if (!m) return h("span", { class: "muted gone", title: "A member no longer listed" }, id);
  return h("span", { class: "person" }, h("strong", {}, m.name), " ", h("span", { class: "muted" }, `<${m.email}>`));
}

/** A token by label and masked form, linking to its details; a deleted one shows its id, greyed. */
export function tokenRef(id, view) {
  const t = view.tokens.get(id);
  if (!t) return h("span", { class: "muted gone", title: "A deleted token" }, `${id} (deleted)`);
  return h(
    "span",
    { class: "token-ref" },
    h("a", { href: `#/tokens/${encodeURIComponent(id)}`, "aria-label": `Open ${t.label} (${t.masked})` }, t.label),
    " ",
    h("code", { class: "masked" }, t.masked),
  );
}

function actor(e, view) {
  const by = e.actor_member_id ? member(e.actor_member_id, view) : null;
  const token = e.actor_token_id ? tokenRef(e.actor_token_id, view) : null;
  if (!by && !token) return h("span", { class: "system" }, systemActor(e));
  // A member acting without a token: the operator acting for them, or their sign-in session.
  if (e.acted_by === "operator" && by)
    return h("div", { class: "acted-for" }, h("span", { class: "system" }, "operator for "), by);
  if (e.acted_by === "session" && by) return h("div", {}, by, h("div", { class: "small" }, "signed in, no token"));
  return h("div", {}, by ?? h("span", {}, "an org token"), token ? h("div", { class: "small" }, "with ", token) : null);
}

function target(e, view) {
  if (e.target_type === "token") return tokenRef(e.target_id, view);
  if (e.target_type === "member") return member(e.target_id, view);
  const org = page.me?.org;
  return h("span", {}, "the organisation", org && org.id === e.target_id ? ` ${org.name}` : "");
}

/** The chain's head and last checkpoint, with the export button. */
export function integrity(head) {
  const short = `${head.hash.slice(0, 12)}…`;
  const checkpoint = head.checkpoint_at
    ? h("span", {}, "last checkpoint ", when(head.checkpoint_at), ` (seq ${head.checkpoint_seq})`)
    : h("span", { class: "muted" }, "no checkpoint sent yet (one goes out after each day the log grows)");
  const button = h("button", { type: "button", id: "audit-export" }, "Export (NDJSON)");
  button.addEventListener("click", () => download(button, head));
  return h(
    "p",
    { class: "integrity small", id: "audit-integrity" },
    h("strong", {}, "Integrity: "),
    `chain head seq ${head.seq}, hash `,
    h("code", { title: head.hash, dataset: { hash: head.hash } }, short),
    " · ",
    checkpoint,
    " ",
    button,
  );
}

/** Every page of the export, as one file; the head it was read against goes with it. */
async function download(button, head) {
  button.disabled = true;
  button.textContent = "Exporting…";
  try {
    let text = "";
    let after = 0;
    for (;;) {
      const got = await apiText(`/v1/audit/export?after_seq=${after}`);
      text += got.text;
      const next = /after_seq=(\d+)/.exec(got.headers.get("link") ?? "");
      if (!next) break;
      after = Number(next[1]);
    }
    const last = text.trimEnd().split("\n").pop();
    const seq = last ? JSON.parse(last).seq : 0;
    const name = `keyward-audit-${head.org_id}-seq-${seq}.ndjson`;
    const a = h("a", { href: URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" })), download: name });
    document.body.append(a);
    a.click();
    a.remove();
    toast(`Exported the audit log (${name}).`);
  } catch (err) {
    toast(`The export failed: ${err.message}`, "error");
  } finally {
    button.disabled = false;
    button.textContent = "Export (NDJSON)";
  }
}
