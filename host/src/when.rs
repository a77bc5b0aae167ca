//! Times as people write and read them: expiry dates in (`YYYY-MM-DD` or RFC 3339), unix
//! milliseconds out as RFC 3339. A leaf: the CLI and the console share it.

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

/// A moment: `YYYY-MM-DD` (the start of that day, UTC), RFC 3339, or unix milliseconds.
pub fn parse_instant(text: &str) -> Result<i64, DateError> {
    let text = text.trim();
    if !text.is_empty() && text.len() != 10 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().map_err(|e| DateError {
            text: crate::text::truncate(text, 64).to_string(),
            reason: e.to_string(),
        });
    }
    let err = |reason: String| DateError {
        text: crate::text::escape_controls(crate::text::truncate(text, 64)).into_owned(),
        reason,
    };
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    DateTime::from_str(&full, Format::DateTime)
        .map_err(|e| err(e.to_string()))?
        .to_millis()
        .map_err(|e| err(e.to_string()))
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
    fn instants_and_spans() {
        assert_eq!(parse_instant("1970-01-02").expect("date"), 86_400_000);
        assert_eq!(parse_instant("1970-01-01T00:00:01Z").expect("time"), 1000);
        assert_eq!(
            parse_instant("1700000000000").expect("ms"),
            1_700_000_000_000
        );
        assert!(parse_instant("last tuesday").is_err());
        assert!(parse_instant("99999999999999999999999").is_err());
        assert_eq!(span(42_000), "42s");
        assert_eq!(span(3 * 60_000 + 5_000), "3m 5s");
        assert_eq!(span(2 * 3_600_000 + 60_000), "2h 1m");
        assert_eq!(span(3 * 86_400_000 + 4 * 3_600_000 + 1), "3d 4h");
    }
}
