//! [`CoreClient`]: where requests go and as whom, and the factory of every request and machine.

use crate::error::Result;
use crate::machine::Machine;
use std::fmt;
use std::sync::Arc;
use usvideo_core::{
    ApiKey, Batch, BatchOptions, BatchSnapshot, Call, ClientConfig, Create, CreateVideoRequest, Endpoint, Error, HttpRequest, IdempotencyKey, Issue, IssueCode, JobRun, Jwt, ListParams, Millis, RetryPolicy, WaitOptions,
};

/// A base URL, an optional API key (pricing needs none; API-key creation uses a JWT) and a
/// retry policy. Immutable and thread-safe; its `Debug` (and the Kotlin/Swift `toString`) never
/// shows the key.
#[derive(uniffi::Object)]
#[uniffi::export(Debug)]
pub struct CoreClient {
    config: ClientConfig,
    key: Option<ApiKey>,
    retry: RetryPolicy,
    /// Shared by this client's creates (`usvideo_core::claims`).
    claims: usvideo_core::claims::Claims,
    /// What this client's waits learned of the service's speed (`usvideo_core::pace`).
    pace: usvideo_core::pace::Pace,
}

impl fmt::Debug for CoreClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoreClient").field("base_url", &self.config.base_url()).field("api_key", &self.key).finish()
    }
}

impl CoreClient {
    /// `None` for a keyless client (behind a proxy that adds the key); the core refuses its calls
    /// that need a key when they go to the service itself.
    fn key(&self) -> Option<&ApiKey> {
        self.key.as_ref()
    }
}

fn make_idempotency_key(given: Option<String>, entropy: &[u8]) -> Result<IdempotencyKey> {
    Ok(match given {
        Some(k) => IdempotencyKey::from_string(&k)?,
        None => IdempotencyKey::from_entropy(entropy)?,
    })
}

