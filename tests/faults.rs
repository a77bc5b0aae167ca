//! Watchers under failure, against moto behind a fault-injecting proxy: throttling, 5xx and
//! timeouts are retried and counted; a region failing, a listing failing mid-pagination or an
//! unassumable role fail only their own scopes and never look like deletions; a sweep killed
//! with SIGKILL leaves a consistent store that the next sweep completes.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use simian_tests::fault::{Fault, FaultProxy};
use simian_tests::moto::{ACCOUNT, Moto, aws_env, seed_estate};
use simian_tests::{Env, simian_bin};

fn env_for(proxy: &FaultProxy) -> Vec<(&'static str, String)> {
    aws_env(&proxy.endpoint())
}

const AWS: &str = "[aws]\nrequests_per_second = 0\nmax_attempts = 4\ninitial_backoff_ms = 5\nattempt_timeout_ms = 1000\n";

fn run_sweep(env: &Env, proxy: &FaultProxy) -> (Option<i32>, Value) {
    let out: Output = env.cli_env(&["sweep", "--format", "json"], &env_for(proxy));
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no report ({e}), exit {:?}:\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

fn scopes<'a>(report: &'a Value, account: &str, t: &str) -> Vec<&'a Value> {
    report["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter(|s| s["account_id"] == account && s["resource_type"] == t)
        .collect()
}

fn count_items(env: &Env, proxy: &FaultProxy, t: &str) -> usize {
    let out = env.cli_env(&["items", "--type", t, "--format", "json"], &env_for(proxy));
    let v: Value = serde_json::from_slice(&out.stdout).expect("items JSON");
    v["items"].as_array().map_or(0, Vec::len)
}

