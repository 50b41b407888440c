// What a keyward:manage session does to one token from its row: edit (token-edit.js), disable and
// enable, revoke and delete with the label typed to confirm, re-approve, and rotate with a grace
// period. The view passes `onChanged`, run after each change.
import { allowedActions, confirmLabelMatches, mayActOn } from "./pkg/keyward.js";
import { api, field, h, openDialog, session, showServerErrors, toast } from "./lib.js";
import { secretPanel } from "./secret.js";
import { callerRole, callerScopes, handleActionError, page } from "./state.js";
import { editDialog } from "./token-edit.js";

/** The buttons of `t`'s row; `onChanged()` runs after a change (the list repaints). */
export function rowActions(t, { onChanged }) {
  const b = (text, fn, cls = "") =>
    h("button", { type: "button", class: `small ${cls}`, "aria-label": `${text} ${t.label}`, onclick: fn }, text);
  const post = (action, verb) => async () => {
    try {
      await api("POST", `/v1/tokens/${t.id}/${action}`);
      toast(`${t.label}: ${verb}.`);
      onChanged();
    } catch (e) {
      handleActionError(e, `${t.label} was not ${verb}`);
    }
  };
  // What the server would allow, from the server's own rules (the browser module): an admin's
  // or keyward's disable shows no Enable to a developer; an expired token no Rotate. A disable
  // or revoke that only takes over a developer's own (same state) is left to the server.
  // A token whose role or keyward access is above the signed-in token's is out of its hands.
  if (!mayActOn(callerRole(), callerScopes(), t.role, t.scopes))
    return h("p", { class: "muted small" }, "Above your token: an admin token with Manage changes it.");
  const allowed = new Set(allowedActions(t.state, t.status === "expired", t.state_set_by ?? null, callerRole()));
  const acts = [b("Edit", () => editDialog(t, onChanged))];
  if (allowed.has("disable") && t.state === "active") acts.push(b("Disable", post("disable", "disabled")));
  if (allowed.has("enable")) acts.push(b("Enable", post("enable", "enabled")));
  if (allowed.has("revoke") && t.state !== "revoked")
    acts.push(b("Revoke", () => confirmByLabel(t, "revoke", onChanged), "danger"));
  if (allowed.has("reapprove")) acts.push(b("Re-approve", post("reapprove", "re-approved")));
  if (allowed.has("rotate")) acts.push(b("Rotate", () => rotateDialog(t, onChanged)));
  if (allowed.has("delete")) acts.push(b("Delete", () => confirmByLabel(t, "delete", onChanged), "danger"));
  return h("div", { class: "row-actions" }, acts);
}

/** Revoke or delete: the button enables only when the typed label matches (wasm rule). */
function confirmByLabel(t, action, onChanged) {
  const verb = action === "revoke" ? "Revoke" : "Delete";
  const { body, close, focusFirst } = openDialog(`${verb} “${t.label}”?`);
  const typed = h("input", { type: "text", autocomplete: "off", spellcheck: "false", autofocus: true });
  const f = field(`Type the label “${t.label}” to confirm`, typed, { name: "confirm_label" });
  const go = h("button", { type: "submit", class: "danger", disabled: true }, verb);
  typed.addEventListener("input", () => {
    go.disabled = !confirmLabelMatches(t.label, typed.value);
    f.setError(null);
  });
  const form = h(
    "form",
    {},
    h(
      "p",
      {},
      action === "revoke"
        ? "Revoking stops the token at once here and everywhere within about a minute. It can be re-approved while unexpired."
        : "Deleting removes the token for good; its secret will never verify again. The audit log keeps its history.",
    ),
    f,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close() }, "Cancel"), go),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      if (action === "revoke") await api("POST", `/v1/tokens/${t.id}/revoke`, { confirm_label: typed.value });
      else await api("DELETE", `/v1/tokens/${t.id}`, { confirm_label: typed.value });
      close();
      toast(`${t.label}: ${action === "revoke" ? "revoked" : "deleted"}.`);
      onChanged();
    } catch (err) {
      if (err.code === "CONFIRMATION_MISMATCH") f.setError("That is not the exact label.");
      else if (err.code === "VALIDATION_FAILED") showServerErrors(form, err.errors);
      else f.setError(err.message);
    }
  });
  body.append(form);
  focusFirst();
}

function rotateDialog(t, onChanged) {
  const { body, close, focusFirst } = openDialog(`Rotate “${t.label}”`, { onClose: onChanged });
  // The admin API takes only a token's current secret: rotating the one this page signed in with
  // would sign it out, so the page carries on with the new secret.
  const own = t.id === page.me.token?.id;
  const grace = h(
    "select",
    { autofocus: true },
    h("option", { value: "0" }, "Stop the old secret now"),
    h("option", { value: "300" }, "Keep the old secret for 5 minutes"),
    h("option", { value: "3600" }, "Keep the old secret for 1 hour"),
    h("option", { value: "86400" }, "Keep the old secret for 24 hours"),
  );
  const f = field("Grace period for the old secret", grace, { name: "grace_seconds" });
  const form = h(
    "form",
    {},
    h("p", {}, "Rotation issues a new secret for the same token: label, scopes and expiry stay."),
    own
      ? h(
          "p",
          { class: "notice" },
          "This is the token you are signed in with. The old secret stops working for keyward at once (services may still use it during the grace period); this page carries on with the new one.",
        )
      : null,
    f,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", onclick: () => close() }, "Cancel"),
      h("button", { type: "submit", class: "primary" }, "Rotate"),
    ),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await api("POST", `/v1/tokens/${t.id}/rotate`, { grace_seconds: Number(grace.value) });
      if (own) session.set(r.secret);
      const panel = secretPanel(r.secret, r.token.masked);
      const done = h("button", { type: "button", class: "primary", onclick: () => close() }, "Done");
      form.replaceWith(h("div", {}, panel, h("div", { class: "actions" }, done)));
      panel.querySelector("button.primary")?.focus();
    } catch (err) {
      if (err.code === "VALIDATION_FAILED") showServerErrors(form, err.errors);
      else f.setError(err.message);
    }
  });
  body.append(form);
  focusFirst();
}
