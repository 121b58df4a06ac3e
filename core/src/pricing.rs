//! Pricing: exact decimal arithmetic on integer nano-dollars, rounded up to whole cents.
//!
//! The service quotes dollars per second (`0.24`). Binary floating point cannot hold 0.24, and
//! `0.24 * 100 * 5` is `119.99999999999999` in an f64: a naive SDK bills 119 or 120 by luck. Here the
//! decimal text of each price is read digit by digit into nano-dollars (10^-9 $), and every
//! product is an integer, rounded up to a whole cent only at the end.

use crate::model::{CreateVideoRequest, Resolution, MAX_DURATION, MIN_DURATION};
use crate::validate::{Issue, IssueCode};
use serde::{Deserialize, Serialize};
use crate::json::Json;
pub use crate::decimal::{format_decimal_nanos, parse_decimal_nanos};

/// Nano-dollars per cent.
const NANOS_PER_CENT: u64 = 10_000_000;
/// Money stays within 2^53 so it is an exact JS `number`.
pub const MAX_SAFE_CENTS: u64 = (1 << 53) - 1;

/// The price of one second of video at one resolution.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Price {
    /// The resolution.
    pub resolution: Resolution,
    /// Dollars per second × 10^9 (0.24 $/s is 240 000 000).
    pub per_second_nanodollars: u64,
}

/// A price for each resolution. [`PricingTable::builtin`] is the reference's table; the service's
/// own (`GET /v1/pricing`) replaces it with [`PricingTable::from_json`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PricingTable {
    /// One price per resolution the table knows.
    pub prices: Vec<Price>,
}

impl Default for PricingTable {
    fn default() -> Self {
        Self::builtin()
    }
}

impl PricingTable {
    /// The reference's table: 720p $0.06/s, 1080p $0.24/s, 2k $0.36/s.
    #[must_use]
    pub fn builtin() -> Self {
        PricingTable {
            prices: vec![
                Price { resolution: Resolution::P720, per_second_nanodollars: 60_000_000 },
                Price { resolution: Resolution::P1080, per_second_nanodollars: 240_000_000 },
                Price { resolution: Resolution::K2, per_second_nanodollars: 360_000_000 },
            ],
        }
    }

    /// The price per second of `resolution`, if the table has one.
    #[must_use]
    pub fn per_second(&self, resolution: Resolution) -> Option<u64> {
        self.prices.iter().find(|p| p.resolution == resolution).map(|p| p.per_second_nanodollars)
    }

    /// Reads the service's table `{"720p": {"per_second": 0.06}, …}` exactly. Resolutions this SDK
    /// does not know are skipped (a new tier must not break old clients).
    ///
    /// # Errors
    /// A message when the body is not that shape, a price is negative, has more than nine decimals,
    /// or a known resolution is missing.
    pub fn from_json(value: &Json) -> Result<Self, String> {
        if !value.is_object() {
            return Err("pricing must be a JSON object".to_owned());
        }
        let mut prices = Vec::new();
        for r in Resolution::ALL {
            let entry = value.get(r.as_str()).ok_or_else(|| format!("pricing has no entry for {r} (a table needs one for each of 720p, 1080p and 2k)"))?;
            let per_second = entry.get("per_second").ok_or_else(|| format!("pricing for {r} has no per_second"))?;
            let Json::Number(n) = per_second else {
                return Err(format!("per_second for {r} is not a number"));
            };
            let nanos = parse_decimal_nanos(n).ok_or_else(|| format!("per_second for {r} is not a price: {n}"))?;
            prices.push(Price { resolution: r, per_second_nanodollars: nanos });
        }
        Ok(PricingTable { prices })
    }

