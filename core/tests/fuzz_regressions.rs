//! Replays the fuzzers' findings on stable Rust: every file under `fuzz/regressions/<target>/` (the
//! minimised inputs that once broke an invariant) and a sample of `fuzz/corpus/<target>/`, through
//! the very checks the libFuzzer targets run (`fuzz/src/checks/`, included here by path). Plus a
//! direct test for each bug the vectors do not pin down.

#[allow(dead_code, unreachable_pub, clippy::all)]
#[path = "../../fuzz/src/checks/mod.rs"]
mod checks;

use std::path::{Path, PathBuf};
use usvideo_core::{response, Header, HttpResponse, RateLimiter, RetryPolicy};

/// Corpus files replayed per target (the whole corpus runs under `scripts/fuzz`).
const CORPUS_SAMPLE: usize = 40;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect()).unwrap_or_default();
    out.sort();
    out
}

fn replay(target: &str, file: &Path) {
    let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let outcome = std::panic::catch_unwind(|| checks::run(target, &data));
    assert!(outcome.is_ok(), "{target}: {} breaks an invariant (replay it: cargo +nightly fuzz run {target} {})", file.display(), file.display());
}

#[test]
fn every_regression_replays_clean() {
    let root = fuzz_dir().join("regressions");
    let mut n = 0;
    for dir in files_and_dirs(&root) {
        let target = dir.file_name().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        assert!(checks::TARGETS.contains(&target.as_str()), "regressions/{target}: no such fuzz target");
        for file in files(&dir) {
            replay(&target, &file);
            n += 1;
        }
    }
    assert!(n > 0, "no regression inputs found under {}", root.display());
}

#[test]
fn a_corpus_sample_replays_clean() {
    let root = fuzz_dir().join("corpus");
    for target in checks::TARGETS {
        let all = files(&root.join(target));
        // An even spread over the (hash-named, so unordered) corpus.
        let step = (all.len() / CORPUS_SAMPLE).max(1);
        for file in all.iter().step_by(step).take(CORPUS_SAMPLE) {
            replay(target, file);
        }
    }
}

fn files_and_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect()).unwrap_or_default();
    out.sort();
    out
}

#[test]
fn every_target_has_a_seeded_corpus() {
    for target in checks::TARGETS {
        assert!(!files(&fuzz_dir().join("corpus").join(target)).is_empty(), "fuzz/corpus/{target} is empty");
    }
}

fn with_retry_after(value: &str) -> HttpResponse {
    HttpResponse { status: 429, headers: vec![Header::new("Retry-After", value)], body: Vec::new() }
}

#[test]
fn absurd_retry_after_is_capped_and_never_blocks_for_ever() {
    for v in ["99999999999999999999", "18446744073709551615", "1e30", "99999999999999999999.5", "Sun, 06 Nov 99999999999999 08:49:40 GMT"] {
        let ms = response::retry_after_ms(&with_retry_after(v));
        assert!(ms.is_none_or(|ms| ms <= response::MAX_RETRY_AFTER_MS), "{v}: {ms:?}");
        let mut limiter = RateLimiter::new(60);
        limiter.observe(&with_retry_after(v), usvideo_core::Millis(5));
        assert!(limiter.next_free(usvideo_core::Millis(5)).0 <= 5 + RetryPolicy::default().max_retry_after_ms);
    }
    // Too long for a u64 is still "very long", not "absent".
    assert_eq!(response::retry_after_ms(&with_retry_after("99999999999999999999")), Some(response::MAX_RETRY_AFTER_MS));
    assert_eq!(response::retry_after_ms(&with_retry_after("3")), Some(3_000));
}

#[test]
fn redaction_is_linear_on_a_huge_error_body() {
    // A 4 MiB error message made of key prefixes: was quadratic (minutes); must take milliseconds.
    let message = "sd_ ".repeat(1 << 20);
    let body = serde_json::json!({ "error": { "message": message } }).to_string();
    let started = std::time::Instant::now();
    let e = response::error_from_response(&HttpResponse { status: 500, headers: Vec::new(), body: body.into_bytes() });
    assert!(started.elapsed().as_secs() < 5, "redaction took {:?}", started.elapsed());
    assert!(!e.message.is_empty());
}
