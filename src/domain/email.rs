//! Emailing notifications (issue "Email the admins"): what one email says, and where its
//! delivery stands. Pure: the server sends what [`render`] makes through Cloudflare's Email
//! Service and reports back through [`EmailState::record`].
//!
//! An email carries the notification's subject and text (who made the change, what, the token's
//! kind, role, label, masked form, scopes and expiry), the time in RFC 3339 and in words, and a
//! link to the token in the admin page. Never a secret or a hash: the notification holds none.
//! Every piece of text in the HTML part is escaped.

use super::model::Notification;
pub use super::sending::{EmailState, SendState};
use super::Timestamp;

/// One email, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// The recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part (every piece of text escaped).
    pub html: String,
}

const WEEKDAYS: [&str; 7] = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `t` in words: `Thursday 26 November 2026, 19:20 UTC`.
#[must_use]
pub fn human_time(t: Timestamp) -> String {
    let rfc = t.to_rfc3339();
    let days = t.as_millis().div_euclid(86_400_000);
    let weekday = WEEKDAYS.get(usize::try_from(days.rem_euclid(7)).unwrap_or(0)).copied().unwrap_or("");
    // `YYYY-MM-DDTHH:MM:SSZ`: the parts are ASCII at fixed places.
    let (y, mo, d, hm) = (rfc.get(0..4), rfc.get(5..7), rfc.get(8..10), rfc.get(11..16));
    let month = mo.and_then(|m| m.parse::<usize>().ok()).and_then(|m| MONTHS.get(m.wrapping_sub(1))).copied();
    match (y, month, d.and_then(|d| d.parse::<u32>().ok()), hm) {
        (Some(y), Some(m), Some(d), Some(hm)) => format!("{weekday} {d} {m} {y}, {hm} UTC"),
        _ => rfc,
    }
}

/// Text for HTML: `& < > " '` escaped.
#[must_use]
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The link to `token_id` in the admin page at `public_url` (`None` without a public URL).
#[must_use]
pub fn token_link(public_url: &str, token_id: &str) -> Option<String> {
    let base = public_url.trim_end_matches('/');
    (base.starts_with("https://") || base.starts_with("http://")).then(|| format!("{base}/#/tokens/{token_id}"))
}

/// The email for notification `n`, linking to the admin page at `public_url`.
#[must_use]
pub fn render(n: &Notification, public_url: &str) -> Email {
    let when = format!("{} ({})", human_time(n.created_at), n.created_at.to_rfc3339());
    let link = n.token_id.as_deref().and_then(|t| token_link(public_url, t));
    let mut text = format!("{}\n\nWhen: {when}\n", n.body);
    if let Some(l) = &link {
        text.push_str(&format!("Open the token in keyward: {l}\n"));
    }
    text.push_str("\nYou get this email because you are an admin of this org in keyward, or the token is yours.\n");
    let paragraphs: String =
        n.body.lines().map(|l| format!("<p style=\"margin:0 0 8px\">{}</p>", escape_html(l))).collect();
    let button = link
        .as_deref()
        .map_or_else(String::new, |l| format!("<p><a href=\"{}\">Open the token in keyward</a></p>", escape_html(l)));
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;color:#1b1b1f\"><h1 style=\"font-size:18px\">{}</h1>{paragraphs}<p style=\"margin:0 0 8px\">When: {}</p>{button}<p style=\"color:#666;font-size:12px\">You get this email because you are an admin of this org in keyward, or the token is yours.</p></body></html>",
        escape_html(&n.subject),
        escape_html(&when),
    );
    Email { to: n.to.clone(), subject: n.subject.clone(), text, html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Action;

    fn note(body: &str) -> Notification {
        Notification {
            id: "ntf_1".into(),
            kind: Action::TokenCreated,
            to: "ada@acme.io".into(),
            subject: "[Acme] API token \"<ci>\" created".into(),
            body: body.into(),
            token_id: Some("tok_1".into()),
            created_by: "mem_1".into(),
            created_at: Timestamp::from_millis(1_795_000_000_000),
            masked: Some("kw_••••••••abcd".into()),
            email: None,
            urgent: false,
        }
    }

    #[test]
    fn times_in_words() {
        assert_eq!(human_time(Timestamp::from_millis(0)), "Thursday 1 January 1970, 00:00 UTC");
        assert_eq!(human_time(Timestamp::from_millis(1_795_000_000_000)), "Wednesday 18 November 2026, 11:06 UTC");
        assert_eq!(human_time(Timestamp::from_millis(951_827_696_789)), "Tuesday 29 February 2000, 12:34 UTC");
    }

    #[test]
    fn renders_text_and_escaped_html_with_a_link() {
        let e = render(
            &note("Ada <ada@acme.io> created the org token \"<script>\" (kw_••••••••abcd)."),
            "https://keyward.example/",
        );
        assert_eq!(e.to, "ada@acme.io");
        assert!(e.text.contains("When: Wednesday 18 November 2026, 11:06 UTC (2026-11-18T11:06:40Z)"));
        assert!(e.text.contains("https://keyward.example/#/tokens/tok_1"));
        assert!(e.text.contains("\"<script>\""), "the text part is plain text");
        assert!(!e.html.contains("<script>"));
        assert!(e.html.contains("&lt;script&gt;"));
        assert!(e.html.contains("&lt;ci&gt;"));
        assert!(e.html.contains("href=\"https://keyward.example/#/tokens/tok_1\""));
        assert!(e.html.contains("&lt;ada@acme.io&gt;"));
    }

    #[test]
    fn escapes_every_html_special_character() {
        assert_eq!(escape_html("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
        assert_eq!(escape_html("plain • text"), "plain • text");
    }

    #[test]
    fn no_link_without_a_public_url() {
        let e = render(&note("x"), "");
        assert!(!e.text.contains("Open the token"));
        assert!(!e.html.contains("href"));
        assert_eq!(token_link("javascript:alert(1)", "tok_1"), None);
    }
}
