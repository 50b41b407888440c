// The "Webhook" section (admins only): where keyward POSTs each event, signed (Standard Webhooks),
// which events, the signing secret (shown once, when set and when rotated), a test event, and the
// delivery log, refreshed by itself while a delivery is pending; below it, the audit sink
// (audit-sink.js). A keyward:read session sees the same without the forms and buttons.
import { validateWebhookForm, webhookEventKinds } from "./pkg/keyward.js";
import { READ_ONLY_MESSAGE, kindWords } from "./access.js";
import { api, errorSlot, field, fill, h, keepFocus, showErrors, showServerErrors, toast } from "./lib.js";
import { when } from "./time.js";
import { emptyState } from "./states.js";
import { removeDialog, rotateDialog, secretDialog } from "./webhook-dialogs.js";
import { paintLog } from "./webhook-log.js";
import { sinkSection } from "./audit-sink.js";

export const ALL = "*";
/** The kinds a webhook may ask for, from the server's own list (the browser module, once loaded). */
export const eventKinds = () => webhookEventKinds();

/**
 * The server's own checks (the browser module's validateWebhookForm), as `wrangler dev` applies
 * them: whether this deployment also refuses http:// and private hosts is the server's to say.
 */
export function webhookErrors(form) {
  return validateWebhookForm(form, true).errors;
}

/**
 * Paint the section into `main`. `claim()` claims the screen (app.js's claimView), `manage` says
 * whether changes are allowed, `onError(err)` reports a failed change, `onFailure(err)` a failed load.
 */
export async function renderWebhook(ctx) {
  const { main, claim, manage, onFailure } = ctx;
  const isCurrent = claim();
  const again = () => renderWebhook(ctx).catch(onFailure);
  const [{ webhook }, { deliveries }, sink] = await Promise.all([
    api("GET", "/v1/org/webhook"),
    api("GET", "/v1/org/webhook/deliveries"),
    sinkSection({ ...ctx, isCurrent, again }),
  ]);
  if (!isCurrent()) return;
  const log = h("section", { class: "panel deliveries", "aria-labelledby": "deliveries-h" });
  keepFocus(main, () =>
    fill(
      main,
      h("div", { class: "view-head" }, h("h1", {}, "Webhook")),
      h(
        "p",
        { class: "hint intro" },
        "keyward POSTs each event to your endpoint as JSON, signed with the signing secret ",
        "(Standard Webhooks: the webhook-id, webhook-timestamp and webhook-signature headers), and retries for up to 24 hours until it answers 2xx.",
      ),
      manage ? null : h("p", { class: "notice" }, READ_ONLY_MESSAGE),
      webhook ? summary(webhook, { ...ctx, again }) : emptyState("No webhook is set: keyward sends no events."),
      manage ? endpointForm(webhook, { ...ctx, again }) : null,
      log,
      sink,
    ),
  );
  paintLog(log, deliveries, { isCurrent, onFailure, empty: emptyLogWords(webhook, manage) });
}

/** What an empty delivery log says, naming only what is on screen. */
function emptyLogWords(webhook, manage) {
  if (!webhook) {
    return manage
      ? "Nothing sent yet. Set a webhook above: keyward then sends it each event, and the deliveries show here."
      : "Nothing sent yet: no webhook is set.";
  }
  return manage
    ? "Nothing sent yet. Deliveries show here as keyward sends them; Send test, above, sends one now."
    : "Nothing sent yet. Deliveries show here as keyward sends them.";
}