async fn eu_security_group(conf: &aws_config::SdkConfig) -> String {
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(conf)
            .region(aws_config::Region::new("eu-west-1"))
            .build(),
    );
    let g = ec2
        .create_security_group()
        .group_name("eu-app")
        .description("eu")
        .send()
        .await
        .expect("eu sg");
    g.group_id().expect("id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_throttling_5xx_and_timeouts_are_retried_and_counted() {
    let moto = Moto::start();
    seed_estate(&moto.sdk_config().await).await;
    let proxy = FaultProxy::start(moto.port);
    let f = &proxy.faults;
    f.add(Fault::Throttle, Some(2), |s| {
        s.action() == "GetAccountAuthorizationDetails"
    });
    f.add(Fault::ServerError, Some(2), |s| {
        s.action() == "DescribeSecurityGroups"
    });
    f.add(Fault::Throttle, Some(1), |s| {
        s.service == "s3" && s.method == "GET" && s.target.split('?').next() == Some("/")
    });
    f.add(Fault::Delay(Duration::from_millis(1500)), Some(1), |s| {
        s.action() == "ListUsers"
    });
    let env = Env::new(&format!(
        "[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n{AWS}"
    ));
    let (code, report) = run_sweep(&env, &proxy);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["sweep"]["status"], "complete");
    assert_eq!(proxy.faults.fired(), vec![2, 2, 1, 1]);
    assert!(report["retries"].as_u64().unwrap_or(0) >= 6, "{report}");
    assert_eq!(report["items"]["AWS::IAM::User"], 4);
    assert_eq!(report["items"]["AWS::S3::Bucket"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_listings_never_look_like_deletions() {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    seed_estate(&conf).await;
    let iam = aws_sdk_iam::Client::new(&conf);
    // Enough users that GetAccountAuthorizationDetails takes more than one page.
    for i in 0..110 {
        iam.create_user()
            .user_name(format!("bulk-{i:03}"))
            .send()
            .await
            .expect("user");
    }
    let eu_group = eu_security_group(&conf).await;
    let proxy = FaultProxy::start(moto.port);
    let env = Env::new(&format!(
        "[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\", \"eu-west-1\"]\n{AWS}"
    ));
    let (code, first) = run_sweep(&env, &proxy);
    assert_eq!(code, Some(0), "{first}");
    let users_before = count_items(&env, &proxy, "AWS::IAM::User");
    let groups_before = count_items(&env, &proxy, "AWS::EC2::SecurityGroup");
    assert_eq!(users_before, 114);

    // Things disappear in AWS while the listings that would show it fail.
    iam.delete_user()
        .user_name("bulk-007")
        .send()
        .await
        .expect("delete user");
    let eu = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(&conf)
            .region(aws_config::Region::new("eu-west-1"))
            .build(),
    );
    eu.delete_security_group()
        .group_id(&eu_group)
        .send()
        .await
        .expect("delete sg");
    let f = &proxy.faults;
    // Every EC2 call in one region fails; the IAM listing fails part-way, after the account
    // details and 50 users' details arrived (moto does not paginate these APIs, so this is
    // the mid-listing failure it can stage).
    f.add(Fault::ServerError, None, |s| {
        s.service == "ec2" && s.region == "eu-west-1"
    });
    f.add(Fault::ServerError, None, |s| {
        s.action() == "ListMFADevices" && s.params.get("UserName").is_some_and(|u| u == "bulk-050")
    });
    let (code, second) = run_sweep(&env, &proxy);
    assert_eq!(
        code,
        Some(4),
        "a failed listing must make the sweep exit 4: {second}"
    );
    assert_eq!(second["sweep"]["deleted"], 0, "{second}");
    assert_eq!(second["sweep"]["status"], "partial");
    let eu_scope = scopes(&second, ACCOUNT, "AWS::EC2::SecurityGroup")
        .into_iter()
        .find(|s| s["region"] == "eu-west-1")
        .expect("eu scope");
    assert_eq!(eu_scope["complete"], false);
    // A server error is neither throttling nor a denial, and the report says so.
    assert_eq!(eu_scope["error_kind"], "other", "{eu_scope}");
    assert!(
        eu_scope["error"]
            .as_str()
            .is_some_and(|e| e.contains("DescribeSecurityGroups")),
        "{eu_scope}"
    );
    let us_scope = scopes(&second, ACCOUNT, "AWS::EC2::SecurityGroup")
        .into_iter()
        .find(|s| s["region"] == "us-east-1")
        .expect("us scope");
    assert_eq!(us_scope["complete"], true);
    for t in [
        "AWS::IAM::User",
        "AWS::IAM::Role",
        "AWS::IAM::Group",
        "AWS::IAM::Policy",
    ] {
        let s = scopes(&second, ACCOUNT, t);
        assert!(s.iter().all(|s| s["complete"] == false), "{t}: {s:?}");
    }
    assert!(
        scopes(&second, ACCOUNT, "AWS::S3::Bucket")
            .iter()
            .all(|s| s["complete"] == true)
    );
    assert!(second["retries"].as_u64().unwrap_or(0) > 0);
    assert_eq!(count_items(&env, &proxy, "AWS::IAM::User"), users_before);
    assert_eq!(
        count_items(&env, &proxy, "AWS::EC2::SecurityGroup"),
        groups_before
    );

    // Once AWS answers again, the next sweep completes the work.
    proxy.faults.clear();
    let (code, third) = run_sweep(&env, &proxy);
    assert_eq!(code, Some(0), "{third}");
    assert_eq!(third["sweep"]["deleted"], 2, "{third}");
    assert_eq!(
        count_items(&env, &proxy, "AWS::IAM::User"),
        users_before - 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unassumable_role_fails_only_its_account() {
    let moto = Moto::start();
    seed_estate(&moto.sdk_config().await).await;
    let proxy = FaultProxy::start(moto.port);
    proxy.faults.add(Fault::Deny, None, |s| {
        s.action() == "AssumeRole"
            && s.params
                .get("RoleArn")
                .is_some_and(|r| r.contains("222222222222"))
    });
    let env = Env::new(&format!(
        "[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"main\"\nregions = [\"us-east-1\"]\n\n\
         [[accounts]]\nid = \"111111111111\"\nname = \"second\"\nrole_arn = \"arn:aws:iam::111111111111:role/simian-audit\"\nregions = [\"us-east-1\"]\n\n\
         [[accounts]]\nid = \"222222222222\"\nname = \"locked\"\nrole_arn = \"arn:aws:iam::222222222222:role/simian-audit\"\nregions = [\"us-east-1\"]\n\n\
         [[accounts]]\nid = \"333333333333\"\nname = \"vendor\"\nthird_party = true\n\n{AWS}"
    ));
    let (code, report) = run_sweep(&env, &proxy);
    assert_eq!(code, Some(4), "{report}");
    let locked: Vec<&Value> = report["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter(|s| s["account_id"] == "222222222222")
        .collect();
    // One scope per watched type (one region here).
    assert_eq!(
        locked.len(),
        simian::resource_types::all().len(),
        "every type of the locked account is recorded as failed: {locked:?}"
    );
    assert!(locked.iter().all(|s| {
        s["complete"] == false
            && s["error"]
                .as_str()
                .is_some_and(|e| e.contains("cannot assume"))
    }));
    // An account whose role cannot be assumed is told apart from throttling or outages.
    assert!(
        locked.iter().all(|s| s["error_kind"] == "access-denied"),
        "{locked:?}"
    );
    // The other accounts completed; the third-party one is never watched.
    for account in [ACCOUNT, "111111111111"] {
        let ok: Vec<&Value> = report["scopes"]
            .as_array()
            .expect("scopes")
            .iter()
            .filter(|s| s["account_id"] == account)
            .collect();
        assert!(
            !ok.is_empty() && ok.iter().all(|s| s["complete"] == true),
            "{account}: {ok:?}"
        );
    }
    assert!(
        report["scopes"]
            .as_array()
            .expect("scopes")
            .iter()
            .all(|s| s["account_id"] != "333333333333")
    );
    assert_eq!(scopes(&report, ACCOUNT, "AWS::IAM::User")[0]["items"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_killed_mid_way_leaves_a_consistent_store() {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    seed_estate(&conf).await;
    let iam = aws_sdk_iam::Client::new(&conf);
    for i in 0..150 {
        iam.create_user()
            .user_name(format!("bulk-{i:03}"))
            .send()
            .await
            .expect("user");
    }
    let proxy = FaultProxy::start(moto.port);
    // Slow IAM down so the kill lands while other listings are being written.
    proxy
        .faults
        .add(Fault::Delay(Duration::from_millis(5)), None, |s| {
            s.service == "iam"
        });
    let env = Env::new(&format!(
        "[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n{AWS}"
    ));
    let mut child = Command::new(simian_bin())
        .args(["sweep", "--format", "json", "--config"])
        .arg(env.config_path())
        .envs(env_for(&proxy))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sweep");
    // Wait until some listing has been written, then kill without warning.
    let db = env.path().join("data/simian.db");
    let started = simian_tests::wait_until(Duration::from_secs(60), || {
        proxy
            .faults
            .seen()
            .iter()
            .any(|s| s.action() == "ListMFADevices")
    });
    assert!(started, "sweep never reached IAM");
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert!(
        !status.success(),
        "the sweep should have been killed, not finished"
    );
    assert!(db.exists());

    proxy.faults.clear();
    let (code, report) = run_sweep(&env, &proxy);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(count_items(&env, &proxy, "AWS::IAM::User"), 154);
    assert_eq!(count_items(&env, &proxy, "AWS::S3::Bucket"), 3);
    // The killed sweep is recorded as aborted, and nothing was half-written: every stored
    // item has exactly one revision.
    let store = simian::store::Store::open(&format!("sqlite://{}", db.display()))
        .await
        .expect("store");
    let sweeps = store.sweeps(10).await.expect("sweeps");
    assert!(
        sweeps.iter().any(|s| s.status.as_str() == "aborted"),
        "{sweeps:?}"
    );
    for item in store
        .current_items(&Default::default())
        .await
        .expect("items")
    {
        let revs = store.history(&item.id.to_string()).await.expect("history");
        assert_eq!(revs.len(), 1, "{}: {revs:?}", item.item.arn);
    }
    store.close().await;
}
