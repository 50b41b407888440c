// The webhook's dialogs: the signing secret shown once, rotating it with a grace period, and
// removing the webhook. Each repaints the Webhook section (`again`) when it is done.
import { api, field, h, openDialog, showServerErrors, toast } from "./lib.js";
import { secretPanel } from "./secret.js";

const SECRET_WORDS = {
  what: "signing secret",
  why: "your endpoint needs it to check that deliveries come from keyward",
  shownAs: "keyward shows it as ",
};

/** The secret shown once, in a dialog like a new token's; the view repaints when it closes. */
export function secretDialog(title, secret, masked, again) {
  const { body, close } = openDialog(title, { onClose: again });
  const panel = secretPanel(secret, masked, SECRET_WORDS);
  body.append(
    panel,
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: () => close() }, "Done")),
  );
  panel.querySelector("button.primary")?.focus();
}

export function rotateDialog({ onError, again }) {
  const { body, close, focusFirst } = openDialog("Rotate the signing secret", { onClose: again });
  const grace = h(
    "select",
    { autofocus: true },
    h("option", { value: "0" }, "Stop the old secret now"),
    h("option", { value: "300" }, "Keep the old secret signing for 5 minutes"),
    h("option", { value: "3600" }, "Keep the old secret signing for 1 hour"),
    h("option", { value: "86400" }, "Keep the old secret signing for 24 hours"),
  );
  const f = field("Grace period for the old secret", grace, {
    name: "grace_seconds",
    hint: "During the grace each delivery carries two signatures, so your endpoint can switch without losing events.",
  });
  const form = h(
    "form",
    {},
    h("p", {}, "Rotation makes a new signing secret; the endpoint and its events stay."),
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
      const r = await api("POST", "/v1/org/webhook/rotate", { grace_seconds: Number(grace.value) });
      const panel = secretPanel(r.secret, r.webhook.masked_secret, SECRET_WORDS);
      form.replaceWith(
        h(
          "div",
          {},
          panel,
          h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "primary", onclick: () => close() }, "Done"),
          ),
        ),
      );
      panel.querySelector("button.primary")?.focus();
    } catch (err) {
      if (err.code === "VALIDATION_FAILED") showServerErrors(form, err.errors);
      else {
        close();
        onError(err);
      }
    }
  });
  body.append(form);
  focusFirst();
}

export function removeDialog({ onError, again }) {
  const { body, close, focusFirst } = openDialog("Remove the webhook?");
  const go = h("button", { type: "button", class: "danger", autofocus: true }, "Remove");
  go.addEventListener("click", async () => {
    try {
      await api("DELETE", "/v1/org/webhook");
      close();
      toast("Webhook removed: keyward sends no more events.");
    } catch (err) {
      close();
      onError(err);
    }
    again();
  });
  body.append(
    h(
      "p",
      {},
      "keyward stops sending events at once. The delivery log stays; a webhook set again gets a new signing secret.",
    ),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close() }, "Cancel"), go),
  );
  focusFirst();
}
