//! What a client's waits have learned of how fast the service finishes jobs: the scale of the
//! poll schedule's expected times ([`crate::schedule`]), shared by the waits of one client, so
//! that its next wait polls close to when its job will really finish.
//!
//! A batch learns its own scale from its finished items; a single wait learns nothing from its
//! own job (it ends when the job does), so the lesson must outlive it: this is where it is kept.
//!
//! # Rules
//! 1. Only a create-and-wait learns, from its own job: the time from the create's first send to
//!    the poll that saw the job completed, divided by the model's expected time for the job's
//!    resolution and duration. A job adopted from the job list (its create's answer was lost) ran
//!    from before the run knew of it; a job only waited for (`wait(id)`) was made at a time this
//!    client does not know; a failed or cancelled job says nothing of the time a finished one
//!    takes. None of these is learned from.
//! 2. Each lesson moves the scale by three tenths of the way to it (as a batch does,
//!    [`crate::batch`]): one slow job does not undo many, and a service that changes speed is
//!    followed within a few jobs. The scale stays within [`crate::validate::MIN_SCALE`] and
//!    [`crate::validate::MAX_SCALE`].
//! 3. A wait (a create-and-wait or a `wait`) whose caller left `poll.expected_scale` at 1, the
//!    default, uses the learned scale, if any, from its start; one given another scale keeps it.
//!    (A caller cannot tell the SDK "exactly 1" apart from the default; give 1.0001 for that.)
//! 4. The lesson is seen late by up to one poll gap, so the scale leans slow by that much: the
//!    schedule still polls densely near the expected finish and backs off past it.
//!
//! One value per client (clones share it), not per key or base URL in the process as the claims
//! and the rate limiter are: those keep promises (one job a create, the service's limit) that
//! clients sharing a key must keep together, where this only saves polls. So a client made per
//! request learns nothing, and each client's runs are as reproducible as its own history (the
//! conformance transcripts each make a client). No clock or thread: times are passed in by the run.

use crate::validate::kept_scale;
use std::sync::{Arc, Mutex, PoisonError};

/// The learned scale of a service's expected times (rules at the top). Cheap to clone: clones
/// share one value.
#[derive(Clone, Debug, Default)]
pub struct Pace(Arc<Mutex<Option<f64>>>);

impl Pace {
    /// A pace that has learned nothing: a new client's.
    #[must_use]
    pub fn new() -> Self {
        Pace::default()
    }

    /// The learned scale, if a job has been learned from.
    #[must_use]
    pub fn scale(&self) -> Option<f64> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Learns from a job that took `actual_ms` where the model expected `model_ms` (rule 2).
    pub(crate) fn learn(&self, actual_ms: u64, model_ms: u64) {
        let mut scale = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(next) = lesson(scale.unwrap_or(1.0), actual_ms, model_ms) {
            *scale = Some(next);
        }
    }
}

/// The scale after a job that took `actual_ms` where the model expected `model_ms`, from `before`:
/// three tenths of the way to the job's own ratio (rule 2), within the kept bounds. The one rule
/// of learning, a batch's ([`crate::batch`]) and a client's waits' alike.
pub(crate) fn lesson(before: f64, actual_ms: u64, model_ms: u64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // times in ms: far below 2^52
    let ratio = actual_ms as f64 / model_ms.max(1) as f64;
    kept_scale(0.7 * before + 0.3 * ratio)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_move_the_scale_three_tenths_of_the_way_and_stay_in_bounds() {
        let pace = Pace::new();
        assert_eq!(pace.scale(), None);
        pace.learn(26_500, 53_000); // a job in half the model's time
        assert!((pace.scale().unwrap() - 0.85).abs() < 1e-9);
        let clone = pace.clone();
        clone.learn(26_500, 53_000);
        assert!((pace.scale().unwrap() - 0.745).abs() < 1e-9, "clones share one value");
        for _ in 0..200 {
            pace.learn(u64::MAX, 1);
        }
        assert_eq!(pace.scale(), Some(crate::validate::MAX_SCALE));
        for _ in 0..200 {
            pace.learn(0, 0);
        }
        assert_eq!(pace.scale(), Some(crate::validate::MIN_SCALE));
    }
}
