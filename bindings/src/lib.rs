//! # usvideo-uniffi
//!
//! The uniffi layer of the US Video SDK for Kotlin (JVM, Android) and Swift (Apple platforms).
//!
//! **No HTTP stack in here.** The mobile library exports the sans-IO core and nothing else:
//! pure functions (validation, pricing, request builders, response parsers) and the core's
//! synchronous state machines behind one [`Machine`] object. Kotlin and Swift each carry a
//! ~40-line driver loop that does the I/O with the platform's own HTTP client (`HttpURLConnection`
//! or OkHttp, `URLSession`), reads the platform's monotonic clock and sleeps with the platform's
//! timers (`delay`, `Task.sleep`). See `bindings/README.md` for why this shape and not a foreign
//! transport trait driven by an async Rust function.
//!
//! Every export is a conversion, one core call and an error mapping. Nothing here decides
//! anything about the domain (retries, deadlines, reconciliation, error classes): the core does.
//!
//! Panics: the core never panics on input (clippy denies it there); should one happen anyway,
//! uniffi catches it at the boundary (native profiles unwind) and the Kotlin/Swift wrappers turn
//! it into the library's own `InternalError`. A poisoned machine lock is recovered, never
//! propagated as a second panic.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

uniffi::setup_scaffolding!();

mod client;
mod error;
mod functions;
mod limiter;
mod machine;
mod pages;

pub use client::CoreClient;
pub use error::UsVideoError;
pub use functions::*;
pub use limiter::RateLimiter;
pub use machine::Machine;
pub use pages::PageWalk;
