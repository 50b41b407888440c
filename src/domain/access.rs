//! Sign-in through Cloudflare Access: the JWT Access sends in `Cf-Access-Jwt-Assertion`, read and
//! checked here (everything but the RS256 signature, which the Worker checks with WebCrypto), the
//! team's signing keys (its JWKS), and the sign-in session the Worker then keeps.
//!
//! Pure: no clock (times are passed in), no I/O.

use base64::Engine as _;
use serde::Deserialize;

/// Seconds of clock difference allowed on `exp` and `nbf`.
pub const LEEWAY_SECONDS: i64 = 60;
/// A sign-in session ends after this long without a request: the admin page's own idle sign-out
/// (`www/idle.js`, `IDLE_MS`, 30 minutes).
pub const SESSION_IDLE_SECONDS: i64 = 30 * 60;
/// A sign-in session ends this long after it began, however busy.
pub const SESSION_MAX_SECONDS: i64 = 12 * 60 * 60;
/// A session's last use is written at most this often (its idle end moves with it).
pub const SESSION_TOUCH_SECONDS: i64 = 60;
/// The session cookie (`__Host-`: `Secure`, `Path=/`, no `Domain`, so no other host sets it).
pub const SESSION_COOKIE: &str = "__Host-keyward_session";
/// The request header the page sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "keyward-csrf";
/// Most orgs one email is looked up in at sign-in.
pub const MAX_ORGS_PER_EMAIL: u32 = 20;
/// Largest JWT read (Access's are about 1 KiB).
const MAX_JWT_BYTES: usize = 8 * 1024;

/// Why a JWT is refused. Never carries the token or a claim's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts of JSON, or too large.
    Malformed,
    /// Not `RS256`.
    Algorithm,
    /// `exp` passed (beyond the leeway).
    Expired,
    /// `nbf` not yet reached (beyond the leeway).
    NotYetValid,
    /// `aud` does not name this application.
    Audience,
    /// `iss` is not the team domain.
    Issuer,
    /// No usable `email` claim (a service token, say).
    NoEmail,
    /// No key of the team's with the JWT's `kid`.
    UnknownKey,
    /// The signature does not verify.
    Signature,
}

impl core::fmt::Display for JwtError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed",
            Self::Algorithm => "not RS256",
            Self::Expired => "expired",
            Self::NotYetValid => "not yet valid",
            Self::Audience => "wrong audience",
            Self::Issuer => "wrong issuer",
            Self::NoEmail => "no email",
            Self::UnknownKey => "unknown key",
            Self::Signature => "bad signature",
        })
    }
}

/// The JOSE header.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Header {
    /// Must be `RS256`.
    pub alg: String,
    /// Which of the team's keys signed it.
    #[serde(default)]
    pub kid: Option<String>,
}

/// `aud`: one string or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, aud: &str) -> bool {
        match self {
            Self::One(a) => a == aud,
            Self::Many(all) => all.iter().any(|a| a == aud),
        }
    }
}

/// The claims keyward reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    /// The Access application's audience tag(s).
    pub aud: Audience,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Not before, Unix seconds.
    #[serde(default)]
    pub nbf: Option<i64>,
    /// The team domain.
    pub iss: String,
    /// The person's email (absent for service tokens).
    #[serde(default)]
    pub email: Option<String>,
}

/// A JWT taken apart; nothing in it is checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwt<'a> {
    /// The header.
    pub header: Header,
    /// The claims.
    pub claims: Claims,
    /// `<header>.<payload>`, the bytes signed.
    pub signed: &'a str,
    /// The signature's bytes.
    pub signature: Vec<u8>,
}

