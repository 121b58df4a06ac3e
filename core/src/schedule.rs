//! When to poll a job: sparse early, denser near the expected finish, backing off when overdue.
//!
//! Peers poll every 0.1–1 s and burn the 60 requests a minute on status checks (FLEET.md). Here the
//! next poll comes after half the expected remaining time, clamped to `[min, max]`, so a job is
//! checked a handful of times and most often right around when it should finish. The expected
//! time comes from the service's `progress` when it reports one (remaining ≈ elapsed × (100 − p) / p),
//! else from a model of generation time by resolution and duration (*assumption*: the emulator's
//! documented model, FLEET.md; the real service publishes none), scaled by a factor the caller can
//! learn from finished jobs.

use crate::model::{Job, JobStatus, Resolution};
use crate::error::Error;
use crate::validate::{option_rules, scale_ok, MAX_GAP_MS};
use serde::Serialize;

/// The knobs of the poll schedule.
#[derive(Copy, Clone, Debug, PartialEq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
// Every field defaults: a partial object is these defaults with its fields laid over (how every
// binding passes options), read in one pass with no merge.
#[serde(default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PollPolicy {
    /// The first poll after submitting, in ms (default 3000), or after the wait starts (0); never
    /// later than half the job's expected time, so that a faster service (`expected_scale` below
    /// 1) is first polled sooner too.
    pub first_poll_ms: u64,
    /// Shortest gap between polls, in ms (default 2000).
    pub min_interval_ms: u64,
    /// Longest gap between polls, in ms (default 20 000).
    pub max_interval_ms: u64,
    /// Multiplies the model's expected time. Left at 1.0 (the default), a wait uses what the
    /// client's earlier create-and-waits learned of the service's speed, if anything
    /// ([`crate::pace`]); any other value is kept.
    pub expected_scale: f64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy { first_poll_ms: 3_000, min_interval_ms: 2_000, max_interval_ms: 20_000, expected_scale: 1.0 }
    }
}

impl PollPolicy {
    /// The defaults with the gaps a caller gave (`None`: not given). A longest gap given alone
    /// below the default shortest one (2000) lowers that default with it: `max 1000` asks for
    /// polls at most a second apart, not for a refusal; and a shortest gap given alone above the
    /// default longest one (20 000) raises it. Both given are kept as they are (and checked).
    #[must_use]
    pub fn with_gaps(self, min_interval_ms: Option<u64>, max_interval_ms: Option<u64>) -> Self {
        let max = max_interval_ms.unwrap_or_else(|| self.max_interval_ms.max(min_interval_ms.unwrap_or(0)));
        let min = min_interval_ms.unwrap_or_else(|| self.min_interval_ms.min(max));
        PollPolicy { min_interval_ms: min, max_interval_ms: max, ..self }
    }
}

/// The model's expected time from submission to completion, in ms: a mean queue time of 3 s plus
/// `base + per_second × duration` seconds of generation (720p 20 + 6/s, 1080p 30 + 9/s, 2k 40 + 12/s).
#[must_use]
pub fn expected_total_ms(resolution: Resolution, duration: u32) -> u64 {
    let (base, per_s) = match resolution {
        Resolution::P720 => (20, 6),
        Resolution::P1080 => (30, 9),
        Resolution::K2 => (40, 12),
    };
    (3 + base + per_s * u64::from(duration)) * 1000
}

/// The model's expected total time of `job` ([`expected_total_ms`]), unscaled; a job that does not
/// say its resolution or duration is taken to have the service's defaults.
#[must_use]
pub fn model_ms(job: Option<&Job>) -> u64 {
    let resolution = job.and_then(|j| j.resolution).unwrap_or_default();
    let duration = job.and_then(|j| j.duration).unwrap_or(crate::model::DEFAULT_DURATION);
    expected_total_ms(resolution, duration)
}

