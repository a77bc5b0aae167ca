//! Per-plugin cost accounting and budgets: the CPU time and calls each plugin spends, its host
//! calls by capability, per budget window, per sweep and since start; and whether it is paused
//! because a window's budget is spent, until when.
//!
//! The window is fixed, not sliding: windows are whole multiples of the window length since
//! the Unix epoch (with an hour, 13:00–14:00 UTC), so one counter per figure suffices, a pause
//! ends at a time known in advance and shown, and every host agrees on the boundaries. The
//! price is that a plugin may spend up to twice its budget across one boundary.
//!
//! It must never stop a call in flight (a pause is checked before a call starts; the batch in
//! progress finishes) and never read the configuration: the budget comes with the loaded
//! plugin.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use serde::Serialize;

use crate::config::EffectiveBudget;

/// A host call a plugin made, by the capability it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostCall {
    Http,
    Mail,
    Items,
    Accounts,
}

impl HostCall {
    pub const ALL: [HostCall; 4] = [
        HostCall::Http,
        HostCall::Mail,
        HostCall::Items,
        HostCall::Accounts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HostCall::Http => "http",
            HostCall::Mail => "mail",
            HostCall::Items => "items",
            HostCall::Accounts => "accounts",
        }
    }
}

/// What a plugin spent over some span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Audit and notify calls (not `describe()` at load: that is the host's doing).
    pub calls: u64,
    /// CPU time of the threads running the plugin's calls, host functions included, in µs.
    pub cpu_us: u64,
    pub http: u64,
    pub mail: u64,
    pub items: u64,
    pub accounts: u64,
}

impl Figures {
    fn host(&mut self, call: HostCall) -> &mut u64 {
        match call {
            HostCall::Http => &mut self.http,
            HostCall::Mail => &mut self.mail,
            HostCall::Items => &mut self.items,
            HostCall::Accounts => &mut self.accounts,
        }
    }

    pub fn host_calls(&self, call: HostCall) -> u64 {
        match call {
            HostCall::Http => self.http,
            HostCall::Mail => self.mail,
            HostCall::Items => self.items,
            HostCall::Accounts => self.accounts,
        }
    }

    fn since(&self, earlier: &Figures) -> Figures {
        Figures {
            calls: self.calls.saturating_sub(earlier.calls),
            cpu_us: self.cpu_us.saturating_sub(earlier.cpu_us),
            http: self.http.saturating_sub(earlier.http),
            mail: self.mail.saturating_sub(earlier.mail),
            items: self.items.saturating_sub(earlier.items),
            accounts: self.accounts.saturating_sub(earlier.accounts),
        }
    }
}

/// Which fixed window `now_ms` falls in, for windows of `window_seconds`.
pub fn window_index(now_ms: i64, window_seconds: u64) -> i64 {
    now_ms.div_euclid(window_ms(window_seconds))
}

/// When window `index` starts, in unix ms.
pub fn window_start(index: i64, window_seconds: u64) -> i64 {
    index.saturating_mul(window_ms(window_seconds))
}

fn window_ms(window_seconds: u64) -> i64 {
    i64::try_from(window_seconds.max(1).saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// Which budget a paused plugin has spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Spent {
    Cpu,
    Calls,
    Http,
    Mails,
}

/// Why a plugin is paused, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pause {
    pub budget: Spent,
    /// The budget per window, in its unit (ms for cpu, a count otherwise).
    pub limit: u64,
    /// What was spent in this window, in the same unit.
    pub spent: u64,
    pub window_seconds: u64,
    /// When the window rolls over and the plugin serves again.
    pub until_ms: i64,
}

impl fmt::Display for Pause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, unit) = match self.budget {
            Spent::Cpu => ("cpu", " ms"),
            Spent::Calls => ("calls", " calls"),
            Spent::Http => ("http", " requests"),
            Spent::Mails => ("mail", " mails"),
        };
        let per = if self.window_seconds == 3600 {
            "/h".to_string()
        } else {
            format!(" per {} s", self.window_seconds)
        };
        write!(
            f,
            "paused: {what} budget {}{unit}{per} spent ({}{unit}) until {}",
            self.limit,
            self.spent,
            clock(self.until_ms)
        )
    }
}

