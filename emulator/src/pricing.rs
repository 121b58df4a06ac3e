//! The price table, written from the reference (dollars per second of video), kept in integer
//! cents so the emulator's arithmetic is exact.

/// Resolutions the service accepts, matched exactly (`2k`, not `2K`).
pub(crate) const RESOLUTIONS: [&str; 3] = ["720p", "1080p", "2k"];

/// Cents per second of video.
pub(crate) fn cents_per_second(resolution: &str) -> Option<u64> {
    match resolution {
        "720p" => Some(6),
        "1080p" => Some(24),
        "2k" => Some(36),
        _ => None,
    }
}

/// The estimated (and, on completion, actual) cost of a job in cents.
pub(crate) fn cost_cents(resolution: &str, duration: u64) -> Option<u64> {
    cents_per_second(resolution).map(|c| c * duration)
}

/// The body of `GET /v1/pricing`, exactly as the reference shows it.
pub(crate) fn table() -> serde_json::Value {
    serde_json::json!({
        "720p": {"per_second": 0.06},
        "1080p": {"per_second": 0.24},
        "2k": {"per_second": 0.36},
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reference_example() {
        assert_eq!(super::cost_cents("1080p", 5), Some(120));
        assert_eq!(super::cost_cents("2K", 5), None);
    }
}
