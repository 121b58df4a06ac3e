//! Decimal text read digit by digit, for the few fractional numbers the core reads, without the
//! standard library's float parser.
//!
//! Why not `str::parse::<f64>`: its correctly rounded algorithm carries tables of powers that cost
//! the npm package ~11 KB gzipped of wasm, and float printing (zmij) ~5 KB more: together more than
//! all of the core's validation (measured 2026-12-04: the main module 83,575 → 66,061 bytes
//! gzipped without either). What the core reads as a fraction needs none of that:
//! - prices, which must be exact: read into integer nano-units ([`parse_decimal_nanos`]);
//! - a batch's scales and fractions and `Retry-After` seconds: [`parse_f64`] is exactly the
//!   nearest float for up to 15 significant digits and exponents within ±22 (`0.7`, `2.5`,
//!   `0.3333333333333333` is 16 digits and still exact, being below 2^53), and within a few units
//!   of the last place beyond that, which no scale or wait can tell apart.
//!
//! The one float the core writes, a batch's learned scale, it writes to nine decimals
//! ([`crate::writers::Members::float`]), which [`parse_f64`] reads back exactly.

/// A decimal as `digits × 10^exp`. Digits past what a `u64` holds are dropped (the exponent
/// still counts the whole-number ones); `dropped` says whether any of those was not a zero.
struct Decimal {
    negative: bool,
    digits: u64,
    exp: i32,
    dropped: bool,
}

/// Reads `[+-]digits[.digits][(e|E)[+-]digits]` (at least one digit before the exponent);
/// `None` for anything else, and for an exponent beyond an `i32`.
fn read(text: &str) -> Option<Decimal> {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        // Through the core's `i64` reader (an `i32` one would be a second copy).
        Some(i) => (text.get(..i)?, i32::try_from(crate::json::parse_i64(text.get(i + 1..)?)?).ok()?),
        None => (text, 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int.is_empty() && frac.is_empty()) || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut d = Decimal { negative, digits: 0, exp, dropped: false };
    for (b, whole) in int.bytes().map(|b| (b, true)).chain(frac.bytes().map(|b| (b, false))) {
        let digit = u64::from(b - b'0');
        match d.digits.checked_mul(10).and_then(|n| n.checked_add(digit)) {
            Some(n) => {
                d.digits = n;
                if !whole {
                    d.exp = d.exp.checked_sub(1)?;
                }
            }
            None => {
                d.dropped |= digit != 0;
                if whole {
                    d.exp = d.exp.checked_add(1)?;
                }
            }
        }
    }
    Some(d)
}

/// `10^k` as a float, exact for `k <= 22` (every step is an integer below 2^53 × 2^22).
fn pow10(k: i32) -> f64 {
    (0..k).fold(1.0, |p, _| p * 10.0)
}

/// A decimal's nearest float, as [the module](self) describes; `None` where `read` gives none
/// (so also for `inf` and `NaN`). Far beyond a float's range it is infinite or zero.
#[must_use]
pub fn parse_f64(text: &str) -> Option<f64> {
    let d = read(text)?;
    // Held to where a 20-digit mantissa is already infinite or zero, so the loops stay short.
    let mut exp = d.exp.clamp(-400, 400);
    #[allow(clippy::cast_precision_loss)] // exact below 2^53, the nearest float above
    let mut f = d.digits as f64;
    // One correctly rounded step when |exp| <= 22 (the common case, so exact); a few beyond.
    while exp > 0 && f != 0.0 {
        let k = exp.min(22);
        f *= pow10(k);
        exp -= k;
    }
    while exp < 0 && f != 0.0 {
        let k = (-exp).min(22);
        f /= pow10(k);
        exp += k;
    }
    Some(if d.negative { -f } else { f })
}

/// Reads a non-negative decimal (`0.24`, `1`, `2.5e-1`, `0.000000001`) into nano-units exactly.
/// `None` for negatives, more than nine decimals of precision, or anything beyond a `u64`.
#[must_use]
pub fn parse_decimal_nanos(text: &str) -> Option<u64> {
    let d = read(text.trim())?;
    if d.negative || d.dropped {
        return None;
    }
    let shift = d.exp.checked_add(9)?;
    if d.digits == 0 {
        return Some(0);
    }
    if shift >= 0 {
        d.digits.checked_mul(10u64.checked_pow(u32::try_from(shift).ok()?)?)
    } else {
        // A divisor beyond a `u64` leaves a fraction of a nano-unit: not exact.
        let div = 10u64.checked_pow(u32::try_from(-shift).ok()?)?;
        d.digits.is_multiple_of(div).then(|| d.digits / div)
    }
}

/// Nano-units as the shortest decimal text (`240000000` → `0.24`).
#[must_use]
pub fn format_decimal_nanos(nanos: u64) -> String {
    let int = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    if frac == 0 {
        return int.to_string();
    }
    let frac = format!("{frac:09}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_within_the_fast_range_are_the_nearest() {
        for text in ["0.7", "2.5", "0.3333333333333333", "1e-9", "0.001", "20", "1.5E3", "-0.25", "123456789012345e-22", "9007199254740991", "1e22"] {
            assert_eq!(parse_f64(text), text.parse::<f64>().ok(), "{text}");
        }
    }

    #[test]
    fn floats_beyond_it_are_near() {
        for text in ["1.2345678901234567", "18446744073709551616", "1e300", "4.9e-300", "123456789012345678901234567890"] {
            let (got, want) = (parse_f64(text).unwrap(), text.parse::<f64>().unwrap());
            assert!(((got - want) / want).abs() < 1e-14, "{text}: {got} vs {want}");
        }
        for x in [f64::MAX, f64::MIN_POSITIVE, 5e-324, 1e-310] {
            let back = parse_f64(&x.to_string()).unwrap();
            assert!(((back - x) / x).abs() < 1e-14 || (x < 1e-300 && (back - x).abs() < 1e-300), "{x}: {back}");
        }
        assert_eq!(parse_f64("1e400"), Some(f64::INFINITY));
        assert_eq!(parse_f64("1e-400"), Some(0.0));
        assert_eq!(parse_f64("0e400"), Some(0.0));
    }

    #[test]
    fn only_decimals_are_floats() {
        for text in ["", ".", "-", "e5", "1e", "1.2.3", "inf", "NaN", "0x10", "1 ", "1e99999999999"] {
            assert_eq!(parse_f64(text), None, "{text:?}");
        }
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal_nanos("0.24"), Some(240_000_000));
        assert_eq!(parse_decimal_nanos("2.4e-1"), Some(240_000_000));
        assert_eq!(parse_decimal_nanos("1"), Some(1_000_000_000));
        assert_eq!(parse_decimal_nanos("18446744073.709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal_nanos("1.000000000000000000000000000"), Some(1_000_000_000));
        assert_eq!(parse_decimal_nanos("0e-30"), Some(0));
        assert_eq!(parse_decimal_nanos("0.0000000001"), None);
        assert_eq!(parse_decimal_nanos("18446744073.709551616"), None);
        assert_eq!(parse_decimal_nanos("-0.1"), None);
        assert_eq!(format_decimal_nanos(240_000_000), "0.24");
    }
}