/// `13:00 UTC`, or `13:00:05 UTC` when the time is not a whole minute.
fn clock(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02} UTC")
    } else {
        format!("{h:02}:{m:02}:{s:02} UTC")
    }
}

#[derive(Debug, Default)]
struct State {
    /// The window `window` holds figures for.
    index: i64,
    window: Figures,
    totals: Figures,
    sweep_start: Option<Figures>,
    last_sweep: Option<Figures>,
    /// Items (or notification batches) not handed over while paused, since the last resume.
    skipped: u64,
}

impl State {
    /// Start a new window's figures if `index` is a later one.
    fn roll(&mut self, index: i64) {
        if index != self.index {
            self.index = index;
            self.window = Figures::default();
        }
    }

    fn current(&self, index: i64) -> Figures {
        if index == self.index {
            self.window
        } else {
            Figures::default()
        }
    }
}

/// One plugin's accounting, kept across reloads of the same id (beside its counters).
#[derive(Debug, Default)]
pub struct Usage {
    state: Mutex<State>,
}

impl Usage {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One finished audit or notify call, charged to the window it ended in.
    pub fn charge_call(&self, window_seconds: u64, now_ms: i64, cpu_us: u64) {
        let mut guard = self.state();
        let s = &mut *guard;
        s.roll(window_index(now_ms, window_seconds));
        for f in [&mut s.window, &mut s.totals] {
            f.calls += 1;
            f.cpu_us += cpu_us;
        }
    }

    /// One host call, taken only if the budget for its kind (http, mail) is not spent in this
    /// window; otherwise why not.
    pub fn take_host_call(
        &self,
        budget: &EffectiveBudget,
        now_ms: i64,
        call: HostCall,
    ) -> Result<(), Pause> {
        let index = window_index(now_ms, budget.window_seconds);
        let mut guard = self.state();
        let s = &mut *guard;
        s.roll(index);
        let limit = match call {
            HostCall::Http => budget.http.map(|l| (Spent::Http, l)),
            HostCall::Mail => budget.mails.map(|l| (Spent::Mails, l)),
            HostCall::Items | HostCall::Accounts => None,
        };
        if let Some((spent, limit)) = limit {
            let used = s.window.host_calls(call);
            if used >= limit {
                return Err(Pause {
                    budget: spent,
                    limit,
                    spent: used,
                    window_seconds: budget.window_seconds,
                    until_ms: window_start(index + 1, budget.window_seconds),
                });
            }
        }
        *s.window.host(call) += 1;
        *s.totals.host(call) += 1;
        Ok(())
    }

    /// Whether the plugin is paused at `now_ms`: some budget is spent in the current window.
    pub fn pause(&self, budget: &EffectiveBudget, now_ms: i64) -> Option<Pause> {
        let index = window_index(now_ms, budget.window_seconds);
        let spent = self.state().current(index);
        pause_for(budget, &spent, index)
    }

    /// Work not handed to the plugin because it was paused: it is owed a re-audit on resume.
    pub fn note_skipped(&self, n: u64) {
        self.state().skipped += n;
    }

    /// What was skipped since the last call of this (the resume that makes up for it).
    pub fn take_skipped(&self) -> u64 {
        std::mem::take(&mut self.state().skipped)
    }

    /// A sweep starts: what the plugin spends until `end_sweep` is that sweep's.
    pub fn begin_sweep(&self) {
        let mut s = self.state();
        s.sweep_start = Some(s.totals);
    }

    pub fn end_sweep(&self) {
        let mut s = self.state();
        if let Some(start) = s.sweep_start.take() {
            s.last_sweep = Some(s.totals.since(&start));
        }
    }

    /// The figures and state `simian plugins` shows and `/metrics` exports.
    pub fn report(&self, budget: &EffectiveBudget, now_ms: i64) -> UsageReport {
        let index = window_index(now_ms, budget.window_seconds);
        let s = self.state();
        let window = s.current(index);
        let pause = pause_for(budget, &window, index);
        UsageReport {
            status: if pause.is_some() { "paused" } else { "serving" },
            paused: pause.as_ref().map(ToString::to_string),
            paused_until_ms: pause.as_ref().map(|p| p.until_ms),
            budget: *budget,
            window_start_ms: window_start(index, budget.window_seconds),
            window_end_ms: window_start(index + 1, budget.window_seconds),
            window,
            last_sweep: s.last_sweep,
            totals: s.totals,
            skipped: s.skipped,
        }
    }
}

