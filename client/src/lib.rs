//! # usvideo
//!
//! The Rust client of the US Video API (AI video generation: submit a job, poll it, pay per second
//! of video). It is the sans-IO core [`usvideo_core`] driven by tokio and reqwest: every decision —
//! validation, retries, `Retry-After`, the poll schedule, deadlines, idempotency and
//! reconciliation — is the core's; this crate reads the clock, sleeps and does HTTP.
//!
//! ```no_run
//! # async fn demo() -> Result<(), usvideo::Error> {
//! use usvideo::{Client, CreateVideoRequest, Resolution, WaitOptions};
//! let client = Client::from_env()?; // USVIDEO_API_KEY, USVIDEO_BASE_URL
//! let mut req = CreateVideoRequest::text("A drone shot over a misty mountain lake at sunrise");
//! req.resolution = Some(Resolution::P1080);
//! let job = client.videos().create_and_wait(&req, WaitOptions::default()).await?;
//! println!("{} cost {} cents", job.video_url.unwrap_or_default(), job.cost_cents.unwrap_or(0));
//! # Ok(()) }
//! ```

mod batch;
mod cancel;
mod driver;
mod resources;
mod videos;

pub use batch::BatchRun;
pub use cancel::CancelToken;
pub use resources::{AccountResource, ApiKeysResource, PricingResource};
pub use usvideo_core::{
    estimate_cost, Account, ApiKey, BatchOptions, BatchProgress, BatchSnapshot, BatchSummary, ItemResult, CreateVideoRequest, CreatedApiKey, DeleteResult, Error, ErrorKind, Event, IdempotencyKey, Job, JobPage, JobStatus, Jwt, ListParams, Mode, PollPolicy, PricingTable,
    Progress, Resolution, RetryPolicy, WaitOptions, DEFAULT_BASE_URL,
};
pub use videos::{CreateOptions, Videos};

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use usvideo_core::{ClientConfig, RateLimiter};

/// The default time one HTTP request may take.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The client. Cheap to clone: clones share the connection pool and the rate limiter.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) key: Option<ApiKey>,
    pub(crate) http: reqwest::Client,
    /// The key's limiter, shared by every client of the key, base URL and budget in the process.
    pub(crate) limiter: Arc<Mutex<RateLimiter>>,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Duration,
    /// Seeds for the core's retry jitter: one draw of OS entropy per client, then a counter (a
    /// `getrandom` call per API call cost ~0.7 µs, of the client's ~5 µs own overhead).
    pub(crate) seeds: AtomicU64,
    /// Shared by this client's creates (`usvideo_core::claims`).
    pub(crate) claims: usvideo_core::claims::Claims,
    /// What this client's waits (and its clones') learned of the service's speed (`usvideo_core::pace`).
    pub(crate) pace: usvideo_core::pace::Pace,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("base_url", &self.inner.config.base_url()).field("api_key", &self.inner.key).finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the service with this API key.
    ///
    /// # Errors
    /// A validation error when the key is not an `sd_` key.
    pub fn new(api_key: &str) -> Result<Client, Error> {
        Client::builder().api_key(api_key).build()
    }

    /// A client configured from `USVIDEO_API_KEY` and `USVIDEO_BASE_URL`.
    ///
    /// # Errors
    /// A validation error when the key is missing or malformed, or the base URL is not a URL.
    pub fn from_env() -> Result<Client, Error> {
        Client::builder().build()
    }

    /// Every option.
    #[must_use]
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Jobs: create, retrieve, list, delete, wait, download.
    #[must_use]
    pub fn videos(&self) -> Videos<'_> {
        Videos { client: self }
    }

    /// `GET /v1/account`.
    #[must_use]
    pub fn account(&self) -> AccountResource<'_> {
        AccountResource { client: self }
    }

    /// `GET /v1/pricing` (no key needed).
    #[must_use]
    pub fn pricing(&self) -> PricingResource<'_> {
        PricingResource { client: self }
    }

    /// `POST /v1/api-keys` (authenticated with a JWT).
    #[must_use]
    pub fn api_keys(&self) -> ApiKeysResource<'_> {
        ApiKeysResource { client: self }
    }

    /// The base URL requests go to.
    #[must_use]
    pub fn base_url(&self) -> &str {
        self.inner.config.base_url()
    }

    /// `None` for a keyless client (behind a proxy that adds the key): the core's request builders
    /// refuse such a call to the service itself ([`ClientConfig::check_key`]).
    pub(crate) fn key(&self) -> Option<&ApiKey> {
        self.inner.key.as_ref()
    }
}

