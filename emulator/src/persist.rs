//! The state file (`--state-file`): the whole persistent state as one JSON document, written
//! after every request that changed it. The write goes to a temporary file in the same
//! directory, which is then renamed over the old one (atomic on POSIX), so a SIGKILL at any
//! moment leaves either the previous state or the new one, never half of one.
//!
//! Saved: accounts (tokens, balances, plans, limits, idempotency keys), jobs with their timing,
//! the ledger, the id generator, the job timing generator, the request-id counter, the virtual
//! time and its wall-clock epoch. Not saved: faults and rate-limit windows (a restart starts a
//! fresh minute) and the time scale (the command line's).

use crate::clock::Clock;
use crate::state::{Account, AccountId, Job, State, Token};
use crate::timing::SplitMix64;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The format of the file; another number is refused rather than misread.
const VERSION: u32 = 1;

/// Where the state goes, and the request counter (kept by the HTTP layer) to save with it.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    tmp: PathBuf,
    requests: Arc<AtomicU64>,
}

impl Store {
    pub(crate) fn new(path: PathBuf, requests: Arc<AtomicU64>) -> io::Result<Store> {
        let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the state file needs a file name"))?;
        // Same directory, so the rename never crosses file systems (which would not be atomic).
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(".tmp");
        let tmp = path.with_file_name(tmp_name);
        Ok(Store { path, tmp, requests })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// The file's content.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    version: u32,
    now_ms: u64,
    epoch_ms: u64,
    /// The last request number handed out (`x-request-id`).
    requests: u64,
    timing_rng: u64,
    id_rng: u64,
    next_account: AccountId,
    accounts: BTreeMap<AccountId, Account>,
    tokens: BTreeMap<String, Token>,
    /// Oldest first.
    jobs: Vec<Job>,
    /// Jobs whose completion or failure is not applied to the ledger yet.
    unsettled: Vec<String>,
}

/// Writes the whole state atomically.
pub(crate) fn save(state: &State, store: &Store) -> io::Result<()> {
    let mut jobs: Vec<Job> = state.jobs.values().cloned().collect();
    jobs.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    let snap = Snapshot {
        version: VERSION,
        now_ms: state.now(),
        epoch_ms: state.clock.epoch_ms(),
        requests: store.requests.load(Ordering::SeqCst),
        timing_rng: state.timing_rng.state(),
        id_rng: state.id_rng.state(),
        next_account: state.next_account,
        accounts: state.accounts.clone(),
        tokens: state.tokens.iter().map(|(k, t)| (k.clone(), t.clone())).collect(),
        jobs,
        unsettled: state.unsettled.iter().map(|(_, id)| id.clone()).collect(),
    };
    let bytes = serde_json::to_vec(&snap).map_err(io::Error::other)?;
    write_atomically(&store.path, &store.tmp, &bytes)
}

fn write_atomically(path: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        // The file holds API keys and JWTs.
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(tmp)?;
    f.write_all(bytes)?;
    // No fsync: a killed process loses nothing the kernel already has; only a power cut would,
    // and the emulator is a test tool. It keeps a save at well under a millisecond.
    drop(f);
    fs::rename(tmp, path)
}

/// Reads a state file: `None` if it does not exist (or is empty), an error if it cannot be
/// read, is not a state file, or is not consistent (a hand edit that would break the ledger).
pub(crate) fn load(path: &Path) -> io::Result<Option<Snapshot>> {
    let bytes = match fs::read(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(b) => b,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let snap: Snapshot = serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a state file: {e}")))?;
    check(&snap).map_err(bad)?;
    Ok(Some(snap))
}

fn bad(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The invariants the rest of the emulator relies on (its arithmetic never goes negative).
fn check(s: &Snapshot) -> Result<(), String> {
    if s.version != VERSION {
        return Err(format!("state file version {} (this emulator reads {VERSION})", s.version));
    }
    let jobs: HashMap<&str, &Job> = s.jobs.iter().map(|j| (j.id.as_str(), j)).collect();
    let mut held: HashMap<AccountId, (u64, u64)> = HashMap::new();
    for id in &s.unsettled {
        let j = jobs.get(id.as_str()).ok_or_else(|| format!("unsettled job {id} does not exist"))?;
        let e = held.entry(j.account).or_default();
        e.0 += j.cost;
        e.1 += 1;
    }
    for j in &s.jobs {
        let ordered = j.created_ms <= j.start_ms && j.start_ms <= j.end_ms;
        if !(s.accounts.contains_key(&j.account) && ordered) {
            return Err(format!("job {} is inconsistent", j.id));
        }
    }
    for (id, a) in &s.accounts {
        let (h, active) = held.get(id).copied().unwrap_or_default();
        let balanced = a.deposits.checked_sub(a.balance).and_then(|d| d.checked_sub(a.held)) == Some(a.spent);
        if a.held != h || a.active != active || !balanced || *id >= s.next_account || a.job_ids.iter().any(|j| !jobs.contains_key(j.as_str())) {
            return Err(format!("account {id} ({}) is inconsistent", a.email));
        }
    }
    if let Some((t, _)) = s.tokens.iter().find(|(_, t)| !s.accounts.contains_key(&t.account)) {
        return Err(format!("a token ({}…) belongs to no account", t.chars().take(6).collect::<String>()));
    }
    Ok(())
}

/// Puts a loaded state in place: the clock goes on from the saved time at `state`'s scale.
/// Request ids go on from the next block of 2^32, so ids handed out after the last save (by
/// requests that changed nothing, which are not saved) are not handed out again.
pub(crate) fn restore(snap: Snapshot, state: &mut State, requests: &AtomicU64) {
    state.clock = Clock::resume(state.clock.scale(), snap.now_ms, snap.epoch_ms);
    state.timing_rng = SplitMix64::new(snap.timing_rng);
    state.id_rng = SplitMix64::new(snap.id_rng);
    state.next_account = snap.next_account;
    state.accounts = snap.accounts;
    state.tokens = snap.tokens.into_iter().collect();
    state.jobs = snap.jobs.into_iter().map(|j| (j.id.clone(), j)).collect();
    state.unsettled = snap.unsettled.into_iter().filter_map(|id| state.jobs.get(&id).map(|j| (j.end_ms, id))).collect();
    requests.store(((snap.requests >> 32) + 1) << 32, Ordering::SeqCst);
}

/// `Bytes` as a UTF-8 string in the file (a remembered answer is JSON text).
pub(crate) mod bytes_as_text {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(b))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        String::deserialize(d).map(Bytes::from)
    }
}
