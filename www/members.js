// The "Members" view (admins): every member with their role, status and personal tokens (every
// page of GET /v1/tokens counted), adding one, changing a role, and deactivating with its effect
// on their tokens shown before it happens (or, for the last active admin, why it cannot happen).
import { keepsAnActiveAdmin, validateMemberForm } from "./pkg/keyward.js";
import { READ_ONLY_MESSAGE } from "./access.js";
import { api, field, fill, h, keepFocus, openDialog, showErrors, showServerErrors, toast } from "./lib.js";
import { when } from "./time.js";
import { emptyState } from "./states.js";
import { allTokens, canManage, claimView, handleActionError, main } from "./state.js";

export async function renderMembers() {
  const current = claimView();
  const [{ members }, tokens] = await Promise.all([api("GET", "/v1/members"), allTokens()]);
  if (!current()) return;
  const personal = (id) => tokens.filter((t) => t.kind === "personal" && t.owner?.id === id);
  const made = (id) => tokens.filter((t) => t.kind === "org" && t.created_by.id === id);
  const email = h("input", { type: "email", autocomplete: "off" });
  const name = h("input", { type: "text" });
  const role = h(
    "select",
    {},
    h("option", { value: "developer" }, "Developer"),
    h("option", { value: "admin" }, "Admin"),
  );
  const fs = [
    field("Email", email, { name: "email" }),
    field("Name", name, { name: "name" }),
    field("Role", role, { name: "role" }),
  ];
  const add = h(
    "form",
    { class: "panel inline", "aria-labelledby": "add-member-h" },
    h("h2", { id: "add-member-h" }, "Add a member"),
    ...fs,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Add member")),
  );
  const body = () => ({ email: email.value, name: name.value, role: role.value });
  const touched = new Set();
  add.addEventListener("input", (e) => {
    touched.add(e.target.closest(".field")?.dataset.field);
    const c = validateMemberForm(body());
    showErrors(add, Object.fromEntries(Object.entries(c.errors).filter(([k]) => touched.has(k))));
  });
  add.addEventListener("submit", async (e) => {
    e.preventDefault();
    const c = validateMemberForm(body());
    if (!c.ok) return showErrors(add, c.errors);
    try {
      const m = await api("POST", "/v1/members", body());
      toast(`${m.name} added.`);
      await renderMembers();
    } catch (err) {
      if (err.code === "VALIDATION_FAILED") showServerErrors(add, err.errors);
      else if (err.code === "CONFLICT") fs[0].setError(err.message);
      else toast(err.message, "error");
    }
  });
  const manage = canManage();
  const rows = members.map((m) => {
    const mine = personal(m.id);
    let roleCell = m.role;
    let toggle = null;
    if (manage) {
      roleCell = h(
        "select",
        { "aria-label": `Role of ${m.name}` },
        ["developer", "admin"].map((r) => h("option", { value: r, selected: r === m.role }, r)),
      );
      roleCell.addEventListener("change", () => changeMember(m, { role: roleCell.value }, roleCell));
      toggle =
        m.status === "active"
          ? h(
              "button",
              { type: "button", class: "small danger", onclick: () => deactivateDialog(m, mine, made(m.id), members) },
              "Deactivate",
            )
          : h(
              "button",
              { type: "button", class: "small", onclick: () => changeMember(m, { status: "active" }) },
              "Reactivate",
            );
    }
    return h(
      "tr",
      { dataset: { id: m.id } },
      h("td", { "data-label": "Name" }, m.name),
      h("td", { "data-label": "Email" }, m.email),
      h("td", { "data-label": "Role" }, roleCell),
      h(
        "td",
        { "data-label": "Status" },
        h("span", { class: `badge status-${m.status === "active" ? "active" : "owner_deactivated"}` }, m.status),
      ),
      h("td", { "data-label": "Personal tokens" }, String(mine.length)),
      h("td", { "data-label": "Added" }, when(m.created_at)),
      manage ? h("td", { "data-label": "Actions" }, toggle) : null,
    );
  });
  const head = ["Name", "Email", "Role", "Status", "Personal tokens", "Added", manage && "Actions"].filter(Boolean);
  keepFocus(main, () =>
    fill(
      main,
      h("div", { class: "view-head" }, h("h1", {}, "Members")),
      manage ? null : h("p", { class: "notice" }, READ_ONLY_MESSAGE),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h("caption", { class: "sr-only" }, "Members"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              head.map((c) => h("th", { scope: "col" }, c)),
            ),
          ),
          h("tbody", {}, rows),
        ),
      ),
      members.length === 1 ? onlyOne(members[0], manage) : null,
      manage ? add : null,
    ),
  );
}

/** An org with one member so far (its first admin): say so, and where to add the next. */
function onlyOne(m, manage) {
  return emptyState(
    `${m.name} is the only member so far.`,
    manage
      ? h("span", { class: "muted" }, "Add a member below: they get their own personal tokens and sign in with them.")
      : null,
  );
}

async function changeMember(m, patch, control) {
  try {
    await api("PATCH", `/v1/members/${m.id}`, patch);
    toast(
      patch.status === "active" ? `${m.name} reactivated: their personal tokens work again.` : `${m.name} updated.`,
    );
    await renderMembers();
  } catch (err) {
    handleActionError(err);
    if (control) control.value = m.role;
  }
}

/** The last active admin cannot go (the server answers 409): say so, and offer no Deactivate. */
function lastAdmin(m, body, close) {
  body.append(
    h(
      "p",
      { class: "notice", role: "alert" },
      `${m.name} is the organisation's last active admin, so they cannot be deactivated: the organisation would have no one left to manage it.`,
    ),
    h("p", {}, "Make another active member an admin first (their role, in the list), then deactivate ", m.name, "."),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", autofocus: true, onclick: () => close() }, "OK"),
    ),
  );
}

function deactivateDialog(m, personal, orgMade, members) {
  const { body, close, focusFirst } = openDialog(`Deactivate ${m.name}?`);
  if (!keepsAnActiveAdmin(members, m.id, m.role, "deactivated")) {
    lastAdmin(m, body, close);
    return focusFirst();
  }
  const go = h("button", { type: "button", class: "danger", autofocus: true }, "Deactivate");
  go.addEventListener("click", async () => {
    try {
      await api("PATCH", `/v1/members/${m.id}`, { status: "deactivated" });
      close();
      toast(
        `${m.name} deactivated: ${personal.length} personal token(s) now fail with OWNER_DEACTIVATED; ${orgMade.length} org token(s) they created keep working.`,
      );
      await renderMembers();
    } catch (err) {
      toast(err.message, "error");
      close();
    }
  });
  body.append(
    h("p", {}, "What happens at once:"),
    h(
      "ul",
      { class: "cascade" },
      h(
        "li",
        {},
        `${personal.length} personal token(s) of ${m.name} stop working (OWNER_DEACTIVATED).`,
        personal.length
          ? h(
              "ul",
              {},
              personal.map((t) => h("li", {}, t.label, " ", h("code", {}, t.masked))),
            )
          : null,
      ),
      h("li", {}, `${orgMade.length} org token(s) they created keep working: org tokens belong to the organisation.`),
    ),
    h("p", { class: "muted" }, "Reactivating the member brings their personal tokens back."),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close() }, "Cancel"), go),
  );
  focusFirst();
}
