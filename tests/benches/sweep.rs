//! `cargo bench -p simian-tests --bench sweep`: a sweep of a scaled emulated estate (1,000 IAM
//! users with access keys, 300 buckets, 500 security groups) against the emulator's own speed
//! at serving exactly the requests the sweep made, replayed straight at it in the same run.
//! Prints the ratio (target ≤ 1.2×: simian is never the bottleneck) and API calls per item.

use std::sync::Arc;
use std::time::{Duration, Instant};

use simian::config::Config;
use simian::runtime::sweep::{self, SweepOptions};
use simian::store::Store;
use simian_tests::fault::{FaultProxy, replay};
use simian_tests::moto::{ACCOUNT, Moto};

const USERS: usize = 1000;
const BUCKETS: usize = 300;
const GROUPS: usize = 500;

async fn seed(conf: &aws_config::SdkConfig) {
    let iam = aws_sdk_iam::Client::new(conf);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    );
    let ec2 = aws_sdk_ec2::Client::new(conf);
    for i in 0..USERS {
        let name = format!("user-{i:04}");
        iam.create_user()
            .user_name(&name)
            .send()
            .await
            .expect("user");
        iam.create_access_key()
            .user_name(&name)
            .send()
            .await
            .expect("key");
    }
    for i in 0..BUCKETS {
        s3.create_bucket()
            .bucket(format!("bucket-{i:04}"))
            .send()
            .await
            .expect("bucket");
    }
    for i in 0..GROUPS {
        let g = ec2
            .create_security_group()
            .group_name(format!("sg-{i:04}"))
            .description("bench")
            .send()
            .await
            .expect("sg");
        ec2.authorize_security_group_ingress()
            .group_id(g.group_id().expect("id"))
            .ip_protocol("tcp")
            .from_port(443)
            .to_port(443)
            .cidr_ip(format!("10.{}.{}.0/24", i / 250, i % 250))
            .send()
            .await
            .expect("rule");
    }
}

/// Replay with `workers` connections in parallel, as the sweep overlaps its services.
fn replay_all(requests: &[simian_tests::fault::RawRequest], port: u16, workers: usize) -> Duration {
    let requests = Arc::new(requests.to_vec());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let requests = requests.clone();
            let next = next.clone();
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(r) = requests.get(i) else { break };
                    replay(r, port).expect("replay");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker");
    }
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let moto = Moto::start();
    let started = Instant::now();
    seed(&moto.sdk_config().await).await;
    println!(
        "seeded {USERS} users (+1 key each), {BUCKETS} buckets, {GROUPS} security groups in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let proxy = FaultProxy::start(moto.port);
    // SAFETY of the process environment: set once, before any SDK client reads it.
    for (k, v) in [
        ("AWS_ENDPOINT_URL", proxy.endpoint()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ] {
        // SAFETY: single-threaded at this point as far as the environment is concerned; no
        // other code reads or writes it concurrently.
        unsafe { std::env::set_var(k, v) };
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::parse(
        &format!(
            "data_dir = {:?}\n[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"bench\"\nregions = [\"us-east-1\"]\n[aws]\nrequests_per_second = 0\n",
            dir.path().display().to_string()
        ),
        None,
    )
    .expect("config");
    let store = Store::open(&config.storage.url).await.expect("store");

    for (label, expect_created) in [
        ("first sweep (everything new)", true),
        ("second sweep (unchanged)", false),
    ] {
        proxy.faults.take_raw();
        let t = Instant::now();
        let report = sweep::run(&config, &store, &SweepOptions::default(), &())
            .await
            .expect("sweep");
        let wall = t.elapsed();
        assert!(!report.failed(), "sweep failed: {:?}", report.scopes);
        assert_eq!(report.sweep.created > 0, expect_created);
        let requests = proxy.faults.take_raw();
        let serial = replay_all(&requests, moto.port, 1);
        let parallel = replay_all(&requests, moto.port, 3);
        let emulator = serial.min(parallel);
        println!("\n== {label}");
        println!(
            "simian sweep {:.2} s | emulator serving the same {} requests: {:.2} s serial, {:.2} s with 3 connections ({:.0} req/s) | ratio {:.2}x",
            wall.as_secs_f64(),
            requests.len(),
            serial.as_secs_f64(),
            parallel.as_secs_f64(),
            requests.len() as f64 / emulator.as_secs_f64(),
            wall.as_secs_f64() / emulator.as_secs_f64()
        );
        let iam_items: usize = [
            "AWS::IAM::User",
            "AWS::IAM::Role",
            "AWS::IAM::Group",
            "AWS::IAM::Policy",
        ]
        .iter()
        .map(|t| report.items.get(*t).copied().unwrap_or(0))
        .sum();
        let per = |service: &str, items: usize| {
            let calls = report.calls.get(service).copied().unwrap_or(0);
            format!(
                "{calls} calls / {items} items = {:.2}",
                calls as f64 / items.max(1) as f64
            )
        };
        println!(
            "API calls per item: IAM {} | S3 {} | EC2 {}",
            per("iam", iam_items),
            per(
                "s3",
                report.items.get("AWS::S3::Bucket").copied().unwrap_or(0)
            ),
            per(
                "ec2",
                report
                    .items
                    .get("AWS::EC2::SecurityGroup")
                    .copied()
                    .unwrap_or(0)
            )
        );
        println!(
            "retries {}, created {}, modified {}, unchanged {}",
            report.retries, report.sweep.created, report.sweep.modified, report.sweep.unchanged
        );
    }
    store.close().await;
}
