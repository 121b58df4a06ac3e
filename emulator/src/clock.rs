//! The virtual clock: every timestamp the emulator uses (job progress, rate-limit windows,
//! idempotency expiry, `created_at`) comes from here, so tests can freeze or fast-forward time
//! instead of sleeping.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Virtual time in milliseconds since the emulator started (or was reset).
///
/// `now = virtual_at_anchor + real_elapsed_since_anchor × scale + advanced`. The anchor moves
/// whenever the scale changes, so changing the speed never makes time jump or run backwards.
#[derive(Debug)]
pub(crate) struct Clock {
    anchor: Instant,
    virtual_at_anchor_ms: f64,
    scale: f64,
    advanced_ms: u64,
    /// Wall-clock time (Unix ms) at virtual 0: `created_at` = this + virtual now.
    epoch_ms: u64,
}

impl Clock {
    pub(crate) fn new(scale: f64) -> Self {
        let epoch_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        Clock { anchor: Instant::now(), virtual_at_anchor_ms: 0.0, scale: sanitize(scale), advanced_ms: 0, epoch_ms }
    }

    /// A clock that goes on from `now_ms` (a state file's), at a new scale, with the saved
    /// wall-clock epoch so `created_at` of older jobs does not move.
    pub(crate) fn resume(scale: f64, now_ms: u64, epoch_ms: u64) -> Self {
        Clock { anchor: Instant::now(), virtual_at_anchor_ms: now_ms as f64, scale: sanitize(scale), advanced_ms: 0, epoch_ms }
    }

    /// Wall-clock Unix milliseconds at virtual 0.
    pub(crate) fn epoch_ms(&self) -> u64 {
        self.epoch_ms
    }

    /// Virtual milliseconds since start.
    pub(crate) fn now_ms(&self) -> u64 {
        let real = self.anchor.elapsed().as_secs_f64() * 1000.0;
        (self.virtual_at_anchor_ms + real * self.scale).floor() as u64 + self.advanced_ms
    }

    /// Moves virtual time on by `ms` at once.
    pub(crate) fn advance(&mut self, ms: u64) {
        self.advanced_ms = self.advanced_ms.saturating_add(ms);
    }

    pub(crate) fn scale(&self) -> f64 {
        self.scale
    }

    /// Changes the speed from now on (0 freezes the clock).
    pub(crate) fn set_scale(&mut self, scale: f64) {
        let real = self.anchor.elapsed().as_secs_f64() * 1000.0;
        self.virtual_at_anchor_ms += real * self.scale;
        self.anchor = Instant::now();
        self.scale = sanitize(scale);
    }

    /// Wall-clock Unix milliseconds for a virtual timestamp.
    pub(crate) fn wall_ms(&self, virtual_ms: u64) -> u64 {
        self.epoch_ms.saturating_add(virtual_ms)
    }
}

/// Negative, NaN or infinite scales are refused at the edges; this is the last guard.
fn sanitize(scale: f64) -> f64 {
    if scale.is_finite() && scale >= 0.0 { scale } else { 0.0 }
}

/// Whether a user-supplied time scale is acceptable.
pub(crate) fn valid_scale(scale: f64) -> bool {
    scale.is_finite() && (0.0..=1_000_000.0).contains(&scale)
}

/// RFC 3339 UTC with a `Z`, second precision (`2026-04-21T15:30:00Z`).
pub(crate) fn rfc3339(unix_ms: u64) -> String {
    let (_, (y, m, d), rem) = split(unix_ms);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// An HTTP date (IMF-fixdate, `Tue, 21 Apr 2026 15:30:00 GMT`), for the `Date` header: read off
/// the virtual clock like `created_at`, so that a client comparing the two (the SDK's age check
/// of a job found by reconciliation) sees one clock, frozen or sped up alike.
pub(crate) fn http_date(unix_ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // 1970-01-01 was a Thursday
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (days, (y, m, d), rem) = split(unix_ms);
    let day = DAYS[(days % 7) as usize];
    let month = MONTHS[(m - 1) as usize];
    format!("{day}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Unix milliseconds as whole days since 1970, that day's date, and the seconds into it: what both
/// date formats above are written from.
fn split(unix_ms: u64) -> (i64, (i64, u32, u32), u64) {
    let secs = unix_ms / 1000;
    let days = (secs / 86_400) as i64;
    (days, civil_from_days(days), secs % 86_400)
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_776_785_400_000), "2026-04-21T15:30:00Z");
        assert_eq!(rfc3339(951_782_400_999), "2000-02-29T00:00:00Z");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_776_785_400_000), "Tue, 21 Apr 2026 15:30:00 GMT");
        assert_eq!(http_date(951_782_400_999), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let mut c = Clock::new(0.0);
        assert_eq!(c.now_ms(), 0);
        c.advance(1500);
        assert_eq!(c.now_ms(), 1500);
        c.set_scale(0.0);
        assert_eq!(c.now_ms(), 1500);
    }

    #[test]
    fn a_resumed_clock_goes_on_from_the_saved_time() {
        let c = Clock::resume(0.0, 123_456_789, 42);
        assert_eq!((c.now_ms(), c.wall_ms(1)), (123_456_789, 43));
    }
}
