//! # usvideo-core
//!
//! The sans-IO core of the US Video API SDK. It validates, prices, builds requests, parses
//! responses, decides retries and runs the job state machines, and it does **no I/O**: it reads no
//! clock, opens no socket, owns no thread and no entropy. Time ([`Millis`]) and randomness (seeds)
//! come in as arguments, so the same core runs in a browser (wasm), Python, Kotlin, Swift and Rust,
//! each binding adding only its platform's clock and HTTP client.
//!
//! ## Two layers
//! 1. **Pure functions** for the stateless part: [`validate`], [`pricing`] ([`estimate_cost`]),
//!    [`request`] (one builder per endpoint on [`ClientConfig`]), [`response`] (one parser per
//!    endpoint, and every non-2xx to a typed [`Error`]).
//! 2. **State machines** for the stateful part — [`Call`] (one call with retries), [`Create`] (a
//!    create made at most once), [`JobRun`] (wait, create-and-wait) — all driven the same way:
//!
//! ```
//! use usvideo_core::*;
//! let config = ClientConfig::new("http://127.0.0.1:8080/v1").unwrap();
//! let key = ApiKey::new("sd_example_key_0000").unwrap();
//! let mut run = JobRun::wait(&config, Some(&key), "job_1", WaitOptions::default(), 42, Millis(0)).unwrap();
//! let mut now = Millis(0);
//! loop {
//!     match run.poll(now) {
//!         Output::Send { id, request, .. } => {
//!             // A real driver performs `request` with its HTTP client here.
//!             let body = serde_json::json!({"id": "job_1", "status": "completed", "video_url": "http://x/v.mp4"});
//!             run.handle_response(id, HttpResponse::json(200, &body), now);
//!         }
//!         Output::Event(_event) => {}              // progress, retries, status changes
//!         Output::WaitUntil(t) => now = t,         // a real driver sleeps until `t`
//!         Output::Pending => {}                    // a request is in flight
//!         Output::Done => break,
//!         _ => break,
//!     }
//! }
//! assert_eq!(run.take_result().unwrap().status, JobStatus::Completed);
//! ```
//!
//! The core never panics on anything a caller or a server sends (clippy denies `unwrap`, `expect`,
//! `panic!` and indexing here): misuse is an [`ErrorKind::Usage`] error or a `Warning` event.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::unreachable, clippy::todo, clippy::unimplemented))]

// `Error` is one flat record on purpose (it crosses three FFIs unchanged, see error.rs), and errors
// are the cold path: boxing it would cost every binding a conversion for no measurable gain.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub mod batch;
pub mod call;
pub mod claims;
pub mod create;
pub mod date;
pub mod decimal;
pub mod error;
pub mod http;
pub mod job;
pub mod json;
pub mod machine;
pub mod model;
pub mod output;
pub mod pace;
pub mod pages;
pub mod pricing;
pub mod per_key;
pub mod ratelimit;
pub mod readers;
pub mod request;
pub mod response;
pub mod retry;
pub mod schedule;
pub mod secret;
pub mod time;
#[cfg(test)]
mod testkit;
pub mod validate;
pub mod writers;

pub use batch::{Batch, BatchOptions, BatchProgress, BatchSnapshot, BatchSummary, ItemResult};
pub use call::Call;
pub use create::Create;
pub use error::{Error, ErrorKind};
pub use json::Json;
pub use http::{Header, HttpRequest, HttpResponse, Method, TransportKind, MAX_RESPONSE_BYTES};
pub use job::{JobRun, WaitOptions};
pub use machine::Machine;
pub use model::{Account, CreateVideoRequest, CreatedApiKey, DeleteResult, Job, JobError, JobPage, JobStatus, ListParams, Mode, Resolution};
pub use output::{Event, Output, Progress, RequestId};
pub use pages::PageWalk;
pub use pricing::{estimate_cost, PricingTable};
pub use ratelimit::{Limits, RateLimiter};
pub use request::{ClientConfig, Endpoint, IdempotencyKey, DEFAULT_BASE_URL};
pub use retry::{RetryPolicy, Rng};
pub use schedule::PollPolicy;
pub use secret::{ApiKey, Jwt};
pub use time::Millis;
pub use validate::{Issue, IssueCode};
pub use readers::FromJson;
pub use writers::ToJson;
