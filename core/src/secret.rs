//! Credentials whose `Debug` and `Display` never reveal them.
//!
//! Peers leaked keys through debug logs (openai-python#1196); here the only way to read the secret is
//! [`ApiKey::expose`], which the request builder calls when it writes the `Authorization` header.

use crate::validate::{Issue, IssueCode};
use std::fmt;

/// Show the prefix and the last four characters at most: `sd_…1a2b`.
fn redact(secret: &str, prefix: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < prefix.len() + 8 {
        return format!("{prefix}…");
    }
    let tail: String = chars.iter().skip(chars.len().saturating_sub(4)).collect();
    format!("{prefix}…{tail}")
}

/// Characters that would let a credential inject a header or hide in logs.
fn has_unsafe_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
}

/// An API key (`sd_…`). Constructed only through [`ApiKey::new`], which checks its format.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The prefix every API key starts with.
    pub const PREFIX: &'static str = "sd_";

    /// Checks and wraps a key.
    ///
    /// # Errors
    /// An [`Issue`] on field `api_key`: `required` (empty), `invalid_characters` (whitespace, control
    /// or non-ASCII characters: header injection), `invalid_prefix` (does not start with `sd_`).
    pub fn new(key: impl Into<String>) -> Result<Self, Issue> {
        let key = key.into();
        if key.is_empty() {
            return Err(Issue::new("api_key", IssueCode::Required, "an API key is required (argument or USVIDEO_API_KEY)"));
        }
        if has_unsafe_chars(&key) {
            return Err(Issue::new("api_key", IssueCode::InvalidCharacters, "the API key holds whitespace, control or non-ASCII characters"));
        }
        if !key.starts_with(Self::PREFIX) || key.len() == Self::PREFIX.len() {
            return Err(Issue::new("api_key", IssueCode::InvalidPrefix, "API keys start with `sd_`"));
        }
        Ok(ApiKey(key))
    }

    /// A key as a client takes it: `None` or `""` is none (a keyless client, behind a server-side
    /// proxy that adds the key; `""` overrides a default from the environment), anything else is
    /// checked by [`ApiKey::new`].
    ///
    /// # Errors
    /// As [`ApiKey::new`], for a key that is not empty.
    pub fn optional(key: Option<&str>) -> Result<Option<Self>, Issue> {
        key.filter(|k| !k.is_empty()).map(ApiKey::new).transpose()
    }

    /// The key itself, for the `Authorization` header. Never log what this returns.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The redacted form used by `Debug` and `Display`: `sd_…` and the last four characters.
    #[must_use]
    pub fn redacted(&self) -> String {
        redact(&self.0, Self::PREFIX)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.redacted())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A JSON Web Token, used only to create API keys. Three base64url parts joined by dots.
#[derive(Clone, PartialEq, Eq)]
pub struct Jwt(String);

impl Jwt {
    /// Checks and wraps a JWT.
    ///
    /// # Errors
    /// An [`Issue`] on field `jwt`: `required`, `invalid_characters`, or `invalid_format` (not three
    /// non-empty base64url parts).
    pub fn new(token: impl Into<String>) -> Result<Self, Issue> {
        let token = token.into();
        if token.is_empty() {
            return Err(Issue::new("jwt", IssueCode::Required, "a JWT is required to create API keys"));
        }
        if has_unsafe_chars(&token) {
            return Err(Issue::new("jwt", IssueCode::InvalidCharacters, "the JWT holds whitespace, control or non-ASCII characters"));
        }
        let parts: Vec<&str> = token.split('.').collect();
        let base64url = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=');
        if parts.len() != 3 || !parts.iter().all(base64url) {
            return Err(Issue::new("jwt", IssueCode::InvalidFormat, "a JWT is three base64url parts joined by dots"));
        }
        Ok(Jwt(token))
    }

    /// The token itself, for the `Authorization` header. Never log what this returns.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The redacted form used by `Debug` and `Display`.
    #[must_use]
    pub fn redacted(&self) -> String {
        redact(&self.0, "eyJ")
    }
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Jwt({})", self.redacted())
    }
}

