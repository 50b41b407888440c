// The "Organisation" section (admins only): the org's modules and token policy, what keyward
// does with a token reported leaked (`policy.on_leak`) and after how many idle days it disables
// one (`policy.disable_after_idle_days`) and whether notifications are emailed
// (`policy.email_notifications`), all changed with PATCH /v1/org (only what changed). A session
// with keyward:manage may change it; a keyward:read session sees the same, read-only.
import { READ_ONLY_MESSAGE } from "./access.js";
import { api, field, fill, h, keepFocus, toast } from "./lib.js";
import { when } from "./time.js";

const ON_LEAK = [
  {
    value: "revoke",
    label: "Revoke it at once (recommended)",
    detail: "It stops working straight away; an admin can re-approve it if the report was wrong.",
  },
  {
    value: "notify",
    label: "Only notify",
    detail: "It keeps working until someone revokes or rotates it.",
  },
];

/** The on_leak choice in words ("Revoke it at once", "Only notify"), as the toast says it. */
const leakWords = (v) => (ON_LEAK.find((c) => c.value === v)?.label ?? v).replace(/ \(.*\)$/, "");

/**
 * Paint the section into `main`. `isCurrent()` says the view still owns the screen (claimView),
 * `manage` whether changes are allowed, `onSaved(org)` receives the org a change answered (the form stays as it is), and
 * `onError(err)` handles a failed change.
 */
