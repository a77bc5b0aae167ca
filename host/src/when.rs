//! Times as people write and read them: expiry dates and time-travel moments in (`YYYY-MM-DD`,
//! RFC 3339, or unix ms for moments), unix milliseconds out as RFC 3339. A leaf: the CLI and
//! the console share it.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

#[derive(Debug, thiserror::Error)]
#[error("`{text}` is not a date (YYYY-MM-DD or RFC 3339): {reason}")]
pub struct DateError {
    text: String,
    reason: String,
}

/// `YYYY-MM-DD` (end of that day, UTC) or RFC 3339, as unix milliseconds.
pub fn parse_expiry(text: &str) -> Result<i64, DateError> {
    let err = |reason: String| DateError {
        text: crate::text::escape_controls(crate::text::truncate(text, 64)).into_owned(),
        reason,
    };
    let full = if text.len() == 10 {
        format!("{text}T23:59:59Z")
    } else {
        text.to_string()
    };
    DateTime::from_str(&full, Format::DateTime)
        .map_err(|e| err(e.to_string()))?
        .to_millis()
        .map_err(|e| err(e.to_string()))
}

/// The latest moment accepted (9999-12-31T23:59:59.999Z): beyond it RFC 3339 cannot say it.
pub const MAX_INSTANT_MS: i64 = 253_402_300_799_999;

/// A moment for time travel: unix milliseconds (digits only), `YYYY-MM-DD` (the **start** of
/// that day, UTC — unlike expiry dates, which mean its end) or RFC 3339.
pub fn parse_instant(text: &str) -> Result<i64, DateError> {
    let err = |reason: String| DateError {
        text: crate::text::escape_controls(crate::text::truncate(text, 64)).into_owned(),
        reason,
    };
    let text_t = text.trim();
    let ms = if !text_t.is_empty() && text_t.bytes().all(|b| b.is_ascii_digit()) {
        text_t
            .parse::<i64>()
            .map_err(|_| err("too large for unix milliseconds".into()))?
    } else {
        let full = if text_t.len() == 10 {
            format!("{text_t}T00:00:00Z")
        } else {
            text_t.to_string()
        };
        DateTime::from_str(&full, Format::DateTime)
            .map_err(|e| err(format!("nor unix milliseconds ({e})")))?
            .to_millis()
            .map_err(|e| err(e.to_string()))?
    };
    if !(0..=MAX_INSTANT_MS).contains(&ms) {
        return Err(err("outside 1970-01-01 to 9999-12-31".into()));
    }
    Ok(ms)
}

/// A span of milliseconds as people say it: `3d 4h`, `5h 12m`, `42s`.
pub fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m {}s", s % 60),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// An RFC 3339 time (as AWS writes them) as unix milliseconds.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    DateTime::from_str(text.trim(), Format::DateTime)
        .ok()?
        .to_millis()
        .ok()
}

/// Unix milliseconds as RFC 3339 (UTC, seconds), e.g. `2026-11-30T03:40:00Z`.
pub fn rfc3339(ms: i64) -> String {
    DateTime::from_millis(ms)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_dates_and_times() {
        assert_eq!(
            parse_expiry("1970-01-02").expect("date"),
            86_400_000 + 86_399_000
        );
        assert_eq!(parse_expiry("1970-01-01T00:00:01Z").expect("time"), 1000);
        let e = parse_expiry("tomorrow").expect_err("not a date");
        assert!(e.to_string().starts_with("`tomorrow` is not a date"), "{e}");
        assert_eq!(rfc3339(1000), "1970-01-01T00:00:01Z");
    }

    #[test]
    fn spans() {
        assert_eq!(span(42_000), "42s");
        assert_eq!(span(3 * 60_000 + 5_000), "3m 5s");
        assert_eq!(span(2 * 3_600_000 + 60_000), "2h 1m");
        assert_eq!(span(3 * 86_400_000 + 4 * 3_600_000 + 1), "3d 4h");
    }

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-02").expect("date"), 86_400_000);
        assert_eq!(parse_instant("1970-01-01T00:00:01.5Z").expect("time"), 1500);
        assert_eq!(
            parse_instant("1764470400123").expect("ms"),
            1_764_470_400_123
        );
        for bad in [
            "",
            "-5",
            "soon",
            "99999999999999999999",
            "253402300800000",
            "2026-13-01",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad} accepted");
        }
    }
}
