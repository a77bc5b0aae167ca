//! Untrusted text: everything a plugin writes (log lines, issue titles and notes, error
//! messages) is attacker-controlled.
//!
//! Owns making such text safe to show: control characters (and bidirectional overrides)
//! escaped for terminals and log lines, URLs cut to their origin before they reach a log, an
//! error or an output. It must never be applied to data that is stored or returned as JSON:
//! that stays exact.

use std::borrow::Cow;

/// Whether showing `c` raw could forge a line, move the cursor, retitle a terminal or reorder
/// what the reader sees.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with every control character escaped (`\n`, `\r`, `\t`, else `\u{1b}`), so it stays
/// on one line and cannot drive a terminal.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` with every http(s) URL in it reduced to its origin (`https://host/…`): webhook
/// paths, query strings and user-info carry secrets.
pub fn redact_urls(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("http://") && !lower.contains("https://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut search = 0;
    while let Some(found) = next_url(&lower, search) {
        let (_, scheme_end) = found;
        // The URL runs to the first character that cannot be part of it in prose or JSON.
        let end = text[scheme_end..]
            .find(|c: char| {
                c.is_whitespace()
                    || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')' | ']' | '}' | ',')
            })
            .map_or(text.len(), |n| scheme_end + n);
        let after_scheme = &text[scheme_end..end];
        let authority_len = after_scheme
            .find(['/', '?', '#'])
            .unwrap_or(after_scheme.len());
        let authority = &after_scheme[..authority_len];
        // Drop user-info (`user:password@host`).
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        out.push_str(&text[rest..scheme_end]);
        out.push_str(host);
        if authority_len < after_scheme.len() && after_scheme[authority_len..] != *"/" {
            out.push_str("/…");
        }
        rest = end;
        search = end.max(scheme_end);
    }
    out.push_str(&text[rest..]);
    Cow::Owned(out)
}

/// The next `http://` or `https://` at or after `from`: (start, index after `://`).
fn next_url(lower: &str, from: usize) -> Option<(usize, usize)> {
    let http = lower[from..]
        .find("http://")
        .map(|i| (from + i, from + i + 7));
    let https = lower[from..]
        .find("https://")
        .map(|i| (from + i, from + i + 8));
    match (http, https) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Both: what a plugin said, made fit for a log line or an error message.
pub fn for_log(text: &str) -> String {
    escape_controls(&redact_urls(text)).into_owned()
}

/// Cut `text` to at most `max` bytes on a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_borrowed() {
        assert!(matches!(escape_controls("plain text ü"), Cow::Borrowed(_)));
        assert_eq!(
            escape_controls("a\nFAKE LOG LINE\r\x1b]0;pwned\x07\x1b[2J"),
            "a\\nFAKE LOG LINE\\r\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"
        );
        assert_eq!(escape_controls("\u{202e}txt.exe"), "\\u{202e}txt.exe");
        assert_eq!(escape_controls("\u{9b}31m"), "\\u{9b}31m");
    }

    #[test]
    fn urls_keep_only_their_origin() {
        assert_eq!(
            redact_urls(
                "error sending request for url (https://hooks.slack.com/services/T0/B0/SECRET)"
            ),
            "error sending request for url (https://hooks.slack.com/…)"
        );
        assert_eq!(
            redact_urls("POST HTTP://user:pw@Example.com:8443/x?token=1 failed"),
            "POST HTTP://Example.com:8443/… failed"
        );
        assert_eq!(
            redact_urls("see https://a.example/"),
            "see https://a.example"
        );
        assert_eq!(
            redact_urls("\"http://127.0.0.1:9/a\",\"https://b/c\""),
            "\"http://127.0.0.1:9/…\",\"https://b/…\""
        );
        assert!(matches!(redact_urls("no links here"), Cow::Borrowed(_)));
        assert_eq!(redact_urls("https://"), "https://");
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("aüb", 2), "a");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
