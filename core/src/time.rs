//! Time as plain integers. The core never reads a clock: every input carries the caller's `now`.

use serde::{Deserialize, Serialize};

/// Monotonic milliseconds on an epoch the host chooses (`performance.now()`, `time.monotonic()`,
/// `Instant` since start). The core never reads a clock; it only compares and adds these.
///
/// Kept below 2^53 by every computation in the core, so it stays an exact JS `number`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Millis(pub u64);

#[cfg(feature = "uniffi")]
uniffi::custom_newtype!(Millis, u64);

impl Millis {
    /// The largest instant the core hands out: 2^53 − 1, the largest exact JS integer.
    pub const MAX: Millis = Millis((1 << 53) - 1);

    /// `self + ms`, saturating at [`Millis::MAX`].
    #[must_use]
    pub fn plus(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms).min(Millis::MAX.0))
    }

    /// Milliseconds from `earlier` to `self`, or 0 when `earlier` is later (time never runs back here).
    #[must_use]
    pub fn since(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}
