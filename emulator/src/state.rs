//! Accounts, tokens, jobs and the money ledger, behind one mutex.
//!
//! Job statuses are computed lazily from the virtual clock: before anything reads or changes
//! state, `settle` applies every completion and failure that has happened by now, in order, so
//! the ledger is exact at every moment: deposits = balance + held + spent for every account.
//!
//! Every change sets `dirty`; with a state file, the caller saves after the request
//! (`save_if_dirty`), so the file always holds the state of the last answer sent.

use crate::LimiterMode;
use crate::clock::{self, Clock};
use crate::faults::Faults;
use crate::persist::{self, Store};
use crate::limiter::Limiter;
use crate::timing::{self, SplitMix64};
use crate::validate::CreateRequest;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

/// How long an idempotency key is remembered, in virtual ms (24 h).
pub(crate) const IDEMPOTENCY_TTL_MS: u64 = 24 * 3600 * 1000;
/// The message of a failed job when the fault gave none.
const DEFAULT_FAILURE: &str = "The video could not be generated.";

/// Plan limits (the reference: standard is 60 requests/min and 10 concurrent jobs;
/// enterprise is "custom", so its defaults here are an assumption).
pub(crate) fn plan_limits(plan: &str) -> Option<(u64, u64)> {
    match plan {
        "standard" => Some((60, 10)),
        "enterprise" => Some((600, 50)),
        _ => None,
    }
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum TokenKind {
    ApiKey,
    Jwt,
}

/// Accounts are told apart by a number, not by email: two tests may create accounts with the
/// same email and still expect them to be independent.
pub(crate) type AccountId = u64;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Token {
    pub(crate) account: AccountId,
    pub(crate) kind: TokenKind,
}

/// A remembered successful create, replayed for the same key and body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Remembered {
    pub(crate) body: Value,
    pub(crate) status: u16,
    #[serde(with = "persist::bytes_as_text")]
    pub(crate) reply: Bytes,
    pub(crate) at_ms: u64,
}

/// One account and its money. All amounts in cents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Account {
    pub(crate) email: String,
    pub(crate) plan: String,
    pub(crate) requests_per_minute: u64,
    pub(crate) concurrent_jobs: u64,
    pub(crate) deposits: u64,
    pub(crate) balance: u64,
    /// Charged for jobs still pending or processing.
    pub(crate) held: u64,
    /// Settled charges of completed jobs.
    pub(crate) spent: u64,
    /// Given back for failed or cancelled jobs.
    pub(crate) refunded: u64,
    pub(crate) jobs_created: u64,
    /// Jobs pending or processing right now.
    pub(crate) active: u64,
    /// The account's live job ids, oldest first.
    pub(crate) job_ids: Vec<String>,
    pub(crate) idempotency: HashMap<String, Remembered>,
}

/// Where a job is at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    Processing,
    Completed,
    Failed,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::Completed => "completed",
            Status::Failed => "failed",
        }
    }
}

/// One job. Its whole future is decided at creation (start and end times, failure or not);
/// the status is read off the clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) account: AccountId,
    pub(crate) req: CreateRequest,
    pub(crate) cost: u64,
    pub(crate) created_ms: u64,
    pub(crate) start_ms: u64,
    pub(crate) end_ms: u64,
    /// `Some(message)` if the job will fail at `end_ms`.
    pub(crate) failure: Option<String>,
}

impl Job {
    pub(crate) fn status(&self, now: u64) -> Status {
        if now < self.start_ms {
            Status::Pending
        } else if now < self.end_ms {
            Status::Processing
        } else if self.failure.is_some() {
            Status::Failed
        } else {
            Status::Completed
        }
    }
}

/// Everything the emulator knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) clock: Clock,
    initial_scale: f64,
    seed: u64,
    /// Job timing: seeded, so a run is reproducible.
    pub(crate) timing_rng: SplitMix64,
    /// Ids and secrets: seeded from the wall clock, so two emulators never hand out the same key.
    pub(crate) id_rng: SplitMix64,
    pub(crate) limiter_mode: LimiterMode,
    pub(crate) limiter: Limiter,
    pub(crate) faults: Faults,
    /// By id, so in creation order.
    pub(crate) accounts: BTreeMap<AccountId, Account>,
    pub(crate) next_account: AccountId,
    pub(crate) tokens: HashMap<String, Token>,
    pub(crate) jobs: HashMap<String, Job>,
    /// Jobs not yet completed or failed, by (end time, id).
    pub(crate) unsettled: BTreeSet<(u64, String)>,
    /// `http://HOST:PORT`, for video URLs.
    pub(crate) base_url: String,
    /// Where the state is saved, if anywhere (`--state-file`).
    pub(crate) store: Option<Store>,
    /// Something persistent changed since the last save.
    pub(crate) dirty: bool,
}

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deleted {
    Removed { refunded: u64 },
    NotFound,
    Processing,
}

