//! Request building: one function per endpoint, each returning an [`HttpRequest`] to send.
//!
//! Paths are joined to the configured base URL without double or missing slashes, path segments
//! are percent-encoded (and job ids checked first), and each endpoint gets its own auth: an API key,
//! a JWT (`POST /v1/api-keys`), or none (`GET /v1/pricing`).
//!
//! A client may have no API key: it is pointed at a server-side proxy that adds the key (a
//! browser page must never hold one), so its requests carry no `Authorization` header. The
//! service itself needs a key on every call but pricing, so a keyless call to it (`usvideoapi.com`
//! or a subdomain) is refused before it is sent, naming `api_key`; anywhere else, the server
//! decides (a proxy that adds no key gets its `401` back as an authentication error).

use crate::error::Error;
use crate::http::{Header, HttpRequest, Method};
use crate::json::Json;
use crate::model::{CreateVideoRequest, ListParams};
use crate::secret::{ApiKey, Jwt};
use crate::validate::{self, Issue, IssueCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

/// The service's base URL.
pub const DEFAULT_BASE_URL: &str = "https://usvideoapi.com/v1";

/// The longest API key name the SDK sends, in characters (*assumption*: the service documents none).
pub const MAX_KEY_NAME: usize = 200;

/// Everything but unreserved characters is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The endpoints of the API. Retry rules differ per endpoint (see [`crate::retry`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Endpoint {
    /// `POST /v1/videos`
    CreateVideo,
    /// `GET /v1/videos/{id}`
    RetrieveVideo,
    /// `GET /v1/videos`
    ListVideos,
    /// `DELETE /v1/videos/{id}`
    DeleteVideo,
    /// `GET /v1/account`
    Account,
    /// `GET /v1/pricing`
    Pricing,
    /// `POST /v1/api-keys`
    CreateApiKey,
}

impl Endpoint {
    /// Whether its calls carry an API key: all but pricing (none) and key creation (a JWT).
    #[must_use]
    pub fn needs_api_key(self) -> bool {
        !matches!(self, Endpoint::Pricing | Endpoint::CreateApiKey)
    }

    /// Whether its requests count against the key's rate limit: a driver waits for a slot of the
    /// key's limiter and shows it the answer (a `429`'s pause) only for these. Those that carry
    /// the key do; pricing (no auth) and key creation (a JWT) are no key's (*assumption*: the
    /// service counts "60 requests per minute per key"), so a key's spent budget or `429` pause
    /// never holds them, and they spend none of it.
    #[must_use]
    pub fn counts_against_key(self) -> bool {
        self.needs_api_key()
    }

    /// The wire form (`create_video`, `retrieve_video`, …), as serde writes it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::CreateVideo => "create_video",
            Endpoint::RetrieveVideo => "retrieve_video",
            Endpoint::ListVideos => "list_videos",
            Endpoint::DeleteVideo => "delete_video",
            Endpoint::Account => "account",
            Endpoint::Pricing => "pricing",
            Endpoint::CreateApiKey => "create_api_key",
        }
    }
}

/// Where and as whom requests go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientConfig {
    base_url: String,
    user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig { base_url: DEFAULT_BASE_URL.to_owned(), user_agent: default_user_agent() }
    }
}

fn default_user_agent() -> String {
    format!("usvideo-core/{}", env!("CARGO_PKG_VERSION"))
}