#[uniffi::export]
impl CoreClient {
    /// A client for `base_url` (trailing slashes removed) with an optional API key (`sd_…`,
    /// checked: no whitespace or control characters), an optional `User-Agent` and a retry
    /// policy (`None`: the default, 4 retries). Without a key, requests carry no `Authorization`
    /// (a server-side proxy adds it), and calls that need one are refused when `base_url` is the
    /// service's own.
    ///
    /// # Errors
    /// `ValidationError` on `base_url` or `api_key`.
    #[uniffi::constructor(default(api_key = None, user_agent = None, retry = None))]
    pub fn new(base_url: String, api_key: Option<String>, user_agent: Option<String>, retry: Option<RetryPolicy>) -> Result<Arc<Self>> {
        let mut config = ClientConfig::new(&base_url)?;
        if let Some(ua) = user_agent {
            config = config.with_user_agent(ua);
        }
        let key = ApiKey::optional(api_key.as_deref())?;
        // The key's claims, shared by every client made with it in the process.
        let claims = usvideo_core::claims::Claims::shared(config.base_url(), key.as_ref().map(ApiKey::expose));
        Ok(Arc::new(CoreClient { config, key, retry: retry.unwrap_or_default(), claims, pace: usvideo_core::pace::Pace::new() }))
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> String {
        self.config.base_url().to_owned()
    }

    /// The API key, redacted (`sd_…1a2b`), or `None`.
    pub fn redacted_key(&self) -> Option<String> {
        self.key.as_ref().map(ApiKey::redacted)
    }

    /// The retry policy of every call.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    // ---- requests (pure builders) ----

    /// `POST /v1/videos` with an `Idempotency-Key` (yours, or one minted from ≥ 16 random bytes).
    ///
    /// # Errors
    /// `ValidationError` listing every violated rule.
    pub fn build_create_video(&self, request: CreateVideoRequest, idempotency_key: Option<String>, entropy: Vec<u8>) -> Result<HttpRequest> {
        let idem = make_idempotency_key(idempotency_key, &entropy)?;
        Ok(self.config.create_video(self.key(), &request, &idem)?)
    }

    /// `GET /v1/videos/{id}`.
    ///
    /// # Errors
    /// `ValidationError` on `id` or `api_key`.
    pub fn build_retrieve_video(&self, id: String) -> Result<HttpRequest> {
        Ok(self.config.retrieve_video(self.key(), &id)?)
    }

    /// `DELETE /v1/videos/{id}`.
    ///
    /// # Errors
    /// `ValidationError` on `id` or `api_key`.
    pub fn build_delete_video(&self, id: String) -> Result<HttpRequest> {
        Ok(self.config.delete_video(self.key(), &id)?)
    }

    /// `GET /v1/videos?limit=&offset=`.
    ///
    /// # Errors
    /// `ValidationError` on `limit` or `api_key`.
    pub fn build_list_videos(&self, params: ListParams) -> Result<HttpRequest> {
        Ok(self.config.list_videos(self.key(), &params)?)
    }

    /// `GET /v1/account`.
    ///
    /// # Errors
    /// `ValidationError` on `api_key`.
    pub fn build_retrieve_account(&self) -> Result<HttpRequest> {
        Ok(self.config.retrieve_account(self.key())?)
    }

    /// `GET /v1/pricing` (no auth).
    pub fn build_retrieve_pricing(&self) -> HttpRequest {
        self.config.retrieve_pricing()
    }

    /// `POST /v1/api-keys`, authenticated with a JWT.
    ///
    /// # Errors
    /// `ValidationError` on `jwt` or `name`.
    pub fn build_create_api_key(&self, jwt: String, name: Option<String>) -> Result<HttpRequest> {
        let jwt = Jwt::new(jwt)?;
        Ok(self.config.create_api_key(&jwt, name.as_deref())?)
    }

    // ---- machines ----

    /// One call of `request` with the core's retry rules (`retry`: the client's when `None`),
    /// ending by `deadline` at the latest. Take its 2xx response with `Machine.take_response`.
    #[uniffi::method(default(retry = None, deadline = None))]
    pub fn call(&self, endpoint: Endpoint, request: HttpRequest, seed: u64, retry: Option<RetryPolicy>, deadline: Option<Millis>) -> Arc<Machine> {
        Machine::new(Call::new(endpoint, request, retry.unwrap_or(self.retry), seed, deadline, 0))
    }

    /// A create made at most once (idempotency key, reconciliation of an unknown outcome).
    /// Take the job with `Machine.take_job`.
    ///
    /// # Errors
    /// `ValidationError` listing every violated rule.
    #[uniffi::method(default(idempotency_key = None, retry = None, deadline = None))]
    pub fn create(&self, request: CreateVideoRequest, entropy: Vec<u8>, seed: u64, idempotency_key: Option<String>, retry: Option<RetryPolicy>, deadline: Option<Millis>) -> Result<Arc<Machine>> {
        let idem = make_idempotency_key(idempotency_key, &entropy)?;
        Ok(Machine::new(Create::new(&self.config, self.key(), request, &idem, retry.unwrap_or(self.retry), seed, deadline, 0)?.sharing(&self.claims)))
    }

    /// Waits for job `id` (first poll at once). Take the job with `Machine.take_job`.
    ///
    /// # Errors
    /// `ValidationError` on `id` or `api_key`.
    pub fn wait(&self, id: String, options: WaitOptions, seed: u64, now: Millis) -> Result<Arc<Machine>> {
        Ok(Machine::new(JobRun::wait(&self.config, self.key(), &id, options, seed, now)?.sharing(&self.claims).learning(&self.pace).handing_off()))
    }

    /// Creates a job (at most once) and waits for it. Take the job with `Machine.take_job`.
    ///
    /// # Errors
    /// `ValidationError` listing every violated rule.
    #[uniffi::method(default(idempotency_key = None))]
    pub fn create_and_wait(&self, request: CreateVideoRequest, options: WaitOptions, entropy: Vec<u8>, seed: u64, now: Millis, idempotency_key: Option<String>) -> Result<Arc<Machine>> {
        let idem = make_idempotency_key(idempotency_key, &entropy)?;
        Ok(Machine::new(JobRun::create_and_wait(&self.config, self.key(), request, &idem, options, seed, now)?.sharing(&self.claims).learning(&self.pace).handing_off()))
    }
}

#[uniffi::export]
impl CoreClient {
    /// A batch of creates scheduled within the account's limits (the core's `Batch`): validated
    /// and estimated now (refused above `options.max_spend_cents`), the balance read first when
    /// `options.check_balance`, at most `options.limits.concurrent_jobs` in flight, one request
    /// budget for creates and polls, results as jobs finish (`Event::ItemDone`). `entropy`: at
    /// least 16 random bytes (the items' idempotency keys and the jitter). Take the summary with
    /// `Machine.take_batch_summary`, a snapshot with `Machine.batch_snapshot`.
    ///
    /// # Errors
    /// `ValidationError` naming every bad request (`requests[3].duration`) or a total above
    /// `max_spend_cents` (field `max_spend_cents`); a missing API key (on the service). An empty
    /// batch is no error: it ends at once with an empty summary.
    pub fn batch(&self, requests: Vec<CreateVideoRequest>, options: BatchOptions, entropy: Vec<u8>, now: Millis) -> Result<Arc<Machine>> {
        Ok(Machine::new(Batch::new(&self.config, self.key(), requests, &entropy, options, now)?))
    }

    /// Continues a batch from `snapshot` (the JSON of `Machine.batch_snapshot`, possibly taken in
    /// a process that died): items whose create may have been sent are reconciled (listed and
    /// matched by their idempotency key's request) before anything is sent for them, so none is
    /// created twice.
    ///
    /// # Errors
    /// `ValidationError` (field `snapshot`) for text that is not a snapshot, (`snapshot.version`)
    /// for a version this SDK cannot read, or as `batch`.
    pub fn resume_batch(&self, snapshot: String, options: BatchOptions, seed: u64, now: Millis) -> Result<Arc<Machine>> {
        let snap: BatchSnapshot = serde_json::from_str(&snapshot).map_err(|_| Issue::new("snapshot", IssueCode::InvalidFormat, "not a batch snapshot (take it with the batch's snapshot())"))?;
        Ok(Machine::new(Batch::resume(&self.config, self.key(), snap, seed, options, now)?))
    }
}

/// Keeps `Error` in scope for rustdoc links.
#[allow(dead_code)]
type _Doc = Error;