/// The first budget `spent` reaches, as a pause until the window's end.
fn pause_for(budget: &EffectiveBudget, spent: &Figures, index: i64) -> Option<Pause> {
    let checks = [
        (Spent::Cpu, budget.cpu_ms, spent.cpu_us / 1000, spent.cpu_us),
        (Spent::Calls, budget.calls, spent.calls, spent.calls),
        (Spent::Http, budget.http, spent.http, spent.http),
        (Spent::Mails, budget.mails, spent.mail, spent.mail),
    ];
    checks.into_iter().find_map(|(what, limit, shown, used)| {
        let limit = limit?;
        // CPU is compared in µs so a budget of 1 ms is not reached by 999 µs.
        let reached = match what {
            Spent::Cpu => used >= limit.saturating_mul(1000),
            _ => used >= limit,
        };
        reached.then(|| Pause {
            budget: what,
            limit,
            spent: shown,
            window_seconds: budget.window_seconds,
            until_ms: window_start(index + 1, budget.window_seconds),
        })
    })
}

/// One plugin's figures as shown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UsageReport {
    /// `serving` or `paused`.
    pub status: &'static str,
    /// Why it is paused, for people: "paused: cpu budget 500 ms/h spent (612 ms) until 13:00 UTC".
    pub paused: Option<String>,
    pub paused_until_ms: Option<i64>,
    pub budget: EffectiveBudget,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    /// What was spent in the current window.
    pub window: Figures,
    /// What was spent during the last sweep and its audit, once one ran.
    pub last_sweep: Option<Figures>,
    /// Since the host started.
    pub totals: Figures,
    /// Items or batches skipped while paused, re-audited (or delivered) on resume.
    pub skipped: u64,
}

/// The CPU time the current thread has used, in µs.
fn thread_cpu_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID exists on every
    // Linux the host runs on, and a failure leaves it zero (the call is then charged 0).
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000)
        .saturating_add(ts.tv_nsec as u64 / 1000)
}

/// A future whose polls are timed on the CPU clock of the thread polling it: the CPU a call
/// spends, wherever the runtime moves it, and not the time it waits (on an http reply, or for
/// another task while it yields at each epoch tick).
pub struct CpuTimed<F> {
    inner: Pin<Box<F>>,
    pub cpu_us: u64,
}

impl<F: Future> CpuTimed<F> {
    pub fn new(inner: F) -> CpuTimed<F> {
        CpuTimed {
            inner: Box::pin(inner),
            cpu_us: 0,
        }
    }
}

