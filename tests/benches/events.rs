//! Event-driven refresh, timed: a real `simian run` (the binary, as built for this profile)
//! follows an SQS queue that an EventBridge rule fills, in the emulator, with the example rule
//! and the webhook notifier posting to a loopback receiver.
//!
//! 1. Latency: 200 changes, one every 50 ms, each followed by its CloudTrail event. Event to
//!    revision is put → commit of the event refresh that recorded it (the refresh sweep's
//!    finish time in the store); event to notification is put → the receiver reading the
//!    first webhook post naming the group. The emulator delivers synchronously, so there is
//!    no AWS delivery delay to exclude.
//! 2. Throughput: 1,000 groups changed, then their 1,000 events sent straight to the queue as
//!    EventBridge delivers them, delayed to become visible together (the emulator's bus alone
//!    takes ~20 ms an event, which is AWS's side of the path); events per second is 1,000 over
//!    visible → last revision committed.
//!
//! Prints p50/p99 and the ratios to the targets (p99 event→revision ≤ 2 s, event→notification
//! ≤ 5 s, ≥ 100 events/s). Run: `cargo bench -p simian-tests --bench events` (or with
//! `--profile dev` to time a debug host without the long optimised build).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use simian_tests::cloudtrail::{EventPipe, group_event};
use simian_tests::http::Receiver;
use simian_tests::moto::{ACCOUNT, Moto, allow_tcp, create_group};
use simian_tests::{Env, deploy_shipped, wait_until};
use sqlx::Row;