impl fmt::Display for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replaces every API key (`sd_…`) and JWT-looking token (`eyJ….….…`) in free text with its
/// redacted form. Used on every message that comes from a server or a transport before it is
/// stored in an [`crate::Error`], since a proxy may echo the `Authorization` header back.
#[must_use]
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        // The first `sd_` or `eyJ`, in one pass: searching for each separately rescanned the whole
        // rest for the absent one at every token (quadratic on a body full of `sd_ `).
        let next = rest.as_bytes().windows(3).position(|w| w == b"sd_" || w == b"eyJ");
        let Some(start) = next else {
            out.push_str(rest);
            break;
        };
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        // A token runs to the first character that cannot be in one: keys may hold any visible
        // ASCII and JWTs `=` padding, so only whitespace, quotes and brackets (what surrounds a
        // token in a header, JSON or prose) end it. Redacting a trailing `,` too is harmless;
        // showing the rest of a key after its first `+` or `/` is not.
        let len = from
            .char_indices()
            .find(|&(_, c)| !c.is_ascii_graphic() || matches!(c, '"' | '\'' | '`' | '\\' | ',' | ';' | '(' | ')' | '<' | '>' | '[' | ']' | '{' | '}'))
            .map_or(from.len(), |(i, _)| i);
        let (token, after) = from.split_at(len);
        let prefix = if token.starts_with("sd_") { "sd_" } else { "eyJ" };
        if token.len() == prefix.len() && after.starts_with('…') {
            out.push_str(token); // already redacted (`sd_…cdef`): redacting it again would add a `…`
        } else {
            out.push_str(&redact(token, prefix));
        }
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_key() {
        let k = ApiKey::new("sd_live_0123456789abcdef").unwrap();
        for shown in [format!("{k:?}"), format!("{k}")] {
            assert!(!shown.contains("0123456789"), "{shown}");
            assert!(shown.contains("cdef"));
        }
    }

    #[test]
    fn an_optional_key_is_none_when_absent_or_empty_and_checked_otherwise() {
        assert_eq!(ApiKey::optional(None), Ok(None));
        assert_eq!(ApiKey::optional(Some("")), Ok(None));
        assert_eq!(ApiKey::optional(Some("sd_live_0123456789abcdef")).unwrap().map(|k| k.redacted()), Some("sd_…cdef".to_owned()));
        assert_eq!(ApiKey::optional(Some(" ")).unwrap_err().code, IssueCode::InvalidCharacters);
    }

    #[test]
    fn refuses_header_injection() {
        assert!(ApiKey::new("sd_abc\r\nX-Evil: 1").is_err());
        assert!(ApiKey::new("sd_abc def").is_err());
        assert!(ApiKey::new("pk_abc").is_err());
        assert!(Jwt::new("a.b").is_err());
        assert!(Jwt::new("a.b.c\n").is_err());
        assert!(Jwt::new("eyJh.eyJp.sig").is_ok());
    }

    #[test]
    fn redacts_free_text() {
        let t = redact_text("bad key sd_0123456789abcdefXYZW and jwt eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl end");
        assert!(!t.contains("0123456789"));
        assert!(!t.contains("c2lnbmF0"));
        assert!(t.contains("end"));
    }

    #[test]
    fn redacts_keys_and_tokens_with_any_visible_character() {
        let t = redact_text("you sent: Bearer sd_live+Secr3tPart/xyzABC==, and {\"jwt\":\"eyJhbGci.eyJzdWIi4In0=.SIGNATURESECRET==\"} end");
        assert!(!t.contains("Secr3t") && !t.contains("xyzAB") && !t.contains("SIGNATURE"), "{t}");
        assert!(t.starts_with("you sent: Bearer sd_") && t.contains("\"} end"), "{t}");
    }

    #[test]
    fn a_request_or_a_new_key_shown_with_debug_hides_the_credential() {
        use crate::request::ClientConfig;
        let config = ClientConfig::new("https://api.example/v1").unwrap();
        let key = ApiKey::new("sd_live_0123456789abcdef").unwrap();
        let jwt = Jwt::new("eyJhbGciOi.eyJzdWIiOiJ1MSJ9.SIGNATURESECRET").unwrap();
        let requests = [config.retrieve_account(Some(&key)).unwrap(), config.retrieve_video(Some(&key), "job_1").unwrap(), config.create_api_key(&jwt, Some("ci")).unwrap()];
        for r in &requests {
            let shown = format!("{r:?}");
            assert!(shown.to_ascii_lowercase().contains("authorization"), "{shown}");
            assert!(!shown.contains("0123456789") && !shown.contains("SIGNATURE") && !shown.contains("eyJzdWIi"), "{shown}");
        }
        let body = r#"{"id": "key_1", "name": "ci", "key": "sd_live_fedcba9876543210", "created_at": "2026-01-01T00:00:00Z"}"#;
        let created = crate::response::parse_created_api_key(&crate::http::HttpResponse::json(201, &body)).unwrap();
        let shown = format!("{created:?}");
        assert!(!shown.contains("fedcba98") && shown.contains("key_1"), "{shown}");
    }

    #[test]
    fn a_key_written_as_a_field_name_is_redacted_in_the_issue_too() {
        let loose = crate::json::parse(br#"{"prompt": "a lake", "mode": "text_to_video", "sd_live_0123456789abcdef": 1}"#).unwrap();
        let issues = crate::validate::create_request_from_json(&loose).unwrap_err();
        let e = crate::Error::validation(issues);
        let shown = format!("{e:?}");
        assert!(!shown.contains("0123456789"), "{shown}");
        assert_eq!(e.field.as_deref(), Some("sd_…cdef"), "{shown}");
        assert!(e.message.contains("`sd_…cdef`") && !shown.contains("……"), "redacted once: {shown}");
        assert_eq!(redact_text(&e.message), e.message, "redacting is idempotent");
        // A validator's own issues keep fields apart (two keys with the same last four characters).
        let two = crate::json::parse(br#"{"prompt": "a", "mode": "text_to_video", "sd_aaaaaaaa1234": 1, "sd_bbbbbbbb1234": 1}"#).unwrap();
        let issues = crate::validate::create_request_from_json(&two).unwrap_err();
        assert_eq!(issues.len(), 2);
        assert_ne!(issues[0].field, issues[1].field);
    }
}