export async function renderOrg({ main, isCurrent, manage, onSaved, onError }) {
  const org = await api("GET", "/v1/org");
  if (!isCurrent()) return;
  const p = org.policy;
  const facts = [
    [
      "Modules",
      org.modules.length
        ? h(
            "div",
            { class: "chips" },
            org.modules.map((m) => h("span", { class: "chip" }, m)),
          )
        : "none",
    ],
    ["Personal tokens per member", `at most ${p.max_personal_tokens}`],
    ["New tokens expire", `in ${p.default_ttl_days} days unless chosen otherwise, at most ${p.max_ttl_days}`],
    ["Org tokens that never expire", p.allow_non_expiring_org_tokens ? "Allowed" : "Not allowed"],
    ["Created", when(org.created_at)],
  ];
  const about = h(
    "section",
    { class: "panel", "aria-labelledby": "org-name-h" },
    h("h2", { id: "org-name-h" }, org.name),
    h(
      "dl",
      { class: "overview" },
      facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
  );
  keepFocus(main, () =>
    fill(
      main,
      h("div", { class: "view-head" }, h("h1", {}, "Organisation")),
      manage ? null : h("p", { class: "notice" }, READ_ONLY_MESSAGE),
      about,
      leakForm(org, { manage, onSaved, onError }),
    ),
  );
}

/** The idle policy: a whole number of days from 1 to this, or null (off; the field left empty). */
export const MAX_IDLE_DAYS = 365;
/** The server's words for a bad `disable_after_idle_days` (policy fields are checked alike), or null. */
export function idleProblem(input) {
  if (input.validity?.badInput) return "must be a whole number";
  const text = input.value.trim();
  if (text === "") return null;
  const n = Number(text);
  if (!Number.isInteger(n)) return "must be a whole number";
  return n >= 1 && n <= MAX_IDLE_DAYS ? null : `must be between 1 and ${MAX_IDLE_DAYS}`;
}
const idleWords = (days) => (days ? `disabled after ${days} days without a valid verification` : "never disabled");
const emailWords = (on) => (on ? "each notification is emailed to its recipient" : "notifications are not emailed");

function leakForm(org, { manage, onSaved, onError }) {
  let stored = org.policy.on_leak ?? "revoke";
  let storedIdle = org.policy.disable_after_idle_days ?? null;
  let storedEmail = org.policy.email_notifications !== false;
  const radios = ON_LEAK.map((c) =>
    h("input", {
      type: "radio",
      name: "on_leak",
      value: c.value,
      id: `on-leak-${c.value}`,
      checked: c.value === stored,
      disabled: !manage,
      "aria-describedby": `on-leak-${c.value}-detail`,
    }),
  );
  const chosen = () => radios.find((r) => r.checked)?.value ?? stored;
  const idle = h("input", {
    type: "number",
    id: "idle-days",
    min: 1,
    max: MAX_IDLE_DAYS,
    step: 1,
    inputmode: "numeric",
    placeholder: "Never",
    value: storedIdle ?? "",
    disabled: !manage,
  });
  const idleField = field("Disable tokens unused for (days)", idle, {
    name: "policy.disable_after_idle_days",
    hint: `1 to ${MAX_IDLE_DAYS} days without a valid verification; empty: never. The owner and the admins are warned 7 days before; an admin can enable the token again.`,
  });
  const idleValue = () => (idle.value.trim() === "" ? null : Number(idle.value));
  const email = h("input", {
    type: "checkbox",
    id: "email-notifications",
    checked: storedEmail,
    disabled: !manage,
    "aria-describedby": "email-notifications-hint",
  });
  const err = h("p", { class: "field-error", id: "on-leak-err", "aria-live": "polite" });
  const save = manage ? h("button", { type: "submit", class: "primary", disabled: true }, "Save") : null;
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "leak-h", novalidate: true },
    h("h2", { id: "leak-h" }, "Leaked tokens"),
    h("p", { class: "hint" }, "GitHub's secret scanning tells keyward when a keyward token turns up in public code."),
    h(
      "fieldset",
      { class: "field leak-choice", "aria-describedby": "on-leak-err" },
      h("legend", {}, "When a token is reported leaked"),
      h(
        "div",
        { class: "choices" },
        radios.map((r, i) =>
          h(
            "label",
            { class: "check", for: r.id },
            r,
            h(
              "span",
              {},
              h("span", {}, ON_LEAK[i].label),
              h("span", { class: "muted small block", id: `${r.id}-detail` }, ON_LEAK[i].detail),
            ),
          ),
        ),
      ),
      err,
    ),
    h(
      "p",
      { class: "hint" },
      "Either way the token's owner and the admins are notified. A token sent to /v1/credentials/revoke by someone who holds it is always revoked.",
    ),
    h("h2", { id: "idle-h", class: "later" }, "Idle tokens"),
    idleField,
    h("h2", { id: "email-h", class: "later" }, "Emails"),
    h(
      "div",
      { class: "field" },
      h("label", { class: "check", for: email.id }, email, h("span", {}, "Email notifications to their recipients")),
      h(
        "p",
        { class: "hint", id: "email-notifications-hint" },
        "Each notification (a token created, changed, revoked, reported leaked, about to expire…) is also emailed to the person it is for: the token's owner and the admins. Turning this off also gives up emails not sent yet.",
      ),
    ),
    save ? h("div", { class: "actions" }, save) : null,
  );
  if (!manage) return form;
  // A wrong number keeps Save on: pressing it says what is wrong and sends nothing.
  const changed = () =>
    Boolean(idleProblem(idle)) || chosen() !== stored || idleValue() !== storedIdle || email.checked !== storedEmail;
  const live = () => {
    err.textContent = "";
    idleField.setError(idleProblem(idle));
    save.disabled = !changed();
  };
  form.addEventListener("change", live);
  form.addEventListener("input", live);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const problem = idleProblem(idle);
    idleField.setError(problem);
    if (problem) return idle.focus(); // nothing is sent while the field is wrong
    const policy = {};
    if (chosen() !== stored) policy.on_leak = chosen();
    if (idleValue() !== storedIdle) policy.disable_after_idle_days = idleValue();
    if (email.checked !== storedEmail) policy.email_notifications = email.checked;
    save.disabled = true;
    try {
      const updated = await api("PATCH", "/v1/org", { policy });
      stored = updated.policy.on_leak;
      storedIdle = updated.policy.disable_after_idle_days ?? null;
      storedEmail = updated.policy.email_notifications !== false;
      for (const r of radios) r.checked = r.value === stored;
      idle.value = storedIdle ?? "";
      email.checked = storedEmail;
      // Save is off again until the next change: keep focus on what was changed, not on a disabled button.
      if ("on_leak" in policy) radios.find((r) => r.checked)?.focus();
      else if ("disable_after_idle_days" in policy) idle.focus();
      else email.focus();
      const said = [
        "on_leak" in policy ? `When a token is reported leaked: ${leakWords(stored).toLowerCase()}.` : null,
        "disable_after_idle_days" in policy ? `Idle tokens: ${idleWords(storedIdle)}.` : null,
        "email_notifications" in policy ? `Emails: ${emailWords(storedEmail)}.` : null,
      ];
      toast(`Saved. ${said.filter(Boolean).join(" ")}`);
      onSaved(updated);
    } catch (failure) {
      save.disabled = false;
      if (failure.code === "VALIDATION_FAILED") {
        const { "policy.disable_after_idle_days": idleErr, ...rest } = failure.errors;
        // other policy fields' words go under the leak choice, the form's general error slot
        idleField.setError(idleErr);
        err.textContent = Object.values(rest).join(" ");
      } else onError(failure);
    }
  });
  return form;
}