impl PollPolicy {
    /// The rules of a poll policy (a wait's `poll`): `first_poll_ms` at most a day;
    /// `min_interval_ms` from 1 ms to a day; `max_interval_ms` from `min_interval_ms` to a day
    /// (below it the schedule would poll at the minimum for ever, spending the rate limit);
    /// `expected_scale` above 0 and at most [`crate::validate::MAX_SCALE`] (20).
    ///
    /// # Errors
    /// A validation error naming every broken rule's field (`poll.max_interval_ms`).
    pub fn check(&self) -> Result<(), Error> {
        // The two gaps as given (helper-44: "from poll.min_interval_ms (default 2000)" read as if
        // the shortest gap set to 30000 had been ignored).
        let gaps = format!(
            "poll.max_interval_ms ({}) must be from poll.min_interval_ms ({}) to 86400000 ms (a day)",
            self.max_interval_ms, self.min_interval_ms
        );
        option_rules(&[
            (self.first_poll_ms > MAX_GAP_MS, "poll.first_poll_ms", "poll.first_poll_ms must be at most 86400000 ms (a day)"),
            (!(1..=MAX_GAP_MS).contains(&self.min_interval_ms), "poll.min_interval_ms", "poll.min_interval_ms must be from 1 to 86400000 ms (a day)"),
            (!(self.min_interval_ms..=MAX_GAP_MS).contains(&self.max_interval_ms), "poll.max_interval_ms", &gaps),
            (!scale_ok(self.expected_scale), "poll.expected_scale", "poll.expected_scale must be a number above 0 and at most 20"),
        ])
    }

    /// The expected total time of `job` under this policy's scale.
    #[must_use]
    pub fn expected_ms(&self, job: Option<&Job>) -> u64 {
        let scale = if self.expected_scale.is_finite() && self.expected_scale > 0.0 { self.expected_scale } else { 1.0 };
        // The product is bounded (≤ 163 s × a finite scale) and then clamped, so the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let ms = ((model_ms(job) as f64) * scale).clamp(1.0, 86_400_000.0) as u64;
        ms
    }

    /// The gap between submitting `job` and its first poll: `first_poll_ms`, but at most half
    /// its expected time (under a scale of 1/15 a 5 s 720p job is expected in ~3.5 s: polled at
    /// ~1.8 s, not 3 s, the default meant for jobs of a minute).
    #[must_use]
    pub fn first_delay_ms(&self, job: Option<&Job>) -> u64 {
        self.first_poll_ms.min(self.expected_ms(job) / 2)
    }

    /// The gap before the next poll, given the job as last seen, the time since it was submitted,
    /// and how many polls in a row found it past its expected time.
    #[must_use]
    pub fn next_delay_ms(&self, job: Option<&Job>, elapsed_ms: u64, overdue_polls: u32) -> u64 {
        let min = self.min_interval_ms.max(1);
        let max = self.max_interval_ms.max(min);
        let remaining = match job.map(|j| (&j.status, j.progress)) {
            Some((JobStatus::Processing, Some(p))) if (1..100).contains(&p) => elapsed_ms.saturating_mul(u64::from(100 - p)) / u64::from(p),
            _ => self.expected_ms(job).saturating_sub(elapsed_ms),
        };
        if remaining == 0 {
            // Overdue: back off geometrically from the minimum (×1.5 per poll) up to the maximum.
            let factor = 1.5f64.powi(i32::try_from(overdue_polls.min(30)).unwrap_or(30));
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let d = ((min as f64) * factor).min(max as f64) as u64;
            return d.clamp(min, max);
        }
        (remaining / 2).clamp(min, max)
    }

    /// An estimate of progress, 0–100, for a job seen `elapsed_ms` after submission.
    #[must_use]
    pub fn estimate_percent(&self, job: &Job, elapsed_ms: u64) -> u8 {
        match job.status {
            JobStatus::Completed => 100,
            JobStatus::Pending => 0,
            JobStatus::Failed => job.progress.unwrap_or(0).min(100),
            _ => job.progress.map_or_else(
                || {
                    let expected = self.expected_ms(Some(job)).max(1);
                    u8::try_from((elapsed_ms.saturating_mul(100) / expected).min(99)).unwrap_or(99)
                },
                |p| p.min(99),
            ),
        }
    }
}
