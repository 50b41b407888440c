// The one-time secret panel: a new token secret (or webhook signing secret) shown once, masked,
// with Show/Hide and Copy.
import { h, toast } from "./lib.js";

/**
 * The one-time secret panel: masked by default, Show/Hide, Copy, and a plain warning. The secret
 * lives only in this panel's input; `destroy()` wipes it. `what` names the secret in the panel's
 * words ("token" by default, "signing secret" for the webhook), `why` says why it is not shown
 * again and `shownAs` where its masked form appears.
 */
export function secretPanel(
  secret,
  masked,
  { what = "token", why = "keyward stores only its hash", shownAs = "In lists it will appear as " } = {},
) {
  const name = what === "token" ? "New token secret" : `New ${what}`;
  const input = h("input", {
    type: "password",
    readonly: true,
    class: "secret",
    value: secret,
    "aria-label": name,
    spellcheck: "false",
    autocomplete: "off",
  });
  const toggle = h("button", { type: "button", "aria-pressed": "false" }, "Show");
  toggle.addEventListener("click", () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    toggle.textContent = show ? "Hide" : "Show";
    toggle.setAttribute("aria-pressed", String(show));
  });
  const Word = what.charAt(0).toUpperCase() + what.slice(1);
  const copy = h("button", { type: "button", class: "primary" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      toast(`${Word} copied to the clipboard.`);
    } catch {
      input.type = "text";
      input.select();
      toast(`Copy was blocked: the ${what} is selected, press Ctrl+C.`, "warn");
    }
  });
  const panel = h(
    "div",
    { class: "secret-panel" },
    h(
      "p",
      { class: "warning", role: "alert" },
      h("strong", {}, `Copy this ${what} now. `),
      `It is shown only this once and cannot be seen again — ${why}.`,
    ),
    h("div", { class: "secret-row" }, input, toggle, copy),
    h("p", { class: "muted" }, shownAs, h("code", {}, masked), "."),
  );
  panel.destroy = () => {
    input.value = "";
    panel.remove();
  };
  return panel;
}