/// Builds a [`Client`]. Unset options come from the environment, then defaults.
#[derive(Default)]
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    max_retries: Option<u32>,
    request_timeout: Option<Duration>,
    requests_per_minute: Option<u32>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder").field("api_key", &self.api_key.as_deref().map(usvideo_core::secret::redact_text)).field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API key (`sd_…`); default `USVIDEO_API_KEY`. `""`: none, even where that is set (a
    /// keyless client, behind a server-side proxy that adds the key).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The base URL (a proxy, the emulator); default `USVIDEO_BASE_URL`, then the service.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Retries per request after the first attempt (default 4).
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// The most one HTTP request may take (default 60 s).
    #[must_use]
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = Some(t);
        self
    }

    /// The key's request budget per minute (default 60, the standard tier; 0 disables the
    /// client-side limiter).
    #[must_use]
    pub fn requests_per_minute(mut self, n: u32) -> Self {
        self.requests_per_minute = Some(n);
        self
    }

    /// A reqwest client of your own (proxies, custom TLS).
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client. A missing key is allowed: pricing needs none, API-key creation uses a
    /// JWT, and a client pointed at a server-side proxy that adds the key sends none. Calls that
    /// need one fail with a validation error on `api_key` when the base URL is the service's own.
    ///
    /// # Errors
    /// A validation error on `api_key` (malformed) or `base_url`.
    pub fn build(self) -> Result<Client, Error> {
        let key = self.api_key.or_else(|| std::env::var("USVIDEO_API_KEY").ok());
        let key = ApiKey::optional(key.as_deref()).map_err(|i| Error::validation(vec![i]))?;
        let base = self.base_url.or_else(|| std::env::var("USVIDEO_BASE_URL").ok()).filter(|u| !u.is_empty()).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let config = ClientConfig::new(&base).map_err(|i| Error::validation(vec![i]))?.with_user_agent(format!("usvideo-rust/{}", env!("CARGO_PKG_VERSION")));
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder().build().map_err(|e| Error::usage(format!("cannot build the HTTP client: {e}")))?,
        };
        let mut retry = RetryPolicy::default();
        if let Some(n) = self.max_retries {
            retry.max_retries = n;
        }
        let limiter = usvideo_core::ratelimit::shared(config.base_url(), key.as_ref().map(ApiKey::expose), self.requests_per_minute.unwrap_or(60));
        // The key's claims, shared by every client made with it in the process.
        let claims = usvideo_core::claims::Claims::shared(config.base_url(), key.as_ref().map(ApiKey::expose));
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                key,
                http,
                limiter,
                retry,
                request_timeout: self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
                seeds: AtomicU64::new(random_seed()),
                claims,
                pace: usvideo_core::pace::Pace::new(),
            }),
        })
    }
}

impl Inner {
    /// A seed for one call's retry jitter: distinct per call (a SplitMix64 step over the client's
    /// counter), so concurrent calls that fail together do not retry in lockstep.
    pub(crate) fn jitter_seed(&self) -> u64 {
        let mut z = self.seeds.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// 64 bits from the operating system's entropy (seeds for jitter).
pub(crate) fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    // Entropy failure is near impossible; a fixed seed then only makes jitter less random.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// A fresh idempotency key for one logical create.
pub(crate) fn new_idempotency_key() -> Result<IdempotencyKey, Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| Error::usage(format!("no entropy for an idempotency key: {e}")))?;
    IdempotencyKey::from_entropy(&b).map_err(|i| Error::validation(vec![i]))
}
