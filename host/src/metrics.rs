//! The host's own figures, for `GET /metrics` in the Prometheus text format: counters the
//! sweep, the event refresh and the monitor bump as they work, and gauges read at scrape time
//! from the store, the plugin set and the re-audit progress (so they are right after a
//! restart too).
//!
//! It must never block or fail the work it counts: recording is an atomic add, and reading
//! the store happens only when scraped.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;
type Counters = Family<Labels, Counter>;
type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;
type Seconds = Family<Labels, Counter<f64, AtomicU64>>;

/// Every metric the host exports.
pub struct Metrics {
    registry: Registry,
    pub sweeps: Counters,
    pub listings: Counters,
    pub aws_calls: Counters,
    pub aws_retries: Counters,
    pub aws_throttles: Counters,
    pub listing_age: Gauges,
    pub audit_calls: Gauges,
    pub audit_seconds: Gauges,
    pub plugin_traps: Gauges,
    pub plugin_timeouts: Gauges,
    pub reaudit_done: Gauges,
    pub reaudit_total: Gauges,
    pub outbox_depth: Gauges,
    pub outbox_failing: Gauges,
    pub events: Counters,
    pub event_lag: Gauges,
    /// Time spent refreshing from events (describe, record, audit, queue notices), apart
    /// from waiting on the queue.
    pub event_refresh_seconds: Seconds,
    pub alarms: Gauges,
    /// Per plugin: CPU since start and in the current budget window, calls this window, host
    /// calls by capability, peak instance memory, and 1 while paused over its budget.
    pub plugin_cpu_seconds: Gauges,
    pub plugin_window_cpu_seconds: Gauges,
    pub plugin_window_calls: Gauges,
    pub plugin_host_calls: Gauges,
    pub plugin_peak_memory: Gauges,
    pub plugin_paused: Gauges,
}

/// One label set.
pub fn labels<const N: usize>(pairs: [(&'static str, &str); N]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("simian");
        macro_rules! metric {
            ($name:literal, $help:literal) => {{
                let m = Family::default();
                registry.register($name, $help, m.clone());
                m
            }};
        }
        Metrics {
            sweeps: metric!("sweeps", "Sweeps finished, by result"),
            listings: metric!(
                "listings",
                "Listings applied, by account, region, type and result"
            ),
            aws_calls: metric!("aws_calls", "AWS operations called, by account and service"),
            aws_retries: metric!("aws_retries", "Retries the AWS SDK made, by account"),
            aws_throttles: metric!(
                "aws_throttles",
                "Listings that gave up throttled, by account and resource type"
            ),
            listing_age: metric!(
                "listing_age_seconds",
                "Seconds since the last complete listing, by account, region and type"
            ),
            audit_calls: metric!("plugin_calls", "Calls into each plugin since start"),
            audit_seconds: metric!(
                "plugin_seconds",
                "Seconds spent inside each plugin since start"
            ),
            plugin_traps: metric!("plugin_traps", "Traps of each plugin since start"),
            plugin_timeouts: metric!("plugin_timeouts", "Timeouts of each plugin since start"),
            reaudit_done: metric!(
                "reaudit_done_items",
                "Items re-audited by the current re-audit"
            ),
            reaudit_total: metric!("reaudit_total_items", "Items the current re-audit covers"),
            outbox_depth: metric!(
                "outbox_pending",
                "Notification batches waiting, by notifier"
            ),
            outbox_failing: metric!(
                "outbox_failing",
                "Waiting batches whose last delivery failed, by notifier"
            ),
            events: metric!("events", "CloudTrail event messages received, by result"),
            event_refresh_seconds: metric!(
                "event_refresh_seconds",
                "Seconds spent refreshing items from events (not waiting on the queue)"
            ),
            event_lag: metric!(
                "event_lag_seconds",
                "Now minus the event time of the newest event batch's oldest event"
            ),
            alarms: metric!(
                "alarm",
                "1 while a monitoring alarm is raised, by kind and subject"
            ),
            plugin_cpu_seconds: metric!(
                "plugin_cpu_seconds",
                "CPU seconds spent in each plugin's calls since start"
            ),
            plugin_window_cpu_seconds: metric!(
                "plugin_window_cpu_seconds",
                "CPU seconds each plugin spent in its current budget window"
            ),
            plugin_window_calls: metric!(
                "plugin_window_calls",
                "Audit and notify calls of each plugin in its current budget window"
            ),
            plugin_host_calls: metric!(
                "plugin_host_calls",
                "Host calls each plugin made since start, by capability"
            ),
            plugin_peak_memory: metric!(
                "plugin_peak_memory_bytes",
                "Largest linear memory an instance of each plugin grew to"
            ),
            plugin_paused: metric!(
                "plugin_paused",
                "1 while a plugin is paused over its budget"
            ),
            registry,
        }
    }
}

impl Metrics {
    /// The text exposition of everything.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_gauges_render_as_prometheus_text() {
        let m = Metrics::default();
        m.events
            .get_or_create(&labels([("result", "mapped")]))
            .inc_by(3);
        m.listing_age
            .get_or_create(&labels([
                ("account", "111122223333"),
                ("region", "us-east-1"),
                ("type", "AWS::EC2::SecurityGroup"),
            ]))
            .set(12.5);
        let text = m.render();
        assert!(text.contains("# TYPE simian_events counter"), "{text}");
        assert!(
            text.contains("simian_events_total{result=\"mapped\"} 3"),
            "{text}"
        );
        assert!(
            text.contains(
                "simian_listing_age_seconds{account=\"111122223333\",region=\"us-east-1\",type=\"AWS::EC2::SecurityGroup\"} 12.5"
            ),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