function summary(w, { manage, onError, again }) {
  const all = w.events.includes(ALL);
  const facts = [
    ["Endpoint", h("code", { class: "wrap" }, w.url)],
    [
      "Events",
      all
        ? "All events, present and future"
        : h(
            "div",
            { class: "chips" },
            w.events.map((e) => h("span", { class: "chip", title: kindWords(e) }, e)),
          ),
    ],
    ["Signing secret", h("code", {}, w.masked_secret)],
    ["Set", when(w.created_at)],
    ["Secret rotated", when(w.rotated_at, "Never")],
    w.previous_valid_until ? ["Old secret also signs until", when(w.previous_valid_until)] : null,
  ].filter(Boolean);
  const act = (text, fn, cls = "") => h("button", { type: "button", class: cls, onclick: fn }, text);
  const sendTest = async () => {
    try {
      await api("POST", "/v1/org/webhook/test");
      toast("Test event sent: it is delivered within a few seconds (see the delivery log).");
      again();
    } catch (e) {
      onError(e);
    }
  };
  return h(
    "section",
    { class: "panel", "aria-labelledby": "webhook-h" },
    h("h2", { id: "webhook-h" }, "Endpoint"),
    h(
      "dl",
      { class: "overview" },
      facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
    manage
      ? h(
          "div",
          { class: "actions" },
          act("Send test", sendTest),
          act("Rotate secret", () => rotateDialog({ onError, again })),
          act("Remove webhook", () => removeDialog({ onError, again }), "danger"),
        )
      : null,
  );
}

function endpointForm(w, { onError, again }) {
  const url = h("input", {
    type: "url",
    value: w?.url ?? "",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "https://hooks.example.com/keyward",
  });
  const urlField = field("Endpoint URL", url, {
    name: "url",
    hint: "https:// to a public host. keyward sends a POST for each event.",
  });
  const current = w?.events ?? [ALL];
  const box = (value, id) => h("input", { type: "checkbox", value, id, checked: current.includes(value) });
  const all = box(ALL, "wh-event-all");
  const kinds = eventKinds().map((k) => box(k, `wh-event-${k.replace(".", "-")}`));
  const err = h("p", { class: "field-error", id: "wh-events-err", "aria-live": "polite" });
  const events = h(
    "fieldset",
    { class: "field events", dataset: { field: "events" }, "aria-describedby": "wh-events-err" },
    h("legend", {}, "Events to send"),
    h(
      "label",
      { class: "check", for: all.id },
      all,
      h("span", {}, "All events, present and future ", h("code", { class: "muted small" }, ALL)),
    ),
    h(
      "div",
      { class: "checks event-kinds" },
      kinds.map((b) => h("label", { class: "check", for: b.id, title: kindWords(b.value) }, b, h("span", {}, b.value))),
    ),
    err,
  );
  events.setError = errorSlot(events, [all, ...kinds]);
  const sync = () => kinds.forEach((b) => (b.disabled = all.checked));
  sync();
  all.addEventListener("change", sync);
  const body = () => ({
    url: url.value.trim(),
    events: all.checked ? [ALL] : kinds.filter((b) => b.checked).map((b) => b.value),
  });
  const submit = h("button", { type: "submit", class: "primary" }, w ? "Save webhook" : "Set webhook");
  const form = h(
    "form",
    { class: "panel", novalidate: true, "aria-labelledby": "endpoint-h" },
    h("h2", { id: "endpoint-h" }, w ? "Change the endpoint or its events" : "Set a webhook"),
    urlField,
    events,
    h("div", { class: "actions" }, submit),
  );
  let tried = false;
  form.addEventListener("input", () => tried && showErrors(form, webhookErrors(body())));
  form.addEventListener("change", () => tried && showErrors(form, webhookErrors(body())));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    tried = true;
    const errors = webhookErrors(body());
    showErrors(form, errors);
    if (Object.keys(errors).length) return (errors.url ? url : all).focus();
    submit.disabled = true;
    try {
      const set = await api("PUT", "/v1/org/webhook", body());
      if (set.secret) return secretDialog("Webhook signing secret", set.secret, set.webhook.masked_secret, again);
      toast("Webhook saved: the signing secret is unchanged.");
      again();
    } catch (failure) {
      submit.disabled = false;
      if (failure.code === "VALIDATION_FAILED") showServerErrors(form, failure.errors);
      else onError(failure);
    }
  });
  return form;
}
