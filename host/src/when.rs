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
}