impl State {
    pub(crate) fn new(time_scale: f64, seed: u64, limiter_mode: LimiterMode) -> State {
        let entropy = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        State {
            clock: Clock::new(time_scale),
            initial_scale: time_scale,
            seed,
            timing_rng: SplitMix64::new(seed),
            id_rng: SplitMix64::new(entropy ^ (&entropy as *const u64 as u64).rotate_left(32)),
            limiter_mode,
            limiter: Limiter::default(),
            faults: Faults::default(),
            accounts: BTreeMap::new(),
            next_account: 1,
            tokens: HashMap::new(),
            jobs: HashMap::new(),
            unsettled: BTreeSet::new(),
            base_url: String::new(),
            store: None,
            dirty: false,
        }
    }

    /// Forgets everything: accounts, jobs, faults, idempotency keys, limiter windows, the clock.
    pub(crate) fn reset(&mut self) {
        let base_url = std::mem::take(&mut self.base_url);
        let store = self.store.take();
        let id_rng = self.id_rng.clone();
        *self = State::new(self.initial_scale, self.seed, self.limiter_mode);
        self.base_url = base_url;
        self.store = store;
        self.id_rng = id_rng;
        self.dirty = true;
    }

    /// Moves the virtual clock on by `ms`.
    pub(crate) fn advance_clock(&mut self, ms: u64) {
        self.clock.advance(ms);
        self.dirty = true;
    }

    /// Changes the clock's speed from now on.
    pub(crate) fn set_time_scale(&mut self, scale: f64) {
        self.clock.set_scale(scale);
        self.dirty = true;
    }

