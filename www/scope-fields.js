// The scope fields the create wizard and the edit dialog share: the org's modules as checkboxes,
// and the "Access to keyward itself" choice (none, read or manage), offering only what the
// signed-in token may grant. Every rule is the browser module's (the server's own):
// `grantableScopes` for what may be granted, `keywardAccess` for what scopes give.
import { grantableScopes, keywardAccess } from "./pkg/keyward.js";
import { isKeywardScope } from "./access.js";
import { errorSlot, h } from "./lib.js";

/** The org's modules as checkboxes (keyward's own scopes are the separate choice below). */
export function scopeChecks(modules, selected, prefix) {
  const boxes = modules
    .filter((m) => !isKeywardScope(m))
    .map((m) => h("input", { type: "checkbox", value: m, id: `${prefix}-scope-${m}`, checked: selected.includes(m) }));
  const el = boxes.length
    ? h(
        "div",
        { class: "checks" },
        boxes.map((b) => h("label", { class: "check", for: b.id }, b, h("span", {}, b.value))),
      )
    : h("p", { class: "muted" }, "This org has no modules yet.");
  return { el, boxes, value: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

/** The "Scopes" fieldset around `scopeChecks`, with its error slot. */
export function scopeFieldset(scopes) {
  const el = h(
    "fieldset",
    { class: "field", dataset: { field: "scopes" } },
    h("legend", {}, "Scopes"),
    scopes.el,
    h("p", { class: "field-error", "aria-live": "polite" }),
  );
  el.setError = errorSlot(el, scopes.boxes);
  return el;
}

/** The levels of access to keyward, weakest first, in words (`access` as `keywardAccess` names it). */
const CHOICES = [
  { access: null, label: "None" },
  { access: "read", label: "Read: see what its role reaches, change nothing" },
  { access: "manage", label: "Manage: see, create and change what its role reaches" },
];

/** What Read and Manage reach, by the token's role (what the server answers, not more). */
const ROLE_REACH =
  "What its role reaches: a developer token, its owner's own tokens; an admin token, every token, the members, the audit log and the organisation's settings.";

/** The first of `scopes` that gives `access` (keyward's own scope for it), or undefined. */
const scopeFor = (access, scopes) => scopes.find((s) => keywardAccess([s]) === access);

/**
 * The "Access to keyward itself" choice: none (the default), read or manage, offering only what
 * the signed-in token may grant (`grantableScopes`). `current` is the scopes of the token being
 * edited; its keyward access is shown even if the caller could not grant it. Returns
 * { el, value(), grantable } where `value()` is the chosen keyward scope or "" and `grantable`
 * is what to validate the form's scopes against.
 */
export function keywardChoice({ modules, callerScopes, current = [], name }) {
  const grantable = grantableScopes(modules, callerScopes);
  const held = keywardAccess(current);
  const choices = CHOICES.map((c) => ({
    ...c,
    scope:
      c.access === null
        ? ""
        : (scopeFor(c.access, grantable) ?? (c.access === held ? scopeFor(held, current) : undefined)),
  }));
  const offered = choices.filter((c) => c.scope !== undefined);
  const withheld = choices.filter((c) => c.scope === undefined);
  const radios = offered.map((c) =>
    h("input", {
      type: "radio",
      name,
      value: c.scope,
      id: `${name}-${c.access ?? "none"}`,
      checked: c.access === held,
    }),
  );
  const el = h(
    "fieldset",
    {
      class: "field keyward-access",
      dataset: { field: "keyward" },
      "aria-describedby": `${name}-why ${name}-reach ${name}-err`,
    },
    h("legend", {}, "Access to keyward itself"),
    h(
      "p",
      { class: "hint", id: `${name}-why` },
      "Off by default: a token that calls your own services does not need to call keyward, and if it leaks it then cannot be used to create new tokens.",
    ),
    h(
      "div",
      { class: "choices" },
      radios.map((r, i) =>
        h(
          "label",
          { class: "check", for: r.id },
          r,
          h("span", {}, offered[i].label),
          offered[i].scope && h("code", { class: "muted small" }, offered[i].scope),
        ),
      ),
    ),
    h("p", { class: "hint", id: `${name}-reach` }, ROLE_REACH),
    withheld.length
      ? h(
          "p",
          { class: "hint" },
          `Not offered: ${withheld.map((c) => c.label.split(":")[0]).join(", ")} (your token does not hold it, so it cannot grant it).`,
        )
      : null,
    h("p", { class: "field-error", id: `${name}-err`, "aria-live": "polite" }),
  );
  el.setError = errorSlot(el, radios);
  return { el, grantable, value: () => radios.find((r) => r.checked)?.value ?? "" };
}

/** The words for a keyward scope choice, as the overview shows it. */
export const accessWords = (scope) => ({ read: "Read", manage: "Manage" })[keywardAccess([scope])] ?? "None";

/**
 * Split a scopes error between the module checkboxes and the keyward choice: the server and the
 * browser module name both under `scopes`; one about keyward's own scopes belongs to the choice.
 */
export function splitScopeErrors(errors) {
  const out = { ...errors };
  if (out.scopes && out.scopes.includes("keyward:")) {
    out.keyward = out.scopes;
    delete out.scopes;
  }
  return out;
}
