//! Just enough RFC 3339 for ages and expiry dates: a timestamp to whole seconds since the
//! Unix epoch, and a day back to its `YYYY-MM-DD`. Leap seconds and sub-second precision do
//! not matter for thresholds counted in days.

use crate::Error;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// The wall clock in seconds since the epoch (WASI's wall clock inside a plugin).
pub fn now() -> Result<i64, Error> {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Error::new("the system clock is before 1970"))?;
    i64::try_from(since_epoch.as_secs()).map_err(|_| Error::new("the system clock is out of range"))
}

/// `2026-11-23T00:49:20.579481Z`, `2026-11-23t00:49:20+02:00`, `2026-11-23 00:49:20Z` →
/// seconds since 1970-01-01T00:00:00Z.
pub fn parse_rfc3339(text: &str) -> Result<i64, Error> {
    let bad = || Error::new(format!("`{text}` is not an RFC 3339 timestamp"));
    let b = text.trim().as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| -> Result<i64, Error> {
        let digits = &b[range];
        if digits.iter().all(u8::is_ascii_digit) {
            Ok(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
        } else {
            Err(bad())
        }
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    // Skip a fraction, then read the zone.
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
    }
    let offset = match &b[i..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (number(i + 1..i + 3)?, number(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let minutes = h * 60 + m;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    Ok(days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset * 60)
}

/// A moment as RFC 3339 in UTC, to the second: `2026-11-23T00:49:20Z`.
pub fn rfc3339(seconds: i64) -> String {
    let of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        utc_date(seconds),
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The UTC calendar date of a moment: `2026-11-23`.
pub fn utc_date(seconds: i64) -> String {
    let (y, m, d) = civil_from_days(seconds.div_euclid(SECONDS_PER_DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_aws_writes() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z").expect("valid"), 0);
        assert_eq!(
            parse_rfc3339("2026-11-23T00:49:20.579481Z").expect("valid"),
            1_795_394_960
        );
        assert_eq!(
            parse_rfc3339("2026-11-23t02:49:20+02:00").expect("valid"),
            1_795_394_960
        );
        assert_eq!(
            parse_rfc3339("2026-11-22 19:49:20-05:00").expect("valid"),
            1_795_394_960
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00Z").expect("leap"),
            951_782_400
        );
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z").expect("before"), -1);
    }

    #[test]
    fn rejects_other_text() {
        for text in [
            "",
            "2026-11-23",
            "2026-11-23T00:49:20",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T00:49:20.Z",
            "2026-11-23T00:49:20+0200",
            "2026-11-23X00:49:20Z",
            "2026-1a-23T00:49:20Z",
            "yesterday at noon, roughly",
        ] {
            let e = parse_rfc3339(text).expect_err(text);
            assert!(e.message().contains("RFC 3339"), "{e}");
        }
    }

    #[test]
    fn moments_round_trip() {
        for text in [
            "2026-11-23T00:49:20Z",
            "1999-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
        ] {
            assert_eq!(rfc3339(parse_rfc3339(text).expect("parses")), text);
        }
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(-1), "1969-12-31");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_795_394_960), "2026-11-23");
        // Every day for a few centuries around the epoch survives the round trip.
        for days in (-100_000..100_000).step_by(7) {
            let date = utc_date(days * SECONDS_PER_DAY);
            let back = parse_rfc3339(&format!("{date}T00:00:00Z")).expect("valid");
            assert_eq!(back, days * SECONDS_PER_DAY, "{date}");
        }
    }
}
