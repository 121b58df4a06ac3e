//! Job timing (the model of FLEET.md, so the fleet simulation and the emulator agree) and the
//! small PRNG behind it. Self-written so a seed gives the same jobs on every platform and
//! version, with no `rand` dependency.

/// SplitMix64: tiny, fast, and good enough for jitter and ids.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The whole generator state: saved to the state file so a restart goes on with the same
    /// sequence (no id handed out twice, the same job timings as without the restart).
    pub(crate) fn state(&self) -> u64 {
        self.0
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller; the second value is thrown away to keep the state simple).
    pub(crate) fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]: ln is finite
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// `n` random lowercase hex characters.
    pub(crate) fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(n);
        s
    }
}

/// How long a job waits and works, in virtual milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JobTiming {
    pub(crate) pending_ms: u64,
    pub(crate) processing_ms: u64,
}

/// Spread of the log-normal jitter on the generation time. FLEET.md writes exp(N(0, 0.25));
/// read as N(mean, variance) that is σ = 0.5, the reading that reproduces FLEET.md's bound and
/// oracle figures and the one the fleet model uses (`fleet/src/service.rs`, `DEFAULT_SIGMA`).
/// `fleet-vs-emulator` showed the two disagreeing by 9 % in makespan while this was 0.25.
const JITTER_SIGMA: f64 = 0.5;

/// Pending for U(1, 5) s, then processing for (base + per_s × duration) × exp(σ·N(0, 1)) s.
pub(crate) fn sample(rng: &mut SplitMix64, resolution: &str, duration: u64) -> JobTiming {
    let (base, per_s) = match resolution {
        "1080p" => (30.0, 9.0),
        "2k" => (40.0, 12.0),
        _ => (20.0, 6.0),
    };
    let pending_s = 1.0 + 4.0 * rng.next_f64();
    let processing_s = (base + per_s * duration as f64) * (JITTER_SIGMA * rng.next_normal()).exp();
    JobTiming { pending_ms: (pending_s * 1000.0).round() as u64, processing_ms: (processing_s * 1000.0).round().max(1.0) as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_timings() {
        let (mut a, mut b) = (SplitMix64::new(7), SplitMix64::new(7));
        for _ in 0..10 {
            assert_eq!(sample(&mut a, "1080p", 5), sample(&mut b, "1080p", 5));
        }
    }

    #[test]
    fn timings_follow_the_model() {
        let mut rng = SplitMix64::new(1);
        let n = 4000;
        let mut sum = 0.0;
        for _ in 0..n {
            let t = sample(&mut rng, "720p", 5);
            assert!((1000..=5000).contains(&t.pending_ms));
            sum += (t.processing_ms as f64 / 50_000.0).ln();
        }
        // log(G / median) has mean 0.
        assert!((sum / n as f64).abs() < 0.02, "{}", sum / n as f64);
    }
}
