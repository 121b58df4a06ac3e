//! What every fuzz target checks, shared by the libFuzzer targets (`fuzz/fuzz_targets/`) and the
//! stable replay test (`core/tests/fuzz_regressions.rs`, which includes this module by `#[path]`).
//!
//! Every check panics on a broken invariant (libFuzzer reports the panic as a crash; the replay
//! test as a failure). Besides "never panics", each states what must hold of the result.

pub mod input;
pub mod limiter;
pub mod machines;
pub mod parsers;

/// Every target, by the name of its `fuzz_targets/<name>.rs`, `corpus/<name>/` and
/// `regressions/<name>/`.
pub const TARGETS: &[&str] = &[
    "parse_job",
    "parse_job_page",
    "parse_account",
    "parse_pricing",
    "parse_created_api_key",
    "parse_delete",
    "error_from_response",
    "retry_after",
    "http_date",
    "validate_create",
    "validate_loose",
    "pricing_table",
    "machine_call",
    "machine_create",
    "machine_job_run",
    "machine_batch",
    "rate_line",
];

/// Runs target `target` on one input.
///
/// # Panics
/// When an invariant breaks (that is the point), or for an unknown target name.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "parse_job" => parsers::parse_job(data),
        "parse_job_page" => parsers::parse_job_page(data),
        "parse_account" => parsers::parse_account(data),
        "parse_pricing" => parsers::parse_pricing(data),
        "parse_created_api_key" => parsers::parse_created_api_key(data),
        "parse_delete" => parsers::parse_delete(data),
        "error_from_response" => parsers::error_from_response(data),
        "retry_after" => parsers::retry_after(data),
        "http_date" => parsers::http_date(data),
        "validate_create" => parsers::validate_create(data),
        "validate_loose" => parsers::validate_loose(data),
        "pricing_table" => parsers::pricing_table(data),
        "machine_call" => machines::call(data),
        "machine_create" => machines::create(data),
        "machine_job_run" => machines::job_run(data),
        "machine_batch" => machines::batch(data),
        "rate_line" => limiter::line(data),
        other => panic!("unknown fuzz target `{other}`"),
    }
}