impl ClientConfig {
    /// A config for `base_url` (a proxy, the emulator, staging), trailing slashes removed.
    ///
    /// # Errors
    /// An issue on `base_url` when it is not an absolute `http`/`https` URL, holds a query or
    /// fragment, or holds credentials (`user:password@`): a URL is shown in errors and logs, where
    /// a password must never be, and `fetch` refuses such URLs anyway. No message repeats the URL.
    pub fn new(base_url: &str) -> Result<Self, Issue> {
        let trimmed = base_url.trim_end_matches('/');
        if !validate::is_http_url(trimmed) || trimmed.contains(['?', '#']) {
            return Err(Issue::new("base_url", IssueCode::InvalidUrl, "base_url must be an absolute http or https URL without query or fragment"));
        }
        let authority = authority(trimmed);
        if authority.contains('@') {
            return Err(Issue::new("base_url", IssueCode::InvalidUrl, "base_url must not hold a user name or password: the URL shows in errors and logs"));
        }
        // The host the SDK reads (`is_the_service`: whether a keyless call may go) must be the one
        // `fetch` and HTTP clients connect to: a `\` ends the host for them
        // (`https://evil.com\.usvideoapi.com` goes to evil.com), and they rewrite `%` escapes and
        // non-ASCII letters (`usvideoapi。com`). Refused, so that there is one reading.
        if !authority.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b)) {
            return Err(Issue::new(
                "base_url",
                IssueCode::InvalidUrl,
                "base_url's host must be plain ASCII: letters, digits, `-`, `.`, a port (an international name in punycode), without `\\` or `%` escapes",
            ));
        }
        Ok(ClientConfig { base_url: trimmed.to_owned(), user_agent: default_user_agent() })
    }

    /// Sets the `User-Agent` (each binding names itself: `usvideo-python/0.1.0`).
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        let ua: String = user_agent.into();
        if !ua.chars().any(char::is_control) {
            self.user_agent = ua;
        }
        self
    }

    /// The base URL, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The `User-Agent` sent.
    #[must_use]
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// Whether the base URL is the service's own host (`usvideoapi.com` or a subdomain, any port),
    /// which needs an API key on every call but pricing.
    #[must_use]
    pub fn is_the_service(&self) -> bool {
        let authority = authority(&self.base_url);
        // `ClientConfig::new` refused `user@`; an IPv6 literal (`[::1]:8080`) is never the service.
        let host = authority.split(':').next().unwrap_or("").trim_end_matches('.').to_ascii_lowercase();
        host == "usvideoapi.com" || host.ends_with(".usvideoapi.com")
    }

    /// Checks that a call needing an API key can go without one (`key` is `None`): only to a
    /// server that is not the service (a proxy that adds the key). The machines check this when
    /// they start, so a keyless wait fails at once rather than at its first poll.
    ///
    /// # Errors
    /// A validation error on `api_key` (`required`) for a keyless call to the service.
    pub fn check_key(&self, key: Option<&ApiKey>) -> Result<(), Error> {
        self.key_auth(key).map(|_| ())
    }

    fn key_auth<'k>(&self, key: Option<&'k ApiKey>) -> Result<Option<&'k str>, Error> {
        match key {
            Some(k) => Ok(Some(k.expose())),
            None if self.is_the_service() => Err(Error::validation(vec![Issue::new(
                "api_key",
                IssueCode::Required,
                "the service needs an API key for this call: give the client one where that is safe (a server; USVIDEO_API_KEY), or point its base URL at a server-side proxy that adds it",
            )])),
            None => Ok(None),
        }
    }

    /// `base` + `/` + `path` with exactly one slash between.
    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    fn request(&self, method: Method, path: &str, auth: Option<&str>, body: Option<Vec<u8>>) -> HttpRequest {
        let mut headers = vec![Header::new("Accept", "application/json"), Header::new("User-Agent", self.user_agent.clone())];
        if let Some(token) = auth {
            headers.push(Header::new("Authorization", format!("Bearer {token}")));
        }
        if body.is_some() {
            headers.push(Header::new("Content-Type", "application/json"));
        }
        HttpRequest { method, url: self.url(path), headers, body }
    }

    /// `POST /v1/videos`, validated, with its `Idempotency-Key`.
    ///
    /// # Errors
    /// A validation error listing every violated rule, or on `api_key` ([`ClientConfig::check_key`]).
    pub fn create_video(&self, key: Option<&ApiKey>, req: &CreateVideoRequest, idempotency_key: &IdempotencyKey) -> Result<HttpRequest, Error> {
        let auth = self.key_auth(key)?;
        validate::validate_create(req).map_err(Error::validation)?;
        let body = req.to_json().to_string().into_bytes();
        let mut r = self.request(Method::Post, "videos", auth, Some(body));
        r.headers.push(Header::new("Idempotency-Key", idempotency_key.as_str()));
        Ok(r)
    }

    /// `GET /v1/videos/{id}`.
    ///
    /// # Errors
    /// A validation error on `id` (empty, or characters that could leave the path), or on
    /// `api_key` ([`ClientConfig::check_key`]).
    pub fn retrieve_video(&self, key: Option<&ApiKey>, id: &str) -> Result<HttpRequest, Error> {
        Ok(self.request(Method::Get, &job_path(id)?, self.key_auth(key)?, None))
    }

    /// `DELETE /v1/videos/{id}`: cancels a pending job or deletes a finished one's record.
    ///
    /// # Errors
    /// A validation error on `id` or `api_key` ([`ClientConfig::check_key`]).
    pub fn delete_video(&self, key: Option<&ApiKey>, id: &str) -> Result<HttpRequest, Error> {
        Ok(self.request(Method::Delete, &job_path(id)?, self.key_auth(key)?, None))
    }

    /// `GET /v1/videos?limit=&offset=`.
    ///
    /// # Errors
    /// A validation error on `limit` (outside 1 to 100) or `api_key` ([`ClientConfig::check_key`]).
    pub fn list_videos(&self, key: Option<&ApiKey>, params: &ListParams) -> Result<HttpRequest, Error> {
        let auth = self.key_auth(key)?;
        validate::validate_list_params(params).map_err(|i| Error::validation(vec![i]))?;
        let mut path = String::from("videos");
        let mut sep = '?';
        for (name, value) in [("limit=", params.limit.map(u64::from)), ("offset=", params.offset)] {
            if let Some(v) = value {
                path.push(sep);
                path.push_str(name);
                path.push_str(&v.to_string());
                sep = '&';
            }
        }
        Ok(self.request(Method::Get, &path, auth, None))
    }

    /// `GET /v1/account`.
    ///
    /// # Errors
    /// A validation error on `api_key` (see [`ClientConfig::check_key`]).
    pub fn retrieve_account(&self, key: Option<&ApiKey>) -> Result<HttpRequest, Error> {
        Ok(self.request(Method::Get, "account", self.key_auth(key)?, None))
    }

    /// `GET /v1/pricing`, which needs no auth.
    #[must_use]
    pub fn retrieve_pricing(&self) -> HttpRequest {
        self.request(Method::Get, "pricing", None, None)
    }

    /// `POST /v1/api-keys`, authenticated with a JWT (an API key is refused there).
    ///
    /// # Errors
    /// A validation error on `name` (control characters or over 200 characters).
    pub fn create_api_key(&self, jwt: &Jwt, name: Option<&str>) -> Result<HttpRequest, Error> {
        if let Some(n) = name {
            let length = n.chars().count();
            if length > MAX_KEY_NAME {
                // The service's own limit is not documented (*assumption*: 200 is the SDK's).
                return Err(Error::validation(vec![Issue::new("name", IssueCode::OutOfRange, format!("name must be at most {MAX_KEY_NAME} characters (got {length})"))]));
            }
            if n.chars().any(char::is_control) {
                return Err(Error::validation(vec![Issue::new("name", IssueCode::InvalidCharacters, "name must not hold control characters")]));
            }
        }
        let body = Json::Object(name.map(|n| ("name".into(), Json::String(n.into()))).into_iter().collect());
        Ok(self.request(Method::Post, "api-keys", Some(jwt.expose()), Some(body.to_string().into_bytes())))
    }
}

