//! The fuzz targets' logic. Each target in `fuzz_targets/` is one line calling
//! [`checks::run`]; the checks themselves live in `src/checks/`, which
//! `core/tests/fuzz_regressions.rs` includes with `#[path]` so that every file under
//! `fuzz/regressions/<target>/` (and a sample of `fuzz/corpus/<target>/`) is replayed on stable Rust
//! by `cargo test -p usvideo-core`. The checks therefore use only what `usvideo-core`'s tests can:
//! `usvideo_core` and `serde_json` (structured input is decoded by a small cursor, not `arbitrary`).

pub mod checks;