/// Decode unpadded base64url (JWT and JWK fields).
#[must_use]
pub fn base64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Take a compact JWS apart: three base64url parts, a JSON header and JSON claims.
///
/// # Errors
/// [`JwtError::Malformed`] for anything else; [`JwtError::Algorithm`] unless `alg` is `RS256`
/// (never `none`, never an HMAC that a public key could be misused as the secret of).
pub fn split(jwt: &str) -> Result<Jwt<'_>, JwtError> {
    if jwt.len() > MAX_JWT_BYTES {
        return Err(JwtError::Malformed);
    }
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Malformed);
    };
    let header: Header =
        serde_json::from_slice(&base64url(h).ok_or(JwtError::Malformed)?).map_err(|_| JwtError::Malformed)?;
    if header.alg != "RS256" {
        return Err(JwtError::Algorithm);
    }
    let claims: Claims =
        serde_json::from_slice(&base64url(p).ok_or(JwtError::Malformed)?).map_err(|_| JwtError::Malformed)?;
    let signature = base64url(sig).filter(|s| !s.is_empty()).ok_or(JwtError::Malformed)?;
    let signed = jwt.get(..h.len() + 1 + p.len()).ok_or(JwtError::Malformed)?;
    Ok(Jwt { header, claims, signed, signature })
}

/// Check the claims at `now` (Unix seconds) for application `aud` of team `issuer`; answers the
/// email, lowercased.
///
/// # Errors
/// The first claim that fails, in the order expiry, not-before, audience, issuer, email.
pub fn check(claims: &Claims, aud: &str, issuer: &str, now: i64) -> Result<String, JwtError> {
    if claims.exp.saturating_add(LEEWAY_SECONDS) <= now {
        return Err(JwtError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf.saturating_sub(LEEWAY_SECONDS) > now) {
        return Err(JwtError::NotYetValid);
    }
    if aud.is_empty() || !claims.aud.contains(aud) {
        return Err(JwtError::Audience);
    }
    if claims.iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(JwtError::Issuer);
    }
    let email = claims.email.as_deref().map(str::trim).filter(|e| e.contains('@') && e.len() <= 254);
    email.map(str::to_ascii_lowercase).ok_or(JwtError::NoEmail)
}

/// One RSA public key of the team's JWKS, as WebCrypto imports it (`n`, `e` base64url).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Jwk {
    /// `RSA`.
    pub kty: String,
    /// The key id JWTs name.
    #[serde(default)]
    pub kid: Option<String>,
    /// The modulus, base64url.
    pub n: String,
    /// The exponent, base64url.
    pub e: String,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

/// The RSA keys of a JWKS document (`{"keys": [...]}`); other kinds of key are skipped.
///
/// # Errors
/// [`JwtError::Malformed`] when it is not a JWKS.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, JwtError> {
    let raw: RawJwks = serde_json::from_slice(body).map_err(|_| JwtError::Malformed)?;
    Ok(raw
        .keys
        .into_iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
        .filter(|k| k.kty == "RSA" && base64url(&k.n).is_some() && base64url(&k.e).is_some())
        .collect())
}

/// The key that signed a JWT naming `kid`: the one with that id; without a `kid`, the only key.
#[must_use]
pub fn key_for<'a>(keys: &'a [Jwk], kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
        None => match keys {
            [only] => Some(only),
            _ => None,
        },
    }
}

/// The team domain as configured (`https://<team>.cloudflareaccess.com`), without a trailing
/// slash; `http://` only where insecure URLs are allowed (local tests, never a deployment).
#[must_use]
pub fn team_domain(configured: &str, allow_insecure: bool) -> Option<String> {
    let t = configured.trim().trim_end_matches('/');
    let host = t.strip_prefix("https://").or_else(|| t.strip_prefix("http://").filter(|_| allow_insecure))?;
    let ok = !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']);
    ok.then(|| t.to_owned())
}

/// Where a team publishes its signing keys.
#[must_use]
pub fn certs_url(team: &str) -> String {
    format!("{team}/cdn-cgi/access/certs")
}

/// The session a cookie names: `<org id>.<session secret>`.
#[must_use]
pub fn parse_session_cookie(cookie_header: &str) -> Option<(&str, &str)> {
    let value = cookie_header
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, v)| v.trim())?;
    let (org, secret) = value.split_once('.')?;
    let ok = super::model::is_id("org_", org)
        && (32..=64).contains(&secret.len())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some((org, secret))
}

/// The `Set-Cookie` value of a session (`None`: clear it).
#[must_use]
pub fn session_cookie(value: Option<(&str, &str)>) -> String {
    match value {
        Some((org, secret)) => format!(
            "{SESSION_COOKIE}={org}.{secret}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={SESSION_MAX_SECONDS}"
        ),
        None => format!("{SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0"),
    }
}