const GROUPS: usize = 1_000;
const LATENCY_EVENTS: usize = 200;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Event id → commit time (unix ms) of the event refresh that recorded it.
async fn committed(db: &str) -> HashMap<String, i64> {
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{db}?mode=ro"))
        .await
        .expect("open the store");
    let rows = sqlx::query(
        "SELECT r.actor, s.finished_ms FROM revisions r JOIN sweeps s ON s.id = r.sweep_id
         WHERE r.via = 'event' AND r.actor IS NOT NULL AND s.finished_ms IS NOT NULL",
    )
    .fetch_all(&pool)
    .await
    .unwrap_or_default();
    pool.close().await;
    rows.iter()
        .filter_map(|r| {
            let actor: String = r.try_get("actor").ok()?;
            let at: i64 = r.try_get("finished_ms").ok()?;
            let actor: Value = serde_json::from_str(&actor).ok()?;
            Some((actor["eventId"].as_str()?.to_string(), at))
        })
        .collect()
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    sqlx::any::install_default_drivers();
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let started = Instant::now();
    let mut groups = Vec::with_capacity(GROUPS);
    for i in 0..GROUPS {
        let id = create_group(&ec2, &format!("bench-{i}"), "bench").await;
        groups.push(id);
    }
    let pipe = EventPipe::create(&conf, "simian-bench-events").await;
    println!(
        "seeded {GROUPS} security groups in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let hook = Receiver::start(200, "ok", None);
    let metrics_port = simian_tests::moto::free_port();
    let env = Env::new(&format!(
        r#"
[[accounts]]
id = "{ACCOUNT}"
name = "bench"
regions = ["us-east-1"]

[aws]
requests_per_second = 0

[watch]
interval_minutes = 60

[events]
queue_url = "{}"

[monitor]
listen = "127.0.0.1:{}"

[plugin.webhook-notifier.settings]
url = "http://127.0.0.1:{}/hooks/simian"

[plugin.webhook-notifier.grants]
http = {{ origins = ["http://127.0.0.1:{}"], private_networks = ["127.0.0.0/8"] }}
"#,
        pipe.queue_url, metrics_port, hook.port, hook.port
    ));
    for id in ["sg-internet-accessible", "webhook-notifier"] {
        deploy_shipped(&env, id);
    }
    let host = env.start_host_env(&moto.env());
    assert!(
        wait_until(Duration::from_secs(300), || host
            .log_text()
            .contains("scheduled sweep done")),
        "no first sweep:\n{}",
        host.log_text()
    );
    let db = env.path().join("data/simian.db").display().to_string();

    // 1. Latency, one change at a time.
    let mut put_at: HashMap<String, (i64, Instant, String)> = HashMap::new();
    for (i, group) in groups.iter().take(LATENCY_EVENTS).enumerate() {
        allow_tcp(&ec2, group, 22, "0.0.0.0/0").await;
        let id = format!("lat-{i}");
        let (wall, mono) = (unix_ms(), Instant::now());
        pipe.put(&group_event("AuthorizeSecurityGroupIngress", group, &id))
            .await;
        put_at.insert(id, (wall, mono, group.clone()));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        wait_count(&db, "lat-", LATENCY_EVENTS, Duration::from_secs(120)).await,
        "not every latency event was recorded:\n{}",
        host.log_text()
    );
    let commits = committed(&db).await;
    // Let the last notifications land.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let posts: Vec<(Instant, String)> = hook
        .received
        .lock()
        .map(|r| {
            r.iter()
                .map(|q| (q.at, String::from_utf8_lossy(&q.body).into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut to_revision = Vec::new();
    let mut to_notified = Vec::new();
    for (id, (wall, mono, group)) in &put_at {
        if let Some(at) = commits.get(id) {
            to_revision.push((at - wall).max(0) as f64 / 1000.0);
        }
        if let Some((at, _)) = posts
            .iter()
            .filter(|(at, body)| *at >= *mono && body.contains(group.as_str()))
            .min_by_key(|(at, _)| *at)
        {
            to_notified.push(at.duration_since(*mono).as_secs_f64());
        }
    }
    to_revision.sort_by(f64::total_cmp);
    to_notified.sort_by(f64::total_cmp);
    let (r50, r99) = (
        percentile(&to_revision, 0.5),
        percentile(&to_revision, 0.99),
    );
    let (n50, n99) = (
        percentile(&to_notified, 0.5),
        percentile(&to_notified, 0.99),
    );
    println!(
        "event → revision over {} events: p50 {r50:.3} s, p99 {r99:.3} s (target p99 ≤ 2 s: {:.2}× of it)",
        to_revision.len(),
        r99 / 2.0
    );
    println!(
        "event → webhook delivered over {} events: p50 {n50:.3} s, p99 {n99:.3} s (target p99 ≤ 5 s: {:.2}× of it)",
        to_notified.len(),
        n99 / 5.0
    );

    // 2. Throughput: every group changed, then all their events at once.
    for group in &groups {
        allow_tcp(&ec2, group, 443, "0.0.0.0/0").await;
    }
    let records: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(i, group)| group_event("AuthorizeSecurityGroupIngress", group, &format!("tp-{i}")))
        .collect();
    let (mapped_before, busy_before) = host_figures(metrics_port).await;
    let cpu_before = cpu_seconds(host.child.id());
    let sending = Instant::now();
    let visible_in = Duration::from_secs(30);
    let start_wall = unix_ms() + visible_in.as_millis() as i64;
    pipe.send_many_visible_at(&records, sending + visible_in)
        .await;
    let put_secs = sending.elapsed().as_secs_f64();
    assert!(
        put_secs < visible_in.as_secs_f64(),
        "sending took {put_secs:.1} s"
    );
    assert!(
        wait_count(&db, "tp-", GROUPS, Duration::from_secs(600)).await,
        "not every throughput event was recorded:\n{}",
        host.log_text()
    );
    let commits = committed(&db).await;
    let last = commits
        .iter()
        .filter(|(id, _)| id.starts_with("tp-"))
        .map(|(_, at)| *at)
        .max()
        .unwrap_or(start_wall);
    let secs = ((last - start_wall) as f64 / 1000.0).max(0.001);
    let rate = GROUPS as f64 / secs;
    println!(
        "throughput: {GROUPS} events (queued in {put_secs:.1} s, visible at once) recorded in {secs:.1} s: {rate:.0} events/s (target ≥ 100: {:.2}× of it)",
        rate / 100.0
    );
    let (mapped_after, busy_after) = host_figures(metrics_port).await;
    let cpu = (cpu_seconds(host.child.id()) - cpu_before).max(0.001);
    let mapped = mapped_after - mapped_before;
    let busy = (busy_after - busy_before).max(0.001);
    println!(
        "host capacity: {mapped:.0} events refreshed in {busy:.1} s of refresh work (the rest is \
         waiting on the emulator's SQS): {:.0} events/s (target ≥ 100: {:.2}× of it)",
        mapped / busy,
        mapped / busy / 100.0
    );
    println!(
        "host CPU: {cpu:.1} s for {mapped:.0} events: {:.0} events per CPU-second of the host \
         (target ≥ 100: {:.2}× of it)",
        mapped / cpu,
        mapped / cpu / 100.0
    );
    drop(host);
}

/// User + system CPU seconds a process has used (Linux `/proc/<pid>/stat`, 100 ticks/s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `) `.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// (events mapped, seconds spent refreshing) from the host's `/metrics`.
async fn host_figures(port: u16) -> (f64, f64) {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let value = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (
        value("simian_events_total{result=\"mapped\"}"),
        value("simian_event_refresh_seconds_total"),
    )
}

/// Wait until `n` event refreshes with ids starting with `prefix` are recorded.
async fn wait_count(db: &str, prefix: &str, n: usize, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        let seen = committed(db)
            .await
            .keys()
            .filter(|k| k.starts_with(prefix))
            .count();
        if seen >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}
