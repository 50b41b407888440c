// The create wizard: General → Access → Limits & metadata → Overview → Create, validated live by
// the wasm rules (the same Rust code as the server). Its fields are in wizard-fields.js and
// metering-fields.js; this file runs the steps: which fields each step checks, moving between
// steps, and creating the token.
import { validateTokenForm } from "./pkg/keyward.js";
import { api, h, openDialog, showErrors, showServerErrors, toast } from "./lib.js";
import { secretPanel } from "./secret.js";
import { splitScopeErrors } from "./scope-fields.js";
import { isAdmin, page } from "./state.js";
import { METERING_FIELDS, meteringFields } from "./metering-fields.js";
import { accessStep, generalStep, overviewRows, tokenBody } from "./wizard-fields.js";

/** The fields each step checks before the next one (Overview checks them all). */
const STEP_FIELDS = [
  ["logo", "label", "description"],
  ["kind", "owner_member_id", "role", "scopes", "keyward", "allowed_cidrs", "expires_in_days", "never_expires"],
  METERING_FIELDS,
  [],
];
const NAMES = ["General", "Access", "Limits & metadata", "Overview"];
const OVERVIEW = NAMES.length - 1;
/** The first step with an error among `errors`, or the first step. */
const firstBadStep = (errors) =>
  Math.max(
    STEP_FIELDS.findIndex((fs) => fs.some((n) => errors[n])),
    0,
  );

/**
 * Open the wizard in a dialog; `members` are the owners an admin may choose from, `onClose()`
 * runs when it closes (the list repaints).
 */
export function createWizard(members, { onClose }) {
  const { body, close, focusFirst } = openDialog("Create an API token", { wide: true, onClose });
  const me = page.me;
  const org = me.org;
  const touched = new Set();
  const general = generalStep({
    onLogo: () => {
      touched.add("logo");
      validate(touched);
    },
  });
  const access = accessStep({ members, admin: isAdmin(), org, me });
  const metering = meteringFields({ prefix: "new" });
  const form = () => tokenBody(general, access, metering.value());
  const validate = (only) => {
    // Validated against what this caller may grant: the org's modules and its own keyward scopes.
    const check = validateTokenForm(form(), access.keyward.grantable, org.policy);
    // meta that is not JSON is not sent: its error is the page's own
    const local = metering.errors();
    const errors = { ...splitScopeErrors(check.errors), ...local };
    const shown = Object.fromEntries(Object.entries(errors).filter(([k]) => !only || only.has(k)));
    showErrors(stepsEl, shown);
    return { ok: check.ok && !Object.keys(local).length, errors };
  };

  const overview = h("dl", { class: "overview" });
  const limits = h(
    "section",
    { "aria-label": "Limits & metadata" },
    h("p", { class: "hint intro-hint" }, "All optional: a part left empty is not set."),
    metering.limits,
    metering.metadata,
  );
  const steps = [general.el, access.el, limits, h("section", { "aria-label": "Overview" }, overview)];
  const stepsEl = h("div", { class: "steps" }, steps);
  stepsEl.addEventListener("input", (e) => {
    const name = e.target.closest(".field")?.dataset.field;
    if (name) touched.add(name);
    validate(touched);
  });
  stepsEl.addEventListener("change", () => validate(touched));
  const progress = h(
    "ol",
    { class: "progress" },
    NAMES.map((n) => h("li", {}, n)),
  );
  const back = h("button", { type: "button" }, "Back");
  const next = h("button", { type: "submit", class: "primary" }, "Next");
  const wizard = h(
    "form",
    { class: "wizard", novalidate: true },
    progress,
    stepsEl,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close() }, "Cancel"), back, next),
  );
  let step = 0;
  const show = (i) => {
    step = i;
    steps.forEach((s, j) => (s.hidden = j !== i));
    progress.querySelectorAll("li").forEach((li, j) => {
      if (j === i) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
      li.classList.toggle("done", j < i);
    });
    back.hidden = i === 0;
    next.textContent = i === OVERVIEW ? "Create token" : "Next";
    if (i === OVERVIEW) {
      const rows = overviewRows(form(), { logo: general.logo, keyward: access.keyward, members, me });
      overview.replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    }
    (steps[i].querySelector("input:not([type=file]), select, textarea") ?? next).focus();
  };
  back.addEventListener("click", () => show(step - 1));
  wizard.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (step < OVERVIEW) {
      STEP_FIELDS[step].forEach((n) => touched.add(n));
      const check = validate(touched);
      if (STEP_FIELDS[step].some((n) => check.errors[n])) return stepsEl.querySelector("[aria-invalid]")?.focus();
      return show(step + 1);
    }
    const check = validate(null);
    if (!check.ok) return show(firstBadStep(check.errors));
    next.disabled = true;
    try {
      const created = await api("POST", "/v1/tokens", form());
      wizard.replaceWith(createdPanel(created, close));
    } catch (err) {
      next.disabled = false;
      if (err.code === "VALIDATION_FAILED") {
        const errors = splitScopeErrors(err.errors);
        showServerErrors(stepsEl, errors);
        show(firstBadStep(errors));
      } else if (err.code === "LIMIT_REACHED") {
        toast(err.message, "error");
        show(1);
        access.f.owner_member_id.setError(err.message);
      } else toast(err.message, "error");
    }
  });
  body.append(wizard);
  show(0);
  focusFirst();
}

/** The new token's secret, shown once, and Done; focus goes to Copy. */
function createdPanel(created, close) {
  const panel = secretPanel(created.secret, created.token.masked);
  const done = h("button", { type: "button", class: "primary", onclick: () => close() }, "Done");
  const el = h(
    "div",
    { class: "created" },
    h("h3", {}, `“${created.token.label}” is ready`),
    panel,
    h("div", { class: "actions" }, done),
  );
  queueMicrotask(() => panel.querySelector("button.primary")?.focus());
  return el;
}
