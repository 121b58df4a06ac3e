//! The stateless part of the core, exported as plain functions: validation, pricing, response
//! parsing, retry decisions, job statuses, redaction, and JSON forms for logs and test vectors.

use crate::error::{Result, UsVideoError};
use usvideo_core::{
    estimate_cost as core_estimate_cost, response, retry, validate, Account, ApiKey, CreateVideoRequest, CreatedApiKey, DeleteResult, Endpoint, Error, ErrorKind, Event, HttpResponse, IdempotencyKey, Job, JobPage, JobStatus, Jwt, ListParams,
    Output, PricingTable, Resolution, RetryPolicy, Rng,
};

/// JSON text from the app, read by the core (numbers kept exact: `5.0` is not `5`).
fn json_value<'t>(text: &'t str, field: &str) -> Result<usvideo_core::Json<'t>> {
    usvideo_core::json::parse(text.as_bytes()).map_err(|e| usvideo_core::Issue::new(field, usvideo_core::IssueCode::InvalidType, format!("not JSON: {e}")).into())
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

// ---- version ----

/// The library's version (`usvideo-uniffi` and the core it was built with).
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

// ---- the rate limit ----

/// Whether a request to `endpoint` waits for (and teaches) the key's rate limiter: not pricing or
/// key creation, which are no key's ([`usvideo_core::Endpoint::counts_against_key`]).
#[uniffi::export]
pub fn counts_against_key(endpoint: usvideo_core::Endpoint) -> bool {
    endpoint.counts_against_key()
}

// ---- pricing ----

/// The cost in cents of `duration` seconds at `resolution`, with the reference's built-in table
/// (offline, no network). 1080p × 5 s = 120.
///
/// # Errors
/// `ValidationError` on `duration` (outside 1 to 10).
#[uniffi::export]
pub fn estimate_cost(resolution: Resolution, duration: u32) -> Result<u64> {
    Ok(core_estimate_cost(resolution, duration)?)
}

/// The cost in cents with a given table (the service's, from `GET /v1/pricing`).
///
/// # Errors
/// `ValidationError` on `duration` or `resolution`.
#[uniffi::export]
pub fn estimate_cost_with(table: PricingTable, resolution: Resolution, duration: u32) -> Result<u64> {
    Ok(table.estimate(resolution, duration)?)
}

/// The total cost in cents of many requests (a batch), with the service's defaults.
///
/// # Errors
/// The first refused request's issue (`requests[i].duration`), or `cost` on overflow.
#[uniffi::export]
pub fn estimate_total(table: PricingTable, requests: Vec<CreateVideoRequest>) -> Result<u64> {
    Ok(table.estimate_all(&requests)?)
}

/// The reference's table: 720p $0.06/s, 1080p $0.24/s, 2k $0.36/s.
#[uniffi::export]
pub fn builtin_pricing() -> PricingTable {
    PricingTable::builtin()
}

/// A pricing table in the service's wire shape, read exactly (`{"720p": {"per_second": 0.06}, …}`).
///
/// # Errors
/// `ValidationError` on `table` when it is not that shape.
#[uniffi::export]
pub fn pricing_from_json(json: String) -> Result<PricingTable> {
    let v = json_value(&json, "table")?;
    PricingTable::from_json(&v).map_err(|e| usvideo_core::Issue::new("table", usvideo_core::IssueCode::InvalidType, e).into())
}

/// A pricing table as the service's wire JSON.
#[uniffi::export]
pub fn pricing_to_json(table: PricingTable) -> String {
    table.to_json().to_string()
}

// ---- validation ----

/// Checks a typed create request against every rule of the contract.
///
/// # Errors
/// `ValidationError` listing every violated rule (`details.issues`).
#[uniffi::export]
pub fn validate_create_request(request: CreateVideoRequest) -> Result<()> {
    Ok(validate::validate_create(&request)?)
}

/// A create request from loose JSON (a map from an app's settings, a server, a test vector):
/// refuses unknown fields naming them ("did you mean `resolution`?") and values of the wrong type.
///
/// # Errors
/// `ValidationError` listing every violated rule.
#[uniffi::export]
pub fn create_request_from_json(json: String) -> Result<CreateVideoRequest> {
    Ok(validate::create_request_from_json(&json_value(&json, "body")?)?)
}

/// Paging from loose JSON (`{limit, offset}`; `null` is no paging).
///
/// # Errors
/// `ValidationError` listing every violated rule.
#[uniffi::export]
pub fn list_params_from_json(json: String) -> Result<ListParams> {
    Ok(validate::list_params_from_json(&json_value(&json, "params")?)?)
}

/// Checks a job id before it goes into a URL path.
///
/// # Errors
/// `ValidationError` on `id`.
#[uniffi::export]
pub fn validate_job_id(id: String) -> Result<()> {
    Ok(validate::validate_job_id(&id)?)
}

