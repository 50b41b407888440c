// The create wizard's fields, one builder per step (General, Access; Limits & metadata is
// metering-fields.js), the request body they make, and the Overview's rows in words. wizard.js
// runs the steps.
import { isKeywardScope } from "./access.js";
import { errorSlot, field, h, readDataUrl } from "./lib.js";
import { meteringRows } from "./metering.js";
import { networksField, networksWords } from "./networks.js";
import { accessWords, keywardChoice, scopeChecks, scopeFieldset } from "./scope-fields.js";
import { callerScopes } from "./state.js";

/** Step 1: logo (read as a data URL, previewed), name and description. */
export function generalStep({ onLogo }) {
  const logoInput = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp" });
  const logoPreview = h("img", { class: "logo-preview", alt: "Logo preview", hidden: true });
  // Accepted but not drawable (the rules check the type, size and magic number only): no broken icon.
  logoPreview.addEventListener("error", () => (logoPreview.hidden = true));
  const label = h("input", { type: "text", autofocus: true, maxlength: 200 });
  const desc = h("textarea", { rows: 3 });
  const f = {
    logo: field("Logo (PNG, JPEG or WebP, up to 32 KiB)", logoInput, { name: "logo" }),
    label: field("Name", label, { name: "label", hint: "1–64 characters, shown in lists and notifications." }),
    description: field("Description (optional)", desc, { name: "description" }),
  };
  const step = { logo: null, label, desc, f };
  logoInput.addEventListener("change", async () => {
    const file = logoInput.files?.[0];
    step.logo = file ? await readDataUrl(file) : null;
    if (step.logo) logoPreview.src = step.logo;
    onLogo();
    // Shown only for a logo the rules accept (onLogo has just checked it).
    logoPreview.hidden = !step.logo || f.logo.classList.contains("invalid");
  });
  step.el = h("section", { "aria-label": "General" }, f.logo, logoPreview, f.label, f.description);
  return step;
}

/** Step 2: kind, owner (admins), role, scopes, access to keyward, networks and expiry. */
export function accessStep({ members, admin, org, me }) {
  const kindSel = h(
    "select",
    {},
    h("option", { value: "personal" }, "Personal — belongs to one member"),
    admin ? h("option", { value: "org" }, "Org — belongs to the organisation") : null,
  );
  const ownerSel = h(
    "select",
    {},
    members
      .filter((m) => m.status === "active")
      .map((m) => h("option", { value: m.id, selected: m.id === me.member?.id }, `${m.name} <${m.email}> (${m.role})`)),
  );
  const roleSel = h(
    "select",
    {},
    h("option", { value: "developer" }, "Developer"),
    h("option", { value: "admin", disabled: !admin }, "Admin"),
  );
  const scopes = scopeChecks(org.modules, [], "new");
  const keyward = keywardChoice({ modules: org.modules, callerScopes: callerScopes(), name: "new-keyward" });
  const expirySel = h(
    "select",
    {},
    [7, 30, 90, 180, 365]
      .filter((d) => d <= org.policy.max_ttl_days)
      .map((d) => h("option", { value: String(d), selected: d === org.policy.default_ttl_days }, `${d} days`)),
    h("option", { value: "custom" }, "Custom…"),
    org.policy.allow_non_expiring_org_tokens ? h("option", { value: "never" }, "Never (org tokens only)") : null,
  );
  const customDays = h("input", {
    type: "number",
    min: 1,
    max: org.policy.max_ttl_days,
    value: org.policy.default_ttl_days,
    hidden: true,
    "aria-label": "Days until expiry",
  });
  const networks = networksField();
  const f = {
    kind: field("Kind", kindSel, { name: "kind" }),
    owner_member_id: field("Owner", ownerSel, { name: "owner_member_id" }),
    role: field("Role", roleSel, { name: "role", hint: "A token never has more power than its owner." }),
    expires_in_days: field("Expires", expirySel, { name: "expires_in_days" }),
  };
  f.expires_in_days.append(customDays);
  const neverErr = h(
    "div",
    { class: "field", dataset: { field: "never_expires" } },
    h("p", { class: "field-error", "aria-live": "polite" }),
  );
  // "Never" is an option of the Expires select: an error about it marks that select
  neverErr.setError = errorSlot(neverErr, expirySel);
  if (!admin) f.owner_member_id.hidden = true;
  kindSel.addEventListener("change", () => {
    f.owner_member_id.hidden = !admin || kindSel.value !== "personal";
  });
  expirySel.addEventListener("change", () => (customDays.hidden = expirySel.value !== "custom"));
  const el = h(
    "section",
    { "aria-label": "Access" },
    f.kind,
    f.owner_member_id,
    f.role,
    scopeFieldset(scopes),
    keyward.el,
    networks.el,
    f.expires_in_days,
    neverErr,
  );
  return { el, f, admin, kindSel, ownerSel, roleSel, scopes, keyward, expirySel, customDays, networks };
}

/** The POST /v1/tokens body of the steps (`metering`: the Limits & metadata step's share). */
export function tokenBody(general, access, metering = {}) {
  const a = access;
  const body = {
    label: general.label.value,
    role: a.roleSel.value,
    scopes: [...a.scopes.value(), a.keyward.value()].filter(Boolean),
    kind: a.kindSel.value,
    allowed_cidrs: a.networks.value(),
  };
  if (general.desc.value) body.description = general.desc.value;
  if (general.logo) body.logo = general.logo;
  if (a.kindSel.value === "personal" && a.admin && a.ownerSel.value) body.owner_member_id = a.ownerSel.value;
  if (a.expirySel.value === "never") body.never_expires = true;
  else body.expires_in_days = Number(a.expirySel.value === "custom" ? a.customDays.value : a.expirySel.value);
  return { ...body, ...metering };
}

/** Step 3: what will be created, in words ([term, description] pairs). */
export function overviewRows(b, { logo, keyward, members, me }) {
  const owner = members.find((m) => m.id === b.owner_member_id);
  return [
    ["Name", b.label.trim()],
    ["Description", b.description || "—"],
    ["Logo", logo ? "Yes" : "None"],
    ["Kind", b.kind],
    ["Owner", b.kind === "org" ? "The organisation" : owner ? owner.name : me.member?.name],
    ["Role", b.role],
    ["Scopes", b.scopes.filter((s) => !isKeywardScope(s)).join(", ") || "none"],
    ["Access to keyward", accessWords(keyward.value())],
    ["Networks", networksWords(b.allowed_cidrs)],
    ["Expires", b.never_expires ? "Never" : `in ${b.expires_in_days} days`],
    ...meteringRows(b, { creating: true, unset: { ratelimit: "No limit", credits: "No credits" } }),
  ];
}
