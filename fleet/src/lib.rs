//! Fleet simulation (issue 8): the core's batch scheduler and the peers' polling loops against a
//! deterministic model of the service, on virtual time. See `RESULTS.md` for the figures and
//! `src/bin/fleet-sim.rs` for the run that writes them.

pub mod policies;
pub mod report;
pub mod service;
