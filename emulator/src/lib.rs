//! A stateful local stand-in for the US Video API (AI video generation: submit a job, poll it,
//! pay per second of video), served over real HTTP on loopback.
//!
//! Every SDK's tests and the quickstart run against it. It keeps accounts, balances, jobs and a
//! money ledger; time is a virtual clock that tests freeze or fast-forward; a control surface
//! under `/_emulator/` creates accounts, moves the clock and injects faults. See the crate's
//! README for the HTTP surface, the timing model, and which behaviours are assumptions.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emu = usvideo_emulator::Emulator::builder().time_scale(0.0).start().await?;
//! let creds = emu.create_account("me@example.com", 5_000);
//! println!("API at {} with key {:?}", emu.api_base(), creds);
//! emu.advance(60_000); // one virtual minute later
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! It is an independent implementation of the server side: it does not use `usvideo-core`, so a
//! bug in the SDK's validation or pricing is not mirrored here.

mod clock;
mod control;
mod faults;
mod limiter;
mod persist;
mod pricing;
mod reply;
mod routes;
mod server;
mod state;
mod timing;
mod validate;

use server::Shared;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::task::JoinHandle;

/// Whether a request refused by the rate limiter still counts against the minute (FLEET.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LimiterMode {
    /// Refused requests cost nothing (GCRA and most token buckets). The default.
    #[default]
    Lenient,
    /// Refused requests count too (a limiter that logs before it checks).
    Strict,
}

impl std::str::FromStr for LimiterMode {
    type Err = String;

    /// `lenient` or `strict`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lenient" => Ok(LimiterMode::Lenient),
            "strict" => Ok(LimiterMode::Strict),
            other => Err(format!("unknown limiter mode `{other}` (expected lenient or strict)")),
        }
    }
}

/// What an account is given: an API key (`sd_…`) and a JWT (for `POST /v1/api-keys`).
///
/// `Debug` shows only the last four characters of each secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account's email.
    pub email: String,
    /// An API key, `sd_` + 32 characters.
    pub api_key: String,
    /// A JWT for the account (only `POST /v1/api-keys` takes it).
    pub jwt: String,
}

fn redact(secret: &str) -> String {
    let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    if secret.starts_with("sd_") { format!("sd_…{tail}") } else { format!("…{tail}") }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("email", &self.email).field("api_key", &redact(&self.api_key)).field("jwt", &redact(&self.jwt)).finish()
    }
}

/// An account to create, with its plan and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSpec {
    /// The account's email (its identity in the emulator).
    pub email: String,
    /// The prepaid balance to deposit, in cents.
    pub balance_cents: u64,
    /// `standard` (60 requests/min, 10 concurrent jobs) or `enterprise` (600 and 50 unless given).
    pub plan: String,
    /// Requests per minute per token, instead of the plan's.
    pub requests_per_minute: Option<u64>,
    /// Concurrent (pending + processing) jobs per account, instead of the plan's.
    pub concurrent_jobs: Option<u64>,
}

impl Default for AccountSpec {
    /// A standard account with no email and no money.
    fn default() -> Self {
        AccountSpec { email: String::new(), balance_cents: 0, plan: "standard".into(), requests_per_minute: None, concurrent_jobs: None }
    }
}

/// Settings for [`Emulator`]; start it with [`EmulatorBuilder::start`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    host: String,
    port: u16,
    time_scale: f64,
    seed: u64,
    limiter: LimiterMode,
    cors_origin: String,
    log_requests: bool,
    state_file: Option<PathBuf>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            host: "127.0.0.1".into(),
            port: 0,
            time_scale: 1.0,
            seed: 1,
            limiter: LimiterMode::Lenient,
            cors_origin: "*".into(),
            log_requests: false,
            state_file: None,
        }
    }
}

impl EmulatorBuilder {
    /// The address to listen on (default `127.0.0.1`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The port (default 0: a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Virtual milliseconds per real millisecond (default 1; 0 freezes the clock, so only
    /// [`Emulator::advance`] moves it).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }

    /// The seed of the job timing jitter (default 1).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether refused requests count against the rate limit (default lenient).
    pub fn limiter(mut self, mode: LimiterMode) -> Self {
        self.limiter = mode;
        self
    }

    /// The `Access-Control-Allow-Origin` of every answer (default `*`).
    pub fn cors_origin(mut self, origin: impl Into<String>) -> Self {
        self.cors_origin = origin.into();
        self
    }

    /// Logs one line per request on stderr (default off for the library; the binary turns it on).
    pub fn log_requests(mut self, on: bool) -> Self {
        self.log_requests = on;
        self
    }

