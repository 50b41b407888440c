// Signing in (a token checked for format at once by the wasm module, then by GET /v1/me) and the
// first run: an organisation created with the operator secret, its first admin token shown once.
import { checkToken } from "./pkg/keyward.js";
import { NO_ACCESS_MESSAGE } from "./access.js";
import { accessPanel } from "./access-signin.js";
import { api, field, fill, h, session, showErrors, showServerErrors, toast } from "./lib.js";
import { secretPanel } from "./secret.js";
import { linkedTokenId } from "./deeplink.js";
import { claimView, main, page, restart, signedIn } from "./state.js";

export function renderSignIn(message, { orgs = null } = {}) {
  claimView();
  const tokenInput = h("input", {
    type: "password",
    name: "token",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    placeholder: "kw_…",
    autofocus: true,
  });
  const tokenField = field("API token", tokenInput, {
    name: "token",
    hint: "Kept in this tab only (sessionStorage) and sent as a Bearer token.",
  });
  const formatNote = h("p", { class: "hint", "aria-live": "polite" });
  tokenInput.addEventListener("input", () => {
    tokenField.setError(null);
    const c = checkToken(tokenInput.value.trim());
    formatNote.textContent = tokenInput.value
      ? c.ok
        ? `Well-formed token ${c.masked}`
        : "Not a keyward token yet (pattern or checksum)."
      : "";
  });
  const signIn = h(
    "form",
    { class: "panel", "aria-labelledby": "signin-h" },
    h("h1", { id: "signin-h" }, "Sign in"),
    message ? h("p", { class: "notice", role: "status" }, message) : null,
    tokenField,
    formatNote,
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, "Sign in")),
  );
  signIn.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = tokenInput.value.trim();
    if (!checkToken(token).ok) {
      formatNote.textContent = ""; // the field's error says it: one message, not two
      return tokenField.setError("This is not a keyward token (pattern or checksum).");
    }
    try {
      page.me = await api("GET", "/v1/me", undefined, token);
    } catch (err) {
      page.me = null;
      if (err.status === 403) return tokenField.setError(NO_ACCESS_MESSAGE);
      return tokenField.setError(
        err.status === 401
          ? "This token does not work here (unknown, revoked, disabled, expired, replaced by a rotation, or not allowed from this network)."
          : err.message,
      );
    }
    session.set(token);
    if (linkedTokenId() === null) location.hash = "#/tokens"; // a link to a token opens it after signing in
    signedIn();
  });
  const access = page.access
    ? accessPanel(
        async () => {
          try {
            page.me = await api("GET", "/v1/me", undefined, null);
          } catch (err) {
            page.me = null;
            return renderSignIn(err.message);
          }
          if (linkedTokenId() === null) location.hash = "#/tokens";
          signedIn();
        },
        { orgs },
      )
    : null;
  fill(main, h("div", { class: "signin" }, access, signIn, firstRunPanel()));
  if (!orgs) tokenInput.focus();
}

function firstRunPanel() {
  const op = h("input", { type: "password", autocomplete: "off", required: true });
  const name = h("input", { type: "text", required: true, maxlength: 100 });
  const modules = h("input", { type: "text", placeholder: "billing, users:read" });
  const email = h("input", { type: "email", required: true });
  const admin = h("input", { type: "text", required: true, maxlength: 100 });
  const fields = [
    field("Operator secret", op, { name: "operator", hint: "OPERATOR_SECRET of this deployment (.dev.vars locally)." }),
    field("Organisation name", name, { name: "name" }),
    field("Modules (scopes tokens may carry)", modules, {
      name: "modules",
      hint: "Comma-separated, e.g. billing, users:read",
    }),
    field("First admin's email", email, { name: "admin.email" }),
    field("First admin's name", admin, { name: "admin.name" }),
  ];
  const result = h("div");
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "firstrun-h" },
    h("h2", { id: "firstrun-h" }, "First run: create an organisation"),
    ...fields,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create organisation")),
    result,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showErrors(form, {});
    const body = {
      name: name.value,
      modules: modules.value
        .split(",")
        .map((m) => m.trim())
        .filter(Boolean),
      admin: { email: email.value, name: admin.value },
    };
    try {
      const created = await api("POST", "/v1/orgs", body, op.value);
      op.value = "";
      const panel = secretPanel(created.secret, created.token.masked);
      const use = h("button", { type: "button", class: "primary" }, "Sign in with this token");
      use.addEventListener("click", async () => {
        session.set(created.secret);
        panel.destroy();
        await restart();
        location.hash = "#/tokens";
      });
      result.replaceChildren(h("h3", {}, `${created.org.name} is ready. Your admin token:`), panel, use);
      panel.querySelector("button.primary")?.focus();
    } catch (err) {
      if (err.status === 401) fields[0].setError("The operator secret is not right.");
      else if (err.code === "VALIDATION_FAILED") showServerErrors(form, err.errors);
      else toast(err.message, "error");
    }
  });
  return form;
}