impl<F: Future> Future for CpuTimed<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let before = thread_cpu_us();
        let out = self.inner.as_mut().poll(cx);
        let spent = thread_cpu_us().saturating_sub(before);
        self.cpu_us += spent;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(window_seconds: u64) -> EffectiveBudget {
        EffectiveBudget {
            window_seconds,
            cpu_ms: Some(500),
            calls: Some(3),
            http: Some(2),
            mails: None,
        }
    }

    #[test]
    fn windows_are_fixed_and_aligned_to_the_epoch() {
        // 2026-11-30 12:34:56.789 UTC
        let now = 1_796_042_096_789;
        let i = window_index(now, 3600);
        assert_eq!(window_start(i, 3600), 1_796_040_000_000); // 12:00
        assert_eq!(window_start(i + 1, 3600), 1_796_043_600_000); // 13:00
        assert_eq!(window_index(1_796_043_599_999, 3600), i);
        assert_eq!(window_index(1_796_043_600_000, 3600), i + 1);
        assert_eq!(window_start(window_index(now, 5), 5), 1_796_042_095_000);
        assert_eq!(clock(1_796_043_600_000), "13:00 UTC");
        assert_eq!(clock(1_796_042_100_000), "12:35 UTC");
        assert_eq!(clock(1_796_042_095_000), "12:34:55 UTC");
    }

    #[test]
    fn cpu_over_budget_pauses_until_the_window_rolls_over() {
        let b = budget(3600);
        let u = Usage::default();
        let t = 1_796_042_096_789;
        u.charge_call(3600, t, 300_000);
        assert_eq!(u.pause(&b, t), None);
        u.charge_call(3600, t + 1, 312_000);
        let p = u.pause(&b, t + 2).expect("paused");
        assert_eq!((p.budget, p.limit, p.spent), (Spent::Cpu, 500, 612));
        assert_eq!(p.until_ms, 1_796_043_600_000);
        assert_eq!(
            p.to_string(),
            "paused: cpu budget 500 ms/h spent (612 ms) until 13:00 UTC"
        );
        // Still paused a millisecond before the boundary, serving from it on.
        assert!(u.pause(&b, 1_796_043_599_999).is_some());
        assert_eq!(u.pause(&b, 1_796_043_600_000), None);
        let r = u.report(&b, 1_796_043_600_000);
        assert_eq!(
            (r.status, r.window.calls, r.totals.calls),
            ("serving", 0, 2)
        );
        assert_eq!(r.totals.cpu_us, 612_000);
        // 499.999 ms is not 500 ms.
        let u = Usage::default();
        u.charge_call(3600, t, 499_999);
        assert_eq!(u.pause(&b, t), None);
        u.charge_call(3600, t, 1);
        assert_eq!(u.pause(&b, t).map(|p| p.spent), Some(500));
    }

    #[test]
    fn calls_and_http_budgets_count_per_window() {
        let b = budget(10);
        let u = Usage::default();
        let t = 1_796_042_090_000; // a window start for 10 s windows
        for _ in 0..3 {
            assert_eq!(u.pause(&b, t), None);
            u.charge_call(10, t + 100, 10);
        }
        let p = u.pause(&b, t + 9_999).expect("paused");
        assert_eq!(
            (p.budget, p.spent, p.until_ms),
            (Spent::Calls, 3, t + 10_000)
        );
        assert_eq!(
            p.to_string(),
            "paused: calls budget 3 calls per 10 s spent (3 calls) until 12:35 UTC"
        );
        assert_eq!(u.pause(&b, t + 10_000), None);

        let u = Usage::default();
        assert!(u.take_host_call(&b, t, HostCall::Http).is_ok());
        assert!(u.take_host_call(&b, t, HostCall::Http).is_ok());
        let refused = u.take_host_call(&b, t, HostCall::Http).expect_err("spent");
        assert_eq!((refused.budget, refused.spent), (Spent::Http, 2));
        // Lookups have no budget; they are only counted.
        for _ in 0..5 {
            assert!(u.take_host_call(&b, t, HostCall::Items).is_ok());
        }
        assert_eq!(u.pause(&b, t).map(|p| p.budget), Some(Spent::Http));
        let r = u.report(&b, t);
        assert_eq!((r.window.http, r.window.items, r.totals.http), (2, 5, 2));
        // The next window starts from nothing.
        assert!(u.take_host_call(&b, t + 10_000, HostCall::Http).is_ok());
        let r = u.report(&b, t + 10_000);
        assert_eq!((r.window.http, r.window.items, r.totals.http), (1, 0, 3));
    }

    #[test]
    fn a_sweep_reports_what_was_spent_during_it() {
        let b = budget(3600);
        let u = Usage::default();
        let t = 1_796_042_096_789;
        u.charge_call(3600, t, 1_000);
        u.begin_sweep();
        u.charge_call(3600, t, 2_000);
        u.charge_call(3600, t, 3_000);
        u.take_host_call(&b, t, HostCall::Accounts)
            .expect("no budget");
        u.end_sweep();
        u.charge_call(3600, t, 4_000);
        let r = u.report(&b, t);
        let sweep = r.last_sweep.expect("a sweep ran");
        assert_eq!((sweep.calls, sweep.cpu_us, sweep.accounts), (2, 5_000, 1));
        assert_eq!((r.window.calls, r.window.cpu_us), (4, 10_000));
    }

    #[test]
    fn cpu_timing_counts_busy_polls() {
        let mut timed = CpuTimed::new(async {
            let mut x = 0u64;
            for i in 0..3_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x)
        });
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut timed).poll(&mut cx).is_ready());
        assert!(timed.cpu_us > 0, "{}", timed.cpu_us);
    }
}