    /// The table in the service's wire shape (`{"720p": {"per_second": 0.06}, …}`).
    #[must_use]
    pub fn to_json(&self) -> Json<'static> {
        let prices = self.prices.iter().map(|p| {
            let price = Json::Object(vec![("per_second".into(), Json::Number(format_decimal_nanos(p.per_second_nanodollars).into()))]);
            (p.resolution.as_str().into(), price)
        });
        Json::Object(prices.collect())
    }

    /// The cost in cents of `duration` seconds at `resolution`, rounded up to a whole cent.
    ///
    /// # Errors
    /// An issue on `duration` (outside 1 to 10) or `resolution` (not in this table), or on `cost`
    /// if the result would exceed 2^53 − 1 cents.
    pub fn estimate(&self, resolution: Resolution, duration: u32) -> Result<u64, Issue> {
        if !(MIN_DURATION..=MAX_DURATION).contains(&duration) {
            return Err(Issue::new("duration", IssueCode::OutOfRange, format!("duration must be a whole number of seconds from {MIN_DURATION} to {MAX_DURATION}")));
        }
        let per_second = self.per_second(resolution).ok_or_else(|| Issue::new("resolution", IssueCode::InvalidChoice, format!("no price for {resolution}")))?;
        // ⌈per_second × duration / 10^7⌉ in u64 without overflow: whole cents times the duration
        // (≤ 1.9e13), plus the remainders' cents rounded up (< 10^8 nanos before dividing). Exact,
        // and no u128 division in the wasm (compiler-builtins' is ~1 KB).
        let d = u64::from(duration);
        let cents = (per_second / NANOS_PER_CENT) * d + ((per_second % NANOS_PER_CENT) * d).div_ceil(NANOS_PER_CENT);
        Some(cents).filter(|c| *c <= MAX_SAFE_CENTS).ok_or_else(|| Issue::new("cost", IssueCode::OutOfRange, "the cost exceeds 2^53 cents"))
    }

    /// The cost in cents of one request, with the service's defaults for absent fields.
    ///
    /// # Errors
    /// As [`PricingTable::estimate`].
    pub fn estimate_request(&self, req: &CreateVideoRequest) -> Result<u64, Issue> {
        self.estimate(req.effective_resolution(), req.effective_duration())
    }

    /// The total cost in cents of many requests (a batch), checked against overflow.
    ///
    /// # Errors
    /// The first request's issue (its field prefixed with `requests[i].`), or `cost` on overflow.
    pub fn estimate_all(&self, reqs: &[CreateVideoRequest]) -> Result<u64, Issue> {
        let mut total: u64 = 0;
        for (i, r) in reqs.iter().enumerate() {
            let c = self.estimate_request(r).map_err(|issue| issue.of_request(i))?;
            total = total.checked_add(c).filter(|t| *t <= MAX_SAFE_CENTS).ok_or_else(|| Issue::new("cost", IssueCode::OutOfRange, "the total exceeds 2^53 cents"))?;
        }
        Ok(total)
    }
}

/// The cost in cents with the reference's built-in table (offline; no network).
///
/// ```
/// use usvideo_core::{estimate_cost, Resolution};
/// assert_eq!(estimate_cost(Resolution::P1080, 5).unwrap(), 120);
/// ```
///
/// # Errors
/// As [`PricingTable::estimate`].
pub fn estimate_cost(resolution: Resolution, duration: u32) -> Result<u64, Issue> {
    PricingTable::builtin().estimate(resolution, duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_example() {
        assert_eq!(estimate_cost(Resolution::P1080, 5).unwrap(), 120);
        assert_eq!(estimate_cost(Resolution::P720, 1).unwrap(), 6);
        assert_eq!(estimate_cost(Resolution::K2, 10).unwrap(), 360);
    }

    #[test]
    fn the_largest_prices_are_exact() {
        let t = |nanos| PricingTable { prices: vec![Price { resolution: Resolution::P720, per_second_nanodollars: nanos }] };
        // u64::MAX nano-dollars a second for 10 s: 184467440737095516150 nanos, ⌈/10^7⌉ cents.
        assert_eq!(t(u64::MAX).estimate(Resolution::P720, 10).unwrap(), 18_446_744_073_710);
        assert_eq!(t(u64::MAX).estimate(Resolution::P720, 1).unwrap(), 1_844_674_407_371);
        assert_eq!(t(9_999_999).estimate(Resolution::P720, 10).unwrap(), 10);
        assert_eq!(t(10_000_001).estimate(Resolution::P720, 10).unwrap(), 11);
        for nanos in [0, 1, 9_999_999, 10_000_000, 123_456_789_012, u64::MAX / 3, u64::MAX] {
            for d in 1..=10u32 {
                let want = (u128::from(nanos) * u128::from(d)).div_ceil(10_000_000);
                assert_eq!(u128::from(t(nanos).estimate(Resolution::P720, d).unwrap()), want, "{nanos} × {d}");
            }
        }
    }

    #[test]
    fn fractions_of_a_cent_round_up() {
        let t = PricingTable { prices: vec![Price { resolution: Resolution::P720, per_second_nanodollars: 60_500_000 }] };
        // 6.05 cents × 3 = 18.15 → 19
        assert_eq!(t.estimate(Resolution::P720, 3).unwrap(), 19);
    }
}
