//! The two date formats the API uses, read without a date library (none may enter the wasm):
//! RFC 3339 (`created_at`) and the HTTP date of `Retry-After` and `Date`.

/// The largest year read. Far beyond any real date, small enough that every instant in range is an
/// `i64` of milliseconds (year 200 000 is about 6.3e15 ms) and within 2^53 (an exact JS number).
const MAX_YEAR: i64 = 200_000;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian), after H. Hinnant.
/// The caller keeps `y` within `0..=MAX_YEAR` and `m` within `1..=12`, so nothing here overflows.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    crate::json::parse_i64(s)
}

fn to_ms(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    if !(0..=MAX_YEAR).contains(&y) || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || !(0..=23).contains(&h) || !(0..=59).contains(&mi) || !(0..=60).contains(&s) {
        return None;
    }
    Some(((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + s * 1000)
}

/// `2026-04-21T15:30:00Z` (fractions and `±hh:mm` offsets too) as Unix milliseconds.
#[must_use]
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut dp = date.splitn(3, '-');
    let (y, mo, d) = (num(dp.next()?)?, num(dp.next()?)?, num(dp.next()?)?);
    let (clock, offset_ms) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let i = time.rfind(['+', '-'])?;
        let (c, off) = time.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off.get(1..)?.split_once(':')?;
        let (oh, om) = (num(oh)?, num(om)?);
        if oh > 99 || om > 59 {
            return None;
        }
        (c, sign * (oh * 60 + om) * 60_000)
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut tp = hms.splitn(3, ':');
    let (h, mi, sec) = (num(tp.next()?)?, num(tp.next()?)?, num(tp.next()?)?);
    let frac_ms = if frac.is_empty() { 0 } else { num(&format!("{frac:0<3}").chars().take(3).collect::<String>())? };
    to_ms(y, mo, d, h, mi, sec)?.checked_add(frac_ms)?.checked_sub(offset_ms)
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix milliseconds.
#[must_use]
pub fn parse_http_date(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let d = num(it.next()?)?;
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mo_name = it.next()?;
    let mo = i64::try_from(months.iter().position(|m| m.eq_ignore_ascii_case(mo_name))?).ok()? + 1;
    let y = num(it.next()?)?;
    let mut tp = it.next()?.splitn(3, ':');
    let (h, mi, sec) = (num(tp.next()?)?, num(tp.next()?)?, num(tp.next()?)?);
    if it.next()? != "GMT" {
        return None;
    }
    to_ms(y, mo, d, h, mi, sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-04-21T15:30:00Z"), Some(1_776_785_400_000));
        assert_eq!(parse_rfc3339("2026-04-21T17:30:00.5+02:00"), Some(1_776_785_400_500));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
        assert_eq!(parse_rfc3339("garbage"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994"), None);
    }
}