/// The authority of an absolute URL (`host:port`, what lies between `//` and the next `/`): one
/// reading for `ClientConfig::new`'s checks and `is_the_service`.
fn authority(url: &str) -> &str {
    url.split('/').nth(2).unwrap_or("")
}

fn job_path(id: &str) -> Result<String, Error> {
    validate::validate_job_id(id).map_err(|i| Error::validation(vec![i]))?;
    Ok(format!("videos/{}", utf8_percent_encode(id, SEGMENT)))
}

/// The `Idempotency-Key` of one logical create, reused on every attempt of it.
///
/// Minted from random bytes the caller supplies (the core owns no RNG), once per logical call and
/// outside any retry loop, as Stripe does: a retried create with the same key is answered with the
/// first job instead of charging twice.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// `usv-` and the hex of up to 32 bytes.
    ///
    /// # Errors
    /// An issue on `idempotency_key` with fewer than 16 bytes of entropy.
    pub fn from_entropy(bytes: &[u8]) -> Result<Self, Issue> {
        if bytes.len() < 16 {
            return Err(Issue::new("idempotency_key", IssueCode::OutOfRange, "an idempotency key needs at least 16 random bytes"));
        }
        let hex: String = bytes.iter().take(32).map(|b| format!("{b:02x}")).collect();
        Ok(IdempotencyKey(format!("usv-{hex}")))
    }

    /// A key given by the caller (for example, to tie a create to a record of their own).
    ///
    /// # Errors
    /// An issue when it is empty, longer than 255 characters, or not visible ASCII.
    pub fn from_string(key: &str) -> Result<Self, Issue> {
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Issue::new("idempotency_key", IssueCode::InvalidCharacters, "an idempotency key is 1 to 255 visible ASCII characters"));
        }
        Ok(IdempotencyKey(key.to_owned()))
    }

    /// The header value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_without_double_slashes() {
        let key = ApiKey::new("sd_test_key_123456").unwrap();
        for base in ["http://h/v1", "http://h/v1/", "http://h/v1//"] {
            let c = ClientConfig::new(base).unwrap();
            assert_eq!(c.retrieve_account(Some(&key)).unwrap().url, "http://h/v1/account");
        }
        assert!(ClientConfig::new("h/v1").is_err());
        assert!(ClientConfig::new("http://h/v1?x=1").is_err());
    }

    #[test]
    fn refuses_credentials_in_the_base_url_without_repeating_them() {
        for base in ["http://user:hunter2@h/v1", "https://hunter2@h", "HTTPS://u:hunter2@h:8080/v1/"] {
            let issue = ClientConfig::new(base).unwrap_err();
            assert_eq!((issue.field.as_str(), issue.code), ("base_url", IssueCode::InvalidUrl));
            assert!(!issue.message.contains("hunter2"), "{}", issue.message);
        }
        // An `@` past the host is a path, not credentials.
        assert!(ClientConfig::new("http://h/v1/@team").is_ok());
    }

    /// A host that `fetch` would read otherwise than the SDK (where `\` ends it, `%` escapes and
    /// non-ASCII letters are rewritten) is refused; ports, IPv6 literals and `_` are fine.
    #[test]
    fn refuses_hosts_read_two_ways() {
        for base in ["https://evil.com\\.usvideoapi.com/v1", "https://usvideoapi%2Ecom/v1", "https://usvideoapi。com/v1", "https://ｕｓvideoapi.com/v1", "http://h\\/v1"] {
            let issue = ClientConfig::new(base).unwrap_err();
            assert_eq!((issue.field.as_str(), issue.code), ("base_url", IssueCode::InvalidUrl), "{base}");
        }
        for base in ["http://127.0.0.1:8080/v1", "http://[::1]:9/v1", "http://my_service:80/v1", "https://xn--bcher-kva.example/v1", "https://a-b.c.d/v1/%20x"] {
            assert!(ClientConfig::new(base).is_ok(), "{base}");
        }
    }

    #[test]
    fn refuses_ids_that_leave_the_path() {
        let key = ApiKey::new("sd_test_key_123456").unwrap();
        let c = ClientConfig::default();
        for id in ["", "a/b", "..", "a?b", "é", "a b", "a%2F"] {
            assert!(c.retrieve_video(Some(&key), id).is_err(), "{id}");
        }
        assert_eq!(c.retrieve_video(Some(&key), "job_1").unwrap().url, "https://usvideoapi.com/v1/videos/job_1");
    }

    #[test]
    fn auth_per_endpoint() {
        let key = ApiKey::new("sd_test_key_123456").unwrap();
        let jwt = Jwt::new("eyJa.eyJb.c").unwrap();
        let c = ClientConfig::default();
        assert_eq!(c.retrieve_pricing().header("authorization"), None);
        assert_eq!(c.create_api_key(&jwt, None).unwrap().header("authorization"), Some("Bearer eyJa.eyJb.c"));
        assert_eq!(c.retrieve_account(Some(&key)).unwrap().header("authorization"), Some("Bearer sd_test_key_123456"));
    }

    /// A keyless client sends no `Authorization` to a proxy, and is refused before sending by the
    /// service's own host (any subdomain, port or case), naming `api_key`.
    #[test]
    fn a_keyless_client_goes_to_a_proxy_but_not_to_the_service() {
        let idem = IdempotencyKey::from_string("k").unwrap();
        let req = CreateVideoRequest::text("lake");
        for base in ["http://127.0.0.1:8080/v1", "https://example.com/api/usvideo", "https://usvideoapi.com.example.net/v1", "http://[::1]:9/v1"] {
            let c = ClientConfig::new(base).unwrap();
            assert!(!c.is_the_service(), "{base}");
            for r in [c.retrieve_account(None), c.retrieve_video(None, "job_1"), c.delete_video(None, "job_1"), c.list_videos(None, &ListParams::default()), c.create_video(None, &req, &idem)] {
                assert_eq!(r.unwrap().header("authorization"), None, "{base}");
            }
        }
        for base in ["https://usvideoapi.com/v1", "https://API.UsVideoApi.com:443/v1/", "http://staging.usvideoapi.com./v1"] {
            let c = ClientConfig::new(base).unwrap();
            assert!(c.is_the_service(), "{base}");
            for r in [c.retrieve_account(None), c.retrieve_video(None, "job_1"), c.delete_video(None, "job_1"), c.list_videos(None, &ListParams::default()), c.create_video(None, &req, &idem)] {
                let err = r.unwrap_err();
                assert_eq!(err.issues.first().map(|i| (i.field.as_str(), i.code)), Some(("api_key", IssueCode::Required)), "{base}");
            }
            assert!(c.check_key(None).is_err());
            assert_eq!(c.retrieve_pricing().header("authorization"), None);
        }
    }
}