/// Checks an API key's format (`sd_`, no whitespace or control characters).
///
/// # Errors
/// `ValidationError` on `api_key`.
#[uniffi::export]
pub fn validate_api_key(key: String) -> Result<()> {
    ApiKey::new(key)?;
    Ok(())
}

/// Checks a JWT's format (three base64url parts).
///
/// # Errors
/// `ValidationError` on `jwt`.
#[uniffi::export]
pub fn validate_jwt(jwt: String) -> Result<()> {
    Jwt::new(jwt)?;
    Ok(())
}

/// An `Idempotency-Key` from at least 16 random bytes (`usv-` and their hex).
///
/// # Errors
/// `ValidationError` on `idempotency_key` with fewer than 16 bytes.
#[uniffi::export]
pub fn idempotency_key_from_entropy(entropy: Vec<u8>) -> Result<String> {
    Ok(IdempotencyKey::from_entropy(&entropy)?.as_str().to_owned())
}

// ---- response parsing ----

/// A job (`POST /v1/videos`, `GET /v1/videos/{id}`).
///
/// # Errors
/// The status's error class, or `ApiResponseError` when the body is not a job.
#[uniffi::export]
pub fn parse_job(response: HttpResponse) -> Result<Job> {
    Ok(response::parse_job(&response)?)
}

/// The answer to a request for job `id` (a retrieve): that job, or a `Decode` error naming `id`
/// when it is no job or another job's.
#[uniffi::export]
pub fn parse_job_of(response: HttpResponse, id: String) -> Result<Job> {
    Ok(response::parse_job_of(&response, &id)?)
}

/// A page of jobs (`GET /v1/videos`; a bare array is accepted too), read against the page the
/// request asked for (`asked`): what the answer leaves out is filled from it.
///
/// # Errors
/// The status's error class, or `ApiResponseError`.
#[uniffi::export]
pub fn parse_job_page(response: HttpResponse, asked: ListParams) -> Result<JobPage> {
    Ok(response::parse_job_page(&response, &asked)?)
}

/// The answer to `DELETE /v1/videos/{id}` (an empty 2xx body is `{id, deleted: true}`).
///
/// # Errors
/// The status's error class, or `ApiResponseError`.
#[uniffi::export]
pub fn parse_delete(response: HttpResponse, id: String) -> Result<DeleteResult> {
    Ok(response::parse_delete(&response, &id)?)
}

/// `GET /v1/account`.
///
/// # Errors
/// The status's error class, or `ApiResponseError`.
#[uniffi::export]
pub fn parse_account(response: HttpResponse) -> Result<Account> {
    Ok(response::parse_account(&response)?)
}

/// `GET /v1/pricing`, read exactly.
///
/// # Errors
/// The status's error class, or `ApiResponseError`.
#[uniffi::export]
pub fn parse_pricing(response: HttpResponse) -> Result<PricingTable> {
    Ok(response::parse_pricing(&response)?)
}

/// `POST /v1/api-keys`.
///
/// # Errors
/// The status's error class, or `ApiResponseError`.
#[uniffi::export]
pub fn parse_created_api_key(response: HttpResponse) -> Result<CreatedApiKey> {
    Ok(response::parse_created_api_key(&response)?)
}

/// The error a non-2xx response stands for (status, code, message, field, request id, Retry-After).
#[uniffi::export]
pub fn error_from_response(response: HttpResponse) -> Error {
    response::error_from_response(&response)
}

/// The error as the binding's exception (the variant named by `details.kind`).
#[uniffi::export]
pub fn error_to_exception(details: Error) -> UsVideoError {
    details.into()
}

// ---- error kinds ----

/// The class name of an error kind in every binding (`RateLimitError`, …).
#[uniffi::export]
pub fn error_class_name(kind: ErrorKind) -> String {
    kind.class_name().to_owned()
}

/// The stable wire name of an error kind (`rate_limit`, `not_found`, …).
#[uniffi::export]
pub fn error_kind_name(kind: ErrorKind) -> String {
    kind.as_str().to_owned()
}

/// Whether trying the same call again later could succeed.
#[uniffi::export]
pub fn error_is_retryable(error: Error) -> bool {
    error.is_retryable()
}

// ---- retry ----

/// What to do after attempt number `attempt` (0-based) of `endpoint` failed with `error`
/// (jitter drawn from `seed`).
#[uniffi::export]
pub fn retry_decide(endpoint: Endpoint, error: Error, attempt: u32, policy: RetryPolicy, remaining_ms: Option<u64>, seed: u64) -> retry::Decision {
    retry::decide(endpoint, &error, attempt, &policy, remaining_ms, &mut Rng::new(seed))
}

