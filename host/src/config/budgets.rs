//! The budget settings: `[plugins] budget_window_seconds` and the `*_per_hour` budgets of
//! `[plugin.<id>.limits]`, checked field by field, and the budget one plugin runs under (the
//! operator's, lowered by its manifest, never raised).
//!
//! It must never count or enforce anything: `plugin::budget` does, with what this hands it.

use serde::Serialize;

use super::{Config, Limits};

/// The fixed window budgets count in unless the operator says otherwise: an hour.
pub const DEFAULT_WINDOW_SECONDS: u64 = 3600;
/// The longest window: a day. A longer one would pause a plugin for longer than any operator
/// would wait without looking.
pub const MAX_WINDOW_SECONDS: u64 = 86_400;

/// What one plugin may spend per window; `None` is no budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EffectiveBudget {
    pub window_seconds: u64,
    pub cpu_ms: Option<u64>,
    pub calls: Option<u64>,
    pub http: Option<u64>,
    pub mails: Option<u64>,
}

impl Default for EffectiveBudget {
    fn default() -> Self {
        EffectiveBudget {
            window_seconds: DEFAULT_WINDOW_SECONDS,
            cpu_ms: None,
            calls: None,
            http: None,
            mails: None,
        }
    }
}

impl EffectiveBudget {
    pub fn is_limited(&self) -> bool {
        self.cpu_ms.is_some() || self.calls.is_some() || self.http.is_some() || self.mails.is_some()
    }
}

pub(super) fn window_seconds(raw: Option<u64>) -> Result<u64, (&'static str, String)> {
    let seconds = raw.unwrap_or(DEFAULT_WINDOW_SECONDS);
    if seconds == 0 || seconds > MAX_WINDOW_SECONDS {
        return Err((
            "plugins.budget_window_seconds",
            format!("{seconds} must be between 1 and {MAX_WINDOW_SECONDS} (a day)"),
        ));
    }
    Ok(seconds)
}

/// The operator's budgets: a budget of 0 is refused (to stop a plugin, set `enabled = false`;
/// a zero budget would pause it with no notice of why it never ran). Errors name the field
/// within `limits`.
pub(super) fn check_limits(limits: &Limits) -> Result<(), (&'static str, String)> {
    for (field, value) in [
        ("cpu_ms_per_hour", limits.cpu_ms_per_hour),
        ("calls_per_hour", limits.calls_per_hour),
        ("http_per_hour", limits.http_per_hour),
        ("mails_per_hour", limits.mails_per_hour),
    ] {
        if value == Some(0) {
            return Err((
                field,
                "must be at least 1 (to stop a plugin set `enabled = false`)".into(),
            ));
        }
    }
    Ok(())
}

/// The smaller of the operator's budget and the manifest's request: a plugin may ask for less,
/// never more, and asking for 0 gets 1 (as with `timeout_ms`).
fn lower(operator: Option<u64>, requested: Option<u64>) -> Option<u64> {
    match (operator, requested.map(|r| r.max(1))) {
        (Some(o), Some(r)) => Some(o.min(r)),
        (o, r) => o.or(r),
    }
}

impl Config {
    /// The budget one plugin runs under, from the operator's `[plugin.<id>.limits]` and the
    /// manifest's `[limits]`.
    pub(super) fn effective_budget(
        &self,
        operator: &Limits,
        requested: &Limits,
    ) -> EffectiveBudget {
        EffectiveBudget {
            window_seconds: self.plugins.budget_window_seconds,
            cpu_ms: lower(operator.cpu_ms_per_hour, requested.cpu_ms_per_hour),
            calls: lower(operator.calls_per_hour, requested.calls_per_hour),
            http: lower(operator.http_per_hour, requested.http_per_hour),
            mails: lower(operator.mails_per_hour, requested.mails_per_hour),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_checked_field_by_field() {
        let e = Config::parse("[plugin.x.limits]\ncpu_ms_per_hour = 0\n", None)
            .expect_err("zero budget");
        assert!(
            e.to_string().contains("plugin.x.limits.cpu_ms_per_hour"),
            "{e}"
        );
        let e =
            Config::parse("[plugin.x.limits]\nhttp_per_hour = -1\n", None).expect_err("negative");
        assert!(e.to_string().contains("http_per_hour"), "{e}");
        let e = Config::parse("[plugins]\nbudget_window_seconds = 0\n", None).expect_err("zero");
        assert!(
            e.to_string().contains("plugins.budget_window_seconds"),
            "{e}"
        );
        let e = Config::parse("[plugins]\nbudget_window_seconds = 86401\n", None)
            .expect_err("over a day");
        assert!(
            e.to_string().contains("plugins.budget_window_seconds"),
            "{e}"
        );
        let c = Config::parse("", None).expect("defaults");
        assert_eq!(c.plugins.budget_window_seconds, 3600);
    }

    #[test]
    fn manifests_only_lower_budgets() {
        let c = Config::parse(
            "[plugins]\nbudget_window_seconds = 5\n[plugin.x.limits]\ncpu_ms_per_hour = 500\nhttp_per_hour = 10\n",
            None,
        )
        .expect("parses");
        let greedy = Limits {
            cpu_ms_per_hour: Some(10_000),
            http_per_hour: Some(1_000),
            calls_per_hour: Some(7),
            ..Default::default()
        };
        let b = c.effective_limits("x", &greedy).budget;
        assert_eq!(b.window_seconds, 5);
        assert_eq!(b.cpu_ms, Some(500));
        assert_eq!(b.http, Some(10));
        // No operator budget: the plugin's own, lower one still holds.
        assert_eq!(b.calls, Some(7));
        assert_eq!(b.mails, None);
        let modest = Limits {
            cpu_ms_per_hour: Some(20),
            http_per_hour: Some(0),
            ..Default::default()
        };
        let b = c.effective_limits("x", &modest).budget;
        assert_eq!((b.cpu_ms, b.http), (Some(20), Some(1)));
        let b = c.effective_limits("other", &Limits::default()).budget;
        assert!(!b.is_limited());
    }
}