/// The CSRF token of a session: derived from its secret, so it needs no storage, and only whoever
/// holds the (`HttpOnly`) cookie's secret can be told it (by `GET /v1/session`).
#[must_use]
pub fn csrf_token(session_secret: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let d = Sha256::digest(format!("keyward csrf\n{session_secret}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d)
}

/// Whether `presented` is the session's CSRF token, compared in constant time.
#[must_use]
pub fn csrf_matches(session_secret: &str, presented: Option<&str>) -> bool {
    use subtle::ConstantTimeEq as _;
    presented.is_some_and(|p| bool::from(csrf_token(session_secret).as_bytes().ct_eq(p.as_bytes())))
}

/// A session as the authority keeps it (under the SHA-256 of its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Session {
    /// The member signed in.
    pub member_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of its last use (written at most every [`SESSION_TOUCH_SECONDS`]).
    pub last_seen_at: i64,
}

impl Session {
    /// When it ends, idle or not (Unix seconds).
    #[must_use]
    pub fn ends_at(&self) -> i64 {
        (self.last_seen_at + SESSION_IDLE_SECONDS).min(self.created_at + SESSION_MAX_SECONDS)
    }

    /// Whether it still holds at `now`.
    #[must_use]
    pub fn live(&self, now: i64) -> bool {
        now < self.ends_at()
    }

    /// Whether a use at `now` should be written (so its idle end moves).
    #[must_use]
    pub fn needs_touch(&self, now: i64) -> bool {
        now - self.last_seen_at >= SESSION_TOUCH_SECONDS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn jwt(header: &str, claims: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(claims), b64("sig"))
    }

    const CLAIMS: &str = r#"{"aud":["app-aud"],"exp":2000,"nbf":1000,"iat":1000,"iss":"https://team.cloudflareaccess.com","email":"Ada@Example.com","sub":"x","type":"app"}"#;

    #[test]
    fn a_well_formed_rs256_jwt_is_taken_apart_and_its_claims_checked() {
        let t = jwt(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#, CLAIMS);
        let j = split(&t).unwrap();
        assert_eq!(j.header.kid.as_deref(), Some("k1"));
        assert_eq!(j.signature, b"sig");
        assert_eq!(j.signed, t.rsplit_once('.').unwrap().0);
        let team = "https://team.cloudflareaccess.com";
        assert_eq!(check(&j.claims, "app-aud", team, 1500), Ok("ada@example.com".into()));
        assert_eq!(
            check(&j.claims, "app-aud", "https://team.cloudflareaccess.com/", 1500),
            Ok("ada@example.com".into())
        );
        // leeway both ends
        assert!(check(&j.claims, "app-aud", team, 2000 + LEEWAY_SECONDS - 1).is_ok());
        assert_eq!(check(&j.claims, "app-aud", team, 2000 + LEEWAY_SECONDS), Err(JwtError::Expired));
        assert!(check(&j.claims, "app-aud", team, 1000 - LEEWAY_SECONDS).is_ok());
        assert_eq!(check(&j.claims, "app-aud", team, 1000 - LEEWAY_SECONDS - 1), Err(JwtError::NotYetValid));
        assert_eq!(check(&j.claims, "other", team, 1500), Err(JwtError::Audience));
        assert_eq!(check(&j.claims, "", team, 1500), Err(JwtError::Audience));
        assert_eq!(check(&j.claims, "app-aud", "https://evil.cloudflareaccess.com", 1500), Err(JwtError::Issuer));
    }

    #[test]
    fn a_single_audience_string_counts_and_no_email_is_refused() {
        let c = r#"{"aud":"app-aud","exp":2000,"iss":"https://t.example"}"#;
        let t = jwt(r#"{"alg":"RS256"}"#, c);
        let j = split(&t).unwrap();
        assert_eq!(check(&j.claims, "app-aud", "https://t.example", 1500), Err(JwtError::NoEmail));
    }

    #[test]
    fn anything_but_rs256_or_three_parts_of_json_is_refused() {
        assert_eq!(split(&jwt(r#"{"alg":"none"}"#, CLAIMS)).err(), Some(JwtError::Algorithm));
        assert_eq!(split(&jwt(r#"{"alg":"HS256"}"#, CLAIMS)).err(), Some(JwtError::Algorithm));
        assert_eq!(split("a.b").err(), Some(JwtError::Malformed));
        assert_eq!(split("a.b.c.d").err(), Some(JwtError::Malformed));
        assert_eq!(split(&jwt(r#"{"alg":"RS256"}"#, "not json")).err(), Some(JwtError::Malformed));
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"RS256"}"#), b64(CLAIMS));
        assert_eq!(split(&unsigned).err(), Some(JwtError::Malformed));
        assert_eq!(split(&"a".repeat(MAX_JWT_BYTES + 1)).err(), Some(JwtError::Malformed));
        assert_eq!(split("%%%.b.c").err(), Some(JwtError::Malformed));
    }

    #[test]
    fn jwks_keeps_rsa_keys_and_keys_are_chosen_by_kid() {
        let body = br#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB","alg":"RS256"},{"kty":"EC","kid":"b","crv":"P-256","x":"AA","y":"AA"},{"kty":"RSA","kid":"c","n":"AQAB","e":"AQAB"}],"public_cert":{}}"#;
        let keys = parse_jwks(body).unwrap();
        assert_eq!(keys.iter().map(|k| k.kid.as_deref()).collect::<Vec<_>>(), [Some("a"), Some("c")]);
        assert_eq!(key_for(&keys, Some("c")).and_then(|k| k.kid.as_deref()), Some("c"));
        assert_eq!(key_for(&keys, Some("b")), None);
        assert_eq!(key_for(&keys, None), None, "two keys and no kid: none");
        assert!(key_for(&keys[..1], None).is_some());
        assert_eq!(parse_jwks(b"[]"), Err(JwtError::Malformed));
    }

    #[test]
    fn the_team_domain_is_https_unless_insecure_urls_are_allowed() {
        let t = "https://team.cloudflareaccess.com/";
        assert_eq!(team_domain(t, false).as_deref(), Some("https://team.cloudflareaccess.com"));
        assert_eq!(team_domain("http://127.0.0.1:9999", false), None);
        assert_eq!(team_domain("http://127.0.0.1:9999", true).as_deref(), Some("http://127.0.0.1:9999"));
        assert_eq!(team_domain("https://a/b", false), None);
        assert_eq!(team_domain("", false), None);
        assert_eq!(certs_url("https://t.example"), "https://t.example/cdn-cgi/access/certs");
    }

    #[test]
    fn session_cookies_and_csrf_tokens() {
        let secret = "A".repeat(43);
        let set = session_cookie(Some(("org_abcdefghijklmnopqrst", &secret)));
        assert!(set.contains("HttpOnly; Secure; SameSite=Strict; Path=/"));
        let value = set.split(';').next().unwrap();
        assert_eq!(
            parse_session_cookie(&format!("x=1; {value}; y=2")),
            Some(("org_abcdefghijklmnopqrst", secret.as_str()))
        );
        assert_eq!(parse_session_cookie("__Host-keyward_session=org_x.short"), None);
        assert_eq!(parse_session_cookie("other=org_abcdefghijklmnopqrst.AAAA"), None);
        assert!(session_cookie(None).contains("Max-Age=0"));
        let csrf = csrf_token(&secret);
        assert!(csrf_matches(&secret, Some(&csrf)));
        assert!(!csrf_matches(&secret, Some("nope")));
        assert!(!csrf_matches(&secret, None));
        assert_ne!(csrf_token(&"B".repeat(43)), csrf);
    }

    #[test]
    fn a_session_ends_when_idle_or_too_old() {
        let s = Session { member_id: "mem_x".into(), created_at: 0, last_seen_at: 0 };
        assert!(s.live(SESSION_IDLE_SECONDS - 1));
        assert!(!s.live(SESSION_IDLE_SECONDS));
        let busy = Session { last_seen_at: SESSION_MAX_SECONDS - 10, ..s.clone() };
        assert!(!busy.live(SESSION_MAX_SECONDS));
        assert!(!s.needs_touch(SESSION_TOUCH_SECONDS - 1));
        assert!(s.needs_touch(SESSION_TOUCH_SECONDS));
    }
}