    /// Keeps the state in this file: loaded at start if it exists, rewritten atomically after
    /// every request that changed it, so a killed emulator restarted with the same file goes on
    /// where it was (see the README for what is and is not kept).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Loads the state file if any, binds, and starts serving in the background on the current
    /// tokio runtime. A state file that cannot be read or written is an error here, not later.
    pub async fn start(self) -> std::io::Result<Emulator> {
        if !clock::valid_scale(self.time_scale) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "time scale must be a number from 0 to 1000000"));
        }
        let requests = Arc::new(AtomicU64::new(0));
        let mut st = state::State::new(self.time_scale, self.seed, self.limiter);
        if let Some(path) = &self.state_file {
            let store = persist::Store::new(path.clone(), requests.clone())?;
            let loaded = persist::load(path).map_err(|e| std::io::Error::new(e.kind(), format!("state file {}: {e}", path.display())))?;
            if let Some(snapshot) = loaded {
                persist::restore(snapshot, &mut st, &requests);
            }
            // Written at once: an unwritable path fails the start, not the first request.
            persist::save(&st, &store).map_err(|e| std::io::Error::new(e.kind(), format!("state file {}: {e}", path.display())))?;
            st.store = Some(store);
        }
        // tokio's listener sets SO_REUSEADDR (on Unix), so a restart on the port of an emulator
        // just killed binds even while its old connections sit in TIME_WAIT.
        let listener = tokio::net::TcpListener::bind((self.host.as_str(), self.port)).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        // Video URLs must be fetchable: on a wildcard address, point them at loopback.
        let mut video_addr = addr;
        if addr.ip().is_unspecified() {
            video_addr.set_ip(if addr.is_ipv4() { std::net::Ipv4Addr::LOCALHOST.into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
        }
        st.base_url = format!("http://{video_addr}");
        let shared = Arc::new(Shared::new(st, self.cors_origin, self.log_requests, requests));
        let task = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(Emulator { url, shared, task })
    }
}

/// A running emulator, serving in the background on the caller's tokio runtime. It stops when
/// dropped or on [`Emulator::shutdown`].
#[derive(Debug)]
pub struct Emulator {
    url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Emulator {
    /// Starts on `127.0.0.1`, a free port, time scale 1, seed 1, lenient limiter.
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::builder().start().await
    }

    /// Settings other than the defaults.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://HOST:PORT`, where the control surface (`/_emulator/`) and the files live.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// `http://HOST:PORT/v1`, the base URL to give a client.
    pub fn api_base(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// Creates a standard-plan account with a balance. Every call makes a new, independent
    /// account, even with an email already used (tests often reuse one).
    pub fn create_account(&self, email: &str, balance_cents: u64) -> Credentials {
        self.create_account_with(AccountSpec { email: email.to_owned(), balance_cents, ..AccountSpec::default() })
    }

    /// Creates an account with a plan and limits of its own.
    ///
    /// # Panics
    /// If the email is empty, the plan is neither `standard` nor `enterprise`, or a limit is 0
    /// (a mistake in the calling test, reported at once).
    pub fn create_account_with(&self, spec: AccountSpec) -> Credentials {
        if let Err((field, message)) = control::check_account(&spec.email, &spec.plan, spec.requests_per_minute, spec.concurrent_jobs) {
            panic!("invalid AccountSpec ({field}): {message}");
        }
        let mut st = self.shared.lock();
        let (_, api_key, jwt) = st.create_account(&spec.email, spec.balance_cents, &spec.plan, spec.requests_per_minute, spec.concurrent_jobs);
        st.save_if_dirty();
        Credentials { email: spec.email, api_key, jwt }
    }

    /// Moves the virtual clock on by `ms` (jobs progress accordingly).
    pub fn advance(&self, ms: u64) {
        let mut st = self.shared.lock();
        st.advance_clock(ms);
        st.save_if_dirty();
    }

    /// The virtual time in milliseconds since start.
    pub fn now_ms(&self) -> u64 {
        self.shared.lock().now()
    }

    /// Adds one fault or a list of them (the JSON of `POST /_emulator/faults`).
    pub fn add_fault(&self, fault: serde_json::Value) -> Result<(), String> {
        let list = faults::parse_many(&fault)?;
        self.shared.lock().faults.add(list);
        Ok(())
    }

    /// The ledger (the JSON of `GET /_emulator/ledger`): per account, deposits, balance, held,
    /// spent, refunded and jobs created.
    pub fn ledger(&self) -> serde_json::Value {
        let mut st = self.shared.lock();
        let now = st.now();
        st.settle(now);
        st.save_if_dirty();
        st.ledger_json()
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