/// The backoff before each of `attempts` (0-based, in order), all drawn from one generator.
#[uniffi::export]
pub fn backoff_delays(policy: RetryPolicy, seed: u64, attempts: Vec<u32>) -> Vec<u64> {
    let mut rng = Rng::new(seed);
    attempts.into_iter().map(|a| policy.backoff_ms(a, &mut rng)).collect()
}

/// The default retry policy (4 retries, 500 ms base, 8 s max, 60 s Retry-After cap).
#[uniffi::export]
pub fn default_retry_policy() -> RetryPolicy {
    RetryPolicy::default()
}

/// The core's default batch options (standard limits: 60 requests a minute, 10 concurrent jobs;
/// list polling every 3 s once a completion is likely; the balance checked first).
#[uniffi::export]
pub fn default_batch_options() -> usvideo_core::BatchOptions {
    usvideo_core::BatchOptions::default()
}

/// The default wait options (10 minutes, polls near the expected finish).
#[uniffi::export]
pub fn default_wait_options() -> usvideo_core::WaitOptions {
    usvideo_core::WaitOptions::default()
}

/// `policy` with the poll gaps a caller gave (`null`: not given), by the core's rule: a gap
/// given alone moves the other's default out of its way (`PollPolicy::with_gaps`), as npm's and
/// Python's option records do.
#[uniffi::export]
pub fn poll_policy_with_gaps(policy: usvideo_core::PollPolicy, min_interval_ms: Option<u64>, max_interval_ms: Option<u64>) -> usvideo_core::PollPolicy {
    policy.with_gaps(min_interval_ms, max_interval_ms)
}

// ---- job status ----

/// A status from its wire string (anything unknown is kept as `Unknown`).
#[uniffi::export]
pub fn job_status_from_wire(status: String) -> JobStatus {
    JobStatus::parse(&status)
}

/// A status's wire string.
#[uniffi::export]
pub fn job_status_to_wire(status: JobStatus) -> String {
    status.as_str().to_owned()
}

/// `completed` or `failed`.
#[uniffi::export]
pub fn job_status_is_terminal(status: JobStatus) -> bool {
    status.is_terminal()
}

// ---- secrets ----

/// Replaces every API key and JWT in `text` with its redacted form (`sd_…1a2b`).
#[uniffi::export]
pub fn redact(text: String) -> String {
    usvideo_core::secret::redact_text(&text)
}

// ---- wire forms (logs, persistence, conformance vectors) ----

/// A job in the service's wire JSON.
#[uniffi::export]
pub fn job_to_json(job: Job) -> String {
    to_json(&job)
}

/// An error in its wire JSON (`kind`, `code`, `status`, …).
#[uniffi::export]
pub fn error_to_json(error: Error) -> String {
    to_json(&error)
}

/// An event in its wire JSON (tagged by `type`).
#[uniffi::export]
pub fn event_to_json(event: Event) -> String {
    to_json(&event)
}

/// A machine output in its wire JSON.
#[uniffi::export]
pub fn output_to_json(output: Output) -> String {
    to_json(&output)
}

/// Any parsed value's wire JSON, for the kinds without a function of their own.
#[uniffi::export]
pub fn job_page_to_json(page: JobPage) -> String {
    to_json(&page)
}

/// A create request's wire JSON (the body `POST /v1/videos` sends).
#[uniffi::export]
pub fn create_request_to_json(request: CreateVideoRequest) -> String {
    to_json(&request)
}

/// Wire JSON of the other parsed values (`account`, `delete`, `api_key`).
#[uniffi::export]
pub fn account_to_json(account: Account) -> String {
    to_json(&account)
}

/// A delete result's wire JSON.
#[uniffi::export]
pub fn delete_result_to_json(result: DeleteResult) -> String {
    to_json(&result)
}

/// A created key's wire JSON (the key itself included: never log it).
#[uniffi::export]
pub fn created_api_key_to_json(key: CreatedApiKey) -> String {
    to_json(&key)
}

// ---- panic check ----

/// Panics, on purpose: proves that a panic never crosses the FFI (the host gets the library's
/// own internal error). Not part of the API.
#[doc(hidden)]
#[uniffi::export]
#[allow(clippy::panic)]
pub fn debug_panic(message: String) {
    panic!("debug_panic: {message}");
}

/// Panics inside a fallible export (the `Result` path of the scaffolding).
///
/// # Errors
/// Never; it panics first.
#[doc(hidden)]
#[uniffi::export]
#[allow(clippy::panic)]
pub fn debug_panic_fallible(message: String) -> Result<u32> {
    panic!("debug_panic_fallible: {message}");
}

/// The error a transport failure stands for (what the machines make of `handle_transport_error`).
#[uniffi::export]
pub fn transport_error(kind: usvideo_core::TransportKind, message: String) -> Error {
    Error::transport(kind, &message)
}
