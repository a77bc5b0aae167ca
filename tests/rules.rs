//! Security Monkey's rule set as the plugins we ship, end to end: the demo estate seeded into
//! the emulator, swept by the real binary with every shipped auditor loaded, and judged —
//! risky resources flagged with Security Monkey's titles and scores, clean ones clean. Then a
//! fix in AWS becomes a fixed issue, and a justified issue whose evidence changes comes back
//! unjustified.

use std::collections::BTreeSet;
use std::process::Output;

use serde_json::Value;
use simian_tests::moto::{ACCOUNT, Moto, allow_tcp, revoke_tcp, seed_estate};
use simian_tests::pg::on_postgres;
use simian_tests::{Env, deploy_shipped};

const AUDITORS: &[&str] = &[
    "security-group",
    "s3-bucket",
    "iam-role",
    "iam-policy",
    "iam-user",
    "employee-accounts",
];

/// The operator's config: our corporate network, the accounts capability for the rules that
/// classify principals, the HR roster as a granted file, and the default-egress check turned
/// off (every group has it; Security Monkey users usually silence it).
fn config(roster_dir: &std::path::Path, storage: Option<&str>) -> String {
    let roster_dir = roster_dir.display();
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    format!(
        r#"
{storage}
[[accounts]]
id = "{ACCOUNT}"
name = "demo"
regions = ["us-east-1"]

[[accounts]]
id = "444455556666"
name = "partner"
third_party = true

[[networks]]
name = "corp"
cidr = "10.0.0.0/8"

[aws]
requests_per_second = 0

[plugin.security-group.grants]
accounts = true
[plugin.s3-bucket.grants]
accounts = true
[plugin.iam-role.grants]
accounts = true

[plugin.employee-accounts.settings]
roster_file = "{roster_dir}/roster.csv"
[plugin.employee-accounts.grants]
files = {{ dirs = ["{roster_dir}"] }}

[[overrides]]
plugin = "security-group"
check = "internet-accessible-egress"
disabled = true

[plugin.email-notifier.settings]
subscriptions = [{{ to = ["sec@example.com"] }}]
[plugin.email-notifier.grants]
mail = {{ recipients = ["sec@example.com"] }}
"#
    )
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "simian failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// (resource name, plugin, title, score) of the given issues.
type Finding = (String, String, String, u64);

/// Issues of checks the operator disabled are kept but count nowhere; they are left out.
fn findings(issues: &Value) -> BTreeSet<Finding> {
    issues
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| i["disabled"] != true)
        .map(|i| {
            (
                i["resource_name"].as_str().unwrap_or_default().to_string(),
                i["plugin"].as_str().unwrap_or_default().to_string(),
                i["title"].as_str().unwrap_or_default().to_string(),
                i["score"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn finding(name: &str, plugin: &str, title: &str, score: u64) -> Finding {
    (name.into(), plugin.into(), title.into(), score)
}

fn item_score(report: &Value, name: &str) -> (u64, u64) {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["resource_name"] == name)
        .map_or((0, 0), |i| {
            (
                i["score"].as_u64().unwrap_or(0),
                i["unjustified_score"].as_u64().unwrap_or(0),
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_rules_judge_the_demo_estate_on_sqlite() {
    judge_the_demo_estate(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_rules_judge_the_demo_estate_on_postgres() {
    on_postgres("rules", |url| async move {
        judge_the_demo_estate(Some(&url)).await
    })
    .await;
}

async fn judge_the_demo_estate(storage: Option<&str>) {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    seed_estate(&conf).await;
    let hr = tempfile::tempdir().expect("hr dir");
    std::fs::write(
        hr.path().join("roster.csv"),
        "name,email,employee_id\nBob Jones,bob@corp.example,E2\nCarol King,carol@corp.example,E3\n",
    )
    .expect("roster");
    let env = Env::new(&config(hr.path(), storage));
    for id in AUDITORS.iter().chain(&["email-notifier"]) {
        deploy_shipped(&env, id);
    }
    let run = |args: &[&str]| ok_json(&env.cli_env(args, &moto.env()));

    let swept = run(&["sweep", "--format", "json"]);
    assert_eq!(swept["audit"]["failures"], 0, "{swept}");
    // A one-shot sweep queues its news for the host to deliver: one batch for the account.
    let listing = run(&["plugins", "--format", "json"]);
    let email = listing["plugins"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["id"] == "email-notifier"))
        .expect("email-notifier listed");
    assert_eq!(email["outbox"]["pending"], 1, "{email}");
    let listed = run(&["issues", "--disabled", "--format", "json"]);
    let open = findings(&listed["issues"]);
    let shown = run(&["issues", "--format", "json"]);
    assert!(
        shown["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .all(|i| i["disabled"] == false),
        "disabled issues listed without --disabled"
    );
    // The default egress rule of every group is found, and disabled by the override.
    let egress: Vec<&Value> = listed["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| i["check_id"] == "internet-accessible-egress")
        .collect();
    assert!(
        !egress.is_empty() && egress.iter().all(|i| i["disabled"] == true),
        "{egress:?}"
    );
    let expected = [
        finding("open-ssh", "security-group", "Internet Accessible", 10),
        finding("open-policy-bucket", "s3-bucket", "Internet Accessible", 10),
        finding("public-acl-bucket", "s3-bucket", "Internet Accessible", 10),
        finding("public-acl-bucket", "s3-bucket", "POLICY - No Policy.", 0),
        finding("reports", "s3-bucket", "POLICY - No Policy.", 0),
        finding("vendor-access", "iam-role", "Unknown Access", 10),
        finding("vendor-access", "iam-role", "Cross-Account Root IAM", 6),
        finding("admins", "iam-policy", "Administrator Access", 10),
        finding("alice", "iam-user", "Informational", 1),
        finding("alice", "iam-user", "Insecure Configuration", 1),
        finding("carol", "iam-user", "Informational", 0),
        finding(
            "alice",
            "employee-accounts",
            "IAM user does not match an employee",
            5,
        ),
    ];
    for f in &expected {
        assert!(open.contains(f), "missing {f:?} in {open:#?}");
    }
    // Clean resources stay clean: the corp-only group, the service role, the read-only
    // managed policy, and the employees.
    for clean in ["internal-web", "lambda-exec", "read-reports", "bob"] {
        let theirs: Vec<&Finding> = open.iter().filter(|f| f.0 == clean && f.3 > 0).collect();
        assert!(theirs.is_empty(), "{clean} flagged: {theirs:?}");
    }
    assert!(
        !open
            .iter()
            .any(|f| f.0 == "carol" && f.1 == "employee-accounts"),
        "carol is on the roster"
    );
    // `simian audit --item` judges a single document with the config's accounts: a role
    // trusting the configured third party is third-party access, not unknown.
    let roles = run(&["items", "--type", "AWS::IAM::Role", "--format", "json"]);
    let mut vendor = roles["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["resourceName"] == "vendor-access")
        .expect("vendor-access")
        .clone();
    vendor["configuration"]["assumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] =
        "arn:aws:iam::444455556666:root".into();
    let doc = env.write_file("vendor.json", &vendor.to_string());
    let audited = run(&[
        "audit",
        "--item",
        doc.to_str().expect("path"),
        "--format",
        "json",
    ]);
    let titles: BTreeSet<(String, u64)> = audited["items"][0]["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| i["plugin"] == "iam-role")
        .map(|i| {
            (
                i["title"].as_str().unwrap_or_default().to_string(),
                i["score"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        titles.contains(&("Thirdparty Cross Account".to_string(), 0)),
        "{audited}"
    );
    assert!(
        titles.contains(&("Cross-Account Root IAM".to_string(), 6)),
        "{audited}"
    );
    assert!(!titles.iter().any(|t| t.0 == "Unknown Access"), "{audited}");

    let report = run(&["report", "--format", "json"]);
    assert_eq!(item_score(&report, "reports"), (0, 0));
    let clean: BTreeSet<&str> = report["clean"]
        .as_array()
        .expect("clean list")
        .iter()
        .filter_map(|c| c["resource_name"].as_str())
        .collect();
    for name in [
        "internal-web",
        "lambda-exec",
        "read-reports",
        "bob",
        "reports",
    ] {
        assert!(clean.contains(name), "{name} not reported clean: {clean:?}");
    }
    for name in [
        "open-ssh",
        "open-policy-bucket",
        "vendor-access",
        "admins",
        "alice",
    ] {
        assert!(!clean.contains(name), "{name} reported clean");
    }
    assert_eq!(item_score(&report, "open-policy-bucket"), (10, 10));
    assert_eq!(item_score(&report, "vendor-access"), (16, 16));

    // The bucket policy is removed in AWS: its issue becomes fixed, kept in history, and the
    // bucket now has no policy.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    s3.delete_bucket_policy()
        .bucket("open-policy-bucket")
        .send()
        .await
        .expect("delete policy");
    let swept = run(&["sweep", "--format", "json"]);
    assert!(swept["audit"]["fixed"].as_u64() >= Some(1), "{swept}");
    let fixed = findings(&run(&["issues", "--status", "fixed", "--format", "json"])["issues"]);
    assert!(
        fixed.contains(&finding(
            "open-policy-bucket",
            "s3-bucket",
            "Internet Accessible",
            10
        )),
        "{fixed:#?}"
    );
    let open = findings(&run(&["issues", "--format", "json"])["issues"]);
    assert!(open.contains(&finding(
        "open-policy-bucket",
        "s3-bucket",
        "POLICY - No Policy.",
        0
    )));
    assert!(!open.contains(&finding(
        "open-policy-bucket",
        "s3-bucket",
        "Internet Accessible",
        10
    )));

    // Justify SSH from anywhere on the bastion; then the rule becomes port 80 instead. The new
    // evidence is another issue, open and unjustified; the justification stays with port 22.
    let issues = run(&["issues", "--format", "json"]);
    let ssh = issues["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .find(|i| {
            i["resource_name"] == "open-ssh" && i["check_id"] == "internet-accessible-ingress"
        })
        .expect("ssh issue")
        .clone();
    assert_eq!(
        ssh["notes"],
        "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]"
    );
    let id = ssh["id"].as_i64().expect("id").to_string();
    let out = env.cli_env(
        &["justify", &id, "--reason", "bastion host", "--by", "alice"],
        &moto.env(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        item_score(&run(&["report", "--format", "json"]), "open-ssh"),
        (10, 0)
    );

    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let group = ssh["arn"]
        .as_str()
        .and_then(|a| a.rsplit('/').next())
        .expect("group id")
        .to_string();
    revoke_tcp(&ec2, &group, 22, "0.0.0.0/0").await;
    allow_tcp(&ec2, &group, 80, "0.0.0.0/0").await;
    run(&["sweep", "--format", "json"]);
    let issues = run(&["issues", "--status", "all", "--format", "json"]);
    let on_group: Vec<&Value> = issues["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| {
            i["resource_name"] == "open-ssh" && i["check_id"] == "internet-accessible-ingress"
        })
        .collect();
    let port = |p: &str| {
        on_group
            .iter()
            .find(|i| i["notes"].as_str().is_some_and(|n| n.ends_with(p)))
            .unwrap_or_else(|| panic!("no issue for {p}: {on_group:#?}"))
    };
    let (old, new) = (port("tcp:22]"), port("tcp:80]"));
    assert_eq!(
        (old["open"].as_bool(), new["open"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(old["justification"]["reason"], "bastion host");
    assert!(new["justification"].is_null(), "{new}");
    assert_eq!(
        item_score(&run(&["report", "--format", "json"]), "open-ssh"),
        (10, 10)
    );
}