    /// Writes the state file if there is one and something changed. A failed write is logged
    /// and retried after the next change: the emulator keeps serving.
    pub(crate) fn save_if_dirty(&mut self) {
        if !self.dirty {
            return;
        }
        let Some(store) = &self.store else {
            self.dirty = false;
            return;
        };
        match persist::save(self, store) {
            Ok(()) => self.dirty = false,
            Err(e) => eprintln!("usvideo-emulator: cannot write the state file {}: {e}", store.path().display()),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    pub(crate) fn random_hex(&mut self, n: usize) -> String {
        // The generator moved: saved, so a restart never hands out the same id again.
        self.dirty = true;
        self.id_rng.hex(n)
    }

    /// Applies every completion and failure due by `now`, in order of end time.
    pub(crate) fn settle(&mut self, now: u64) {
        while let Some((end, id)) = self.unsettled.first().cloned() {
            if end > now {
                break;
            }
            self.unsettled.pop_first();
            self.dirty = true;
            let Some(job) = self.jobs.get(&id) else { continue };
            let (cost, failed) = (job.cost, job.failure.is_some());
            if let Some(acct) = self.accounts.get_mut(&job.account) {
                acct.held -= cost;
                acct.active -= 1;
                if failed {
                    acct.balance += cost;
                    acct.refunded += cost;
                } else {
                    acct.spent += cost;
                }
            }
        }
    }

    /// Creates an account (always a new one, even for an email already used) with a deposit,
    /// an API key and a JWT. Returns (id, api key, jwt).
    pub(crate) fn create_account(&mut self, email: &str, balance: u64, plan: &str, rpm: Option<u64>, concurrent: Option<u64>) -> (AccountId, String, String) {
        let (plan_rpm, plan_conc) = plan_limits(plan).unwrap_or((60, 10));
        let id = self.next_account;
        self.next_account += 1;
        self.dirty = true;
        self.accounts.insert(
            id,
            Account {
                email: email.to_owned(),
                plan: plan.to_owned(),
                requests_per_minute: rpm.unwrap_or(plan_rpm),
                concurrent_jobs: concurrent.unwrap_or(plan_conc),
                deposits: balance,
                balance,
                held: 0,
                spent: 0,
                refunded: 0,
                jobs_created: 0,
                active: 0,
                job_ids: Vec::new(),
                idempotency: HashMap::new(),
            },
        );
        let key = self.issue_api_key(id);
        let jwt = self.issue_jwt(id, email);
        (id, key, jwt)
    }

    /// A new API key for an account: `sd_` + 32 hex characters.
    pub(crate) fn issue_api_key(&mut self, account: AccountId) -> String {
        let key = format!("sd_{}", self.random_hex(32));
        self.dirty = true;
        self.tokens.insert(key.clone(), Token { account, kind: TokenKind::ApiKey });
        key
    }

    /// A new JWT: three base64url parts; valid because the emulator remembers issuing it.
    fn issue_jwt(&mut self, account: AccountId, email: &str) -> String {
        let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
        let iat = self.clock.wall_ms(self.now()) / 1000;
        let payload = b64url(json!({"sub": email, "email": email, "iat": iat, "jti": self.random_hex(16)}).to_string().as_bytes());
        let mut sig = [0u8; 32];
        for chunk in sig.chunks_mut(8) {
            chunk.copy_from_slice(&self.id_rng.next_u64().to_le_bytes());
        }
        let jwt = format!("{header}.{payload}.{}", b64url(&sig));
        self.tokens.insert(jwt.clone(), Token { account, kind: TokenKind::Jwt });
        jwt
    }

    /// Adds money to the most recently created account with this email; returns it.
    pub(crate) fn deposit(&mut self, email: &str, amount: u64) -> Option<&Account> {
        let a = self.accounts.values_mut().rev().find(|a| a.email == email)?;
        a.deposits += amount;
        a.balance += amount;
        self.dirty = true;
        Some(a)
    }

    /// The earliest expected end among an account's active jobs.
    pub(crate) fn earliest_active_end(&self, account: AccountId) -> Option<u64> {
        self.unsettled.iter().find(|(_, id)| self.jobs.get(id).is_some_and(|j| j.account == account)).map(|(end, _)| *end)
    }

    /// Makes a job: holds its cost and decides its future. The caller has checked balance and
    /// concurrency.
    pub(crate) fn create_job(&mut self, account: AccountId, req: CreateRequest, cost: u64, failure: Option<Option<String>>) -> String {
        let now = self.now();
        let t = timing::sample(&mut self.timing_rng, &req.resolution, req.duration);
        let id = format!("job_{}", self.random_hex(16));
        let job = Job {
            id: id.clone(),
            account,
            req,
            cost,
            created_ms: now,
            start_ms: now + t.pending_ms,
            end_ms: now + t.pending_ms + t.processing_ms,
            failure: failure.map(|m| m.unwrap_or_else(|| DEFAULT_FAILURE.to_owned())),
        };
        self.unsettled.insert((job.end_ms, id.clone()));
        self.jobs.insert(id.clone(), job);
        self.dirty = true;
        if let Some(a) = self.accounts.get_mut(&account) {
            a.balance -= cost;
            a.held += cost;
            a.jobs_created += 1;
            a.active += 1;
            a.job_ids.push(id.clone());
        }
        id
    }

    /// Deletes a job of `account` (the state must be settled).
    pub(crate) fn delete_job(&mut self, account: AccountId, id: &str, now: u64) -> Deleted {
        let Some(job) = self.jobs.get(id).filter(|j| j.account == account) else { return Deleted::NotFound };
        let (status, cost, end) = (job.status(now), job.cost, job.end_ms);
        if status == Status::Processing {
            return Deleted::Processing;
        }
        self.jobs.remove(id);
        self.dirty = true;
        let acct = self.accounts.get_mut(&account);
        let mut refunded = 0;
        if let Some(a) = acct {
            a.job_ids.retain(|j| j != id);
            if status == Status::Pending {
                self.unsettled.remove(&(end, id.to_owned()));
                a.held -= cost;
                a.balance += cost;
                a.refunded += cost;
                a.active -= 1;
                refunded = cost;
            }
        }
        Deleted::Removed { refunded }
    }

    /// A job as the API shows it.
    pub(crate) fn job_json(&self, job: &Job, now: u64) -> Value {
        let status = job.status(now);
        let mut o = Map::new();
        o.insert("id".into(), json!(job.id));
        o.insert("status".into(), json!(status.as_str()));
        o.insert("prompt".into(), json!(job.req.prompt));
        o.insert("mode".into(), json!(job.req.mode));
        o.insert("resolution".into(), json!(job.req.resolution));
        o.insert("duration".into(), json!(job.req.duration));
        if let Some(s) = job.req.seed {
            o.insert("seed".into(), json!(s));
        }
        if let Some(u) = &job.req.image_url {
            o.insert("image_url".into(), json!(u));
        }
        if let Some(u) = &job.req.reference_url {
            o.insert("reference_url".into(), json!(u));
        }
        o.insert("estimated_cost_cents".into(), json!(job.cost));
        o.insert("created_at".into(), json!(clock::rfc3339(self.clock.wall_ms(job.created_ms))));
        let progress = match status {
            Status::Pending => 0,
            Status::Processing => ((now - job.start_ms) * 100 / (job.end_ms - job.start_ms).max(1)).min(99),
            Status::Completed | Status::Failed => 100,
        };
        o.insert("progress".into(), json!(progress));
        match status {
            Status::Completed => {
                o.insert("video_url".into(), json!(format!("{}/files/{}.mp4", self.base_url, job.id)));
                o.insert("cost_cents".into(), json!(job.cost));
            }
            Status::Failed => {
                let message = job.failure.as_deref().unwrap_or(DEFAULT_FAILURE);
                o.insert("error".into(), json!({"code": "generation_failed", "message": message}));
            }
            _ => {}
        }
        Value::Object(o)
    }

    /// `GET /_emulator/ledger`.
    pub(crate) fn ledger_json(&self) -> Value {
        let accounts: Vec<Value> = self
            .accounts
            .values()
            .map(|a| {
                json!({
                    "email": a.email,
                    "deposits_cents": a.deposits,
                    "balance_cents": a.balance,
                    "held_cents": a.held,
                    "spent_cents": a.spent,
                    "refunded_cents": a.refunded,
                    "jobs_created": a.jobs_created,
                    "active_jobs": a.active,
                })
            })
            .collect();
        json!({"now_ms": self.now(), "accounts": accounts})
    }
}

/// base64url without padding (JWT parts).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url() {
        assert_eq!(b64url(b"f"), "Zg");
        assert_eq!(b64url(b"fo"), "Zm8");
        assert_eq!(b64url(b"foo"), "Zm9v");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }
}
