// The edit dialog of one token (a row's Edit): name, description, role, scopes, access to keyward,
// networks, and its rate limit, credits and metadata (metering-fields.js), validated by the
// browser module's `validateTokenEdit` (the server's PATCH rules) before anything is sent. The
// dialog reads the token afresh (GET, with its ETag) and the PATCH carries that ETag as If-Match,
// so a save never overwrites a change made elsewhere meanwhile.
import { validateTokenEdit } from "./pkg/keyward.js";
import { api, apiTagged, field, h, openDialog, showErrors, showServerErrors, toast } from "./lib.js";
import { meteringFields } from "./metering-fields.js";
import { networksField } from "./networks.js";
import { keywardChoice, scopeChecks, scopeFieldset, splitScopeErrors } from "./scope-fields.js";
import { callerScopes, handleActionError, isAdmin, page } from "./state.js";

/** Edit the token `listed` (its row's view); `onChanged()` runs after a save (the list repaints). */
export async function editDialog(listed, onChanged) {
  let t, etag;
  try {
    ({ body: t, etag } = await apiTagged("GET", `/v1/tokens/${listed.id}`));
  } catch (e) {
    return handleActionError(e, `${listed.label} could not be read`);
  }
  const { body, close, focusFirst } = openDialog(`Edit “${t.label}”`, { wide: true });
  const label = h("input", { type: "text", value: t.label, autofocus: true });
  const desc = h("textarea", { rows: 3 }, t.description ?? "");
  const roleSel = h(
    "select",
    {},
    ["developer", "admin"].map((r) =>
      h("option", { value: r, selected: r === t.role, disabled: r === "admin" && !isAdmin() }, r),
    ),
  );
  const scopes = scopeChecks(page.me.org.modules, t.scopes, "edit");
  const keyward = keywardChoice({
    modules: page.me.org.modules,
    callerScopes: callerScopes(),
    current: t.scopes,
    name: "edit-keyward",
  });
  const networks = networksField(t.allowed_cidrs ?? [], { own: t.id === page.me.token?.id });
  const metering = meteringFields({ current: t, editing: true, prefix: "edit" });
  const fields = [
    field("Name", label, { name: "label" }),
    field("Description", desc, { name: "description" }),
    field("Role", roleSel, { name: "role" }),
  ];
  const scopeField = scopeFieldset(scopes);
  const form = h(
    "form",
    { novalidate: true },
    ...fields,
    scopeField,
    keyward.el,
    networks.el,
    metering.limits,
    metering.metadata,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", onclick: () => close() }, "Cancel"),
      h("button", { type: "submit", class: "primary" }, "Save"),
    ),
  );
  // allowed_cidrs is always sent: an emptied field ([]) removes the allowlist. The rate limit,
  // credits and metadata only when changed (a balance only when one is typed).
  const patch = () => ({
    label: label.value,
    description: desc.value,
    role: roleSel.value,
    scopes: [...scopes.value(), keyward.value()].filter(Boolean),
    allowed_cidrs: networks.value(),
    ...metering.value(),
  });
  const validate = () => {
    const check = validateTokenEdit(patch(), keyward.grantable);
    const local = metering.errors(); // meta that is not JSON
    // Credits given to a token that has none need a balance to start from (the server says so
    // too; saying it here sends nothing).
    const credits = patch().credits;
    if (!t.credits && credits && credits.remaining === undefined) {
      local["credits.remaining"] = "is required when the token has no credits yet";
    }
    showErrors(form, { ...splitScopeErrors(check.errors), ...local });
    return check.ok && !Object.keys(local).length;
  };
  form.addEventListener("input", validate);
  form.addEventListener("change", validate);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!validate()) return form.querySelector("[aria-invalid]")?.focus();
    try {
      const ifMatch = etag ? { "if-match": etag } : {};
      const saved = await api("PATCH", `/v1/tokens/${t.id}`, patch(), undefined, ifMatch);
      close();
      toast(`${label.value.trim()}: saved.`);
      onChanged();
    } catch (err) {
      if (err.code === "VALIDATION_FAILED") showServerErrors(form, splitScopeErrors(err.errors));
      else if (err.code === "PRECONDITION_FAILED") {
        close();
        toast(
          `Not saved: “${t.label}” was changed elsewhere meanwhile. The list shows it as it is now; edit it again.`,
          "error",
        );
        onChanged();
      } else handleActionError(err);
    }
  });
  body.append(form);
  focusFirst();
}
