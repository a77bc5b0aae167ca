//! Time travel through the real binary, on SQLite and PostgreSQL: a history built by real
//! sweeps of moto (a group created, opened to the world while unused — score 0 — attached so
//! the issue is re-scored to 10, justified, fixed, opened again, and a second group deleted),
//! a moment recorded between each step; then `items --at`, `issues --at`, `report --at` and
//! `history --at` must answer exactly what the live commands answered at each moment, and the
//! REST API's `at=` the same.

use std::collections::BTreeSet;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use simian_tests::console::{PASSWORD, add_user};
use simian_tests::moto::{ACCOUNT, Moto, allow_tcp, attach, create_group, free_port, revoke_tcp};
use simian_tests::pg::on_postgres;
use simian_tests::{Env, deploy_shipped, wait_until};

fn config(storage: Option<&str>, web_port: u16) -> String {
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    format!(
        r#"
{storage}
[[accounts]]
id = "{ACCOUNT}"
name = "demo"
regions = ["us-east-1"]

[aws]
requests_per_second = 0

[watch]
interval_seconds = 3600

[web]
listen = "127.0.0.1:{web_port}"

[plugin.security-group.grants]
accounts = true

[[overrides]]
plugin = "security-group"
check = "internet-accessible-egress"
disabled = true
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

/// A moment strictly between what came before and what comes after.
async fn moment() -> i64 {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let now = simian::store::now_ms();
    tokio::time::sleep(Duration::from_millis(20)).await;
    now
}

/// (item id, revision id) of an items listing.
fn item_revisions(v: &Value) -> BTreeSet<(i64, i64)> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["simian"]["itemId"].as_i64().expect("item id"),
                i["simian"]["revisionId"].as_i64().expect("revision id"),
            )
        })
        .collect()
}

/// (issue id, score, justified, regressions) of an issues listing.
fn issue_states(v: &Value) -> BTreeSet<(i64, u64, bool, u64)> {
    v["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| {
            (
                i["id"].as_i64().expect("id"),
                i["score"].as_u64().expect("score"),
                !i["justification"].is_null(),
                i["regressions"].as_u64().expect("regressions"),
            )
        })
        .collect()
}

/// (arn, score, unjustified score, issue ids) per scored item of a report, and its clean ARNs.
type ReportView = (BTreeSet<(String, u64, u64, Vec<i64>)>, BTreeSet<String>);

fn report_view(v: &Value) -> ReportView {
    let scored = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["arn"].as_str().expect("arn").to_string(),
                i["score"].as_u64().expect("score"),
                i["unjustified_score"].as_u64().expect("unjustified"),
                i["issues"]
                    .as_array()
                    .expect("issues")
                    .iter()
                    .map(|x| x["id"].as_i64().expect("id"))
                    .collect(),
            )
        })
        .collect();
    let clean = v["clean"]
        .as_array()
        .expect("clean")
        .iter()
        .map(|c| c["arn"].as_str().expect("arn").to_string())
        .collect();
    (scored, clean)
}

/// What the live commands said at one moment.
struct Snapshot {
    at: i64,
    items: BTreeSet<(i64, i64)>,
    issues: BTreeSet<(i64, u64, bool, u64)>,
    report: ReportView,
    /// The web group's revision in force (None before it was stored).
    web_revision: Option<i64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estate_as_it_was_on_sqlite() {
    time_travel(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estate_as_it_was_on_postgres() {
    on_postgres(
        "time_travel",
        |url| async move { time_travel(Some(&url)).await },
    )
    .await;
}

// Long because it is one story: each step, then every question asked of every moment.
async fn time_travel(storage: Option<&str>) {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let web_port = free_port();
    let env = Env::new(&config(storage, web_port));
    deploy_shipped(&env, "security-group");
    let run = |args: &[&str]| ok_json(&env.cli_env(args, &moto.env()));
    let sweep = || {
        let s = run(&[
            "sweep",
            "--type",
            "AWS::EC2::SecurityGroup",
            "--format",
            "json",
        ]);
        assert_eq!(s["audit"]["failures"], 0, "{s}");
    };
    let web_arn = |id: &str| format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{id}");
    let snapshot = |at: i64, web: &str| {
        let items = run(&["items", "--format", "json"]);
        let web_revision = items["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["arn"] == web_arn(web).as_str())
            .and_then(|i| i["simian"]["revisionId"].as_i64());
        Snapshot {
            at,
            items: item_revisions(&items),
            issues: issue_states(&run(&["issues", "--format", "json"])),
            report: report_view(&run(&["report", "--format", "json"])),
            web_revision,
        }
    };

    let mut moments = Vec::new();
    // Nothing stored yet.
    let t0 = moment().await;
    let web = create_group(&ec2, "web", "web servers").await;
    let temp = create_group(&ec2, "temp", "short-lived").await;
    sweep();
    moments.push(snapshot(moment().await, &web));
    // SSH open to the world on a group nothing uses: found, scored 0.
    allow_tcp(&ec2, &web, 22, "0.0.0.0/0").await;
    sweep();
    moments.push(snapshot(moment().await, &web));
    // In use now: the same issue re-scored to 10.
    attach(&ec2, &[&web]).await;
    sweep();
    moments.push(snapshot(moment().await, &web));
    let open = run(&["issues", "--format", "json"]);
    let ssh: Vec<&Value> = open["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| {
            i["arn"] == web_arn(&web).as_str() && i["check_id"] == "internet-accessible-ingress"
        })
        .collect();
    assert_eq!(ssh.len(), 1, "{open:#}");
    let ssh_id = ssh[0]["id"].as_i64().expect("id");
    let id_text = ssh_id.to_string();
    // Justified for a while.
    let out = env.cli(&["justify", &id_text, "--reason", "bastion", "--by", "alice"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    moments.push(snapshot(moment().await, &web));
    // Fixed.
    revoke_tcp(&ec2, &web, 22, "0.0.0.0/0").await;
    sweep();
    moments.push(snapshot(moment().await, &web));
    // Open again (a regression) and the other group deleted.
    allow_tcp(&ec2, &web, 22, "0.0.0.0/0").await;
    ec2.delete_security_group()
        .group_id(&temp)
        .send()
        .await
        .expect("delete temp");
    sweep();
    moments.push(snapshot(moment().await, &web));

    // The story as the live commands told it.
    let score_of = |s: &Snapshot| {
        s.issues
            .iter()
            .find(|i| i.0 == ssh_id)
            .map(|i| (i.1, i.2, i.3))
    };
    assert_eq!(score_of(&moments[0]), None);
    assert_eq!(score_of(&moments[1]), Some((0, false, 0)), "unused: 0");
    assert_eq!(score_of(&moments[2]), Some((10, false, 0)), "re-scored");
    assert_eq!(score_of(&moments[3]), Some((10, true, 0)), "justified");
    assert_eq!(score_of(&moments[4]), None, "fixed");
    assert_eq!(score_of(&moments[5]), Some((10, true, 1)), "regressed");
    assert_eq!(
        moments[5].items.len() + 1,
        moments[4].items.len(),
        "temp deleted"
    );
    let revisions: BTreeSet<i64> = moments.iter().filter_map(|s| s.web_revision).collect();
    assert_eq!(
        revisions.len(),
        5,
        "web changed in every sweep but the justify step"
    );

    // Every moment, asked afterwards.
    for (k, s) in moments.iter().enumerate() {
        let at = s.at.to_string();
        let items = run(&["items", "--at", &at, "--format", "json"]);
        assert_eq!(items["at"], s.at, "moment {k}");
        assert_eq!(item_revisions(&items), s.items, "items at moment {k}");
        // The table reads identities only (no documents): the same items.
        let listed = env.cli_env(&["items", "--at", &at], &moto.env());
        assert!(listed.status.success());
        let ids: BTreeSet<i64> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        let expected: BTreeSet<i64> = s.items.iter().map(|(item, _)| *item).collect();
        assert_eq!(ids, expected, "items table at moment {k}");
        let issues = run(&["issues", "--at", &at, "--format", "json"]);
        assert_eq!(issue_states(&issues), s.issues, "issues at moment {k}");
        let report = run(&["report", "--at", &at, "--format", "json"]);
        assert_eq!(report_view(&report), s.report, "report at moment {k}");
        let history = run(&["history", &web_arn(&web), "--at", &at, "--format", "json"]);
        let revs = history["revisions"].as_array().expect("revisions");
        assert_eq!(revs.len(), 1, "moment {k}: {history:#}");
        assert_eq!(
            revs[0]["revision"].as_i64(),
            s.web_revision,
            "history at moment {k}"
        );
        assert_eq!(revs[0]["via"], "sweep");
    }
    // Before anything: an empty estate, and an item that did not exist yet.
    let t0s = t0.to_string();
    let before = run(&["items", "--at", &t0s, "--format", "json"]);
    assert_eq!(item_revisions(&before).len(), 0, "{before:#}");
    assert_eq!(
        issue_states(&run(&["issues", "--at", &t0s, "--format", "json"])).len(),
        0
    );
    let history = run(&["history", &web_arn(&web), "--at", &t0s, "--format", "json"]);
    assert_eq!(history["revisions"].as_array().map(Vec::len), Some(0));
    // Fixed at moment 4 (not open), with the re-scored score it had.
    let at4 = moments[4].at.to_string();
    let fixed = run(&[
        "issues", "--status", "fixed", "--at", &at4, "--format", "json",
    ]);
    assert!(
        fixed["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .any(|i| i["id"] == ssh_id && i["score"] == 10),
        "{fixed:#}"
    );
    // The deleted group is in the estate at moment 5 only with --include-deleted.
    let at5 = moments[5].at.to_string();
    let with_deleted = run(&[
        "items",
        "--at",
        &at5,
        "--include-deleted",
        "--format",
        "json",
    ]);
    let gone: Vec<&Value> = with_deleted["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["simian"]["deleted"] == true)
        .collect();
    assert_eq!(gone.len(), 1, "{with_deleted:#}");
    assert_eq!(gone[0]["arn"], web_arn(&temp).as_str());
    // Dates and RFC 3339 are moments too: the far future is now, 1970 is before everything.
    let future = run(&["items", "--at", "9999-12-31", "--format", "json"]);
    assert_eq!(item_revisions(&future), moments[5].items);
    let epoch = run(&["items", "--at", "1970-01-01T00:00:00Z", "--format", "json"]);
    assert_eq!(item_revisions(&epoch).len(), 0);
    let bad = env.cli(&["items", "--at", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--at"));

    // The issue's timeline, as the OCSF export will read it.
    let store = simian::store::Store::open_reader(&env.config().storage.url)
        .await
        .expect("store");
    let timeline = store.issue_timeline(ssh_id).await.expect("timeline");
    let events: Vec<(&str, u32)> = timeline
        .iter()
        .map(|e| (e.event.as_str(), e.score))
        .collect();
    assert_eq!(
        events,
        [
            ("new", 0),
            ("rescored", 10),
            ("fixed", 10),
            ("regressed", 10)
        ]
    );
    store.close().await;
    // OCSF reads the timeline as of the moment: new at 1 (Create), re-scored at 2 (Update).
    let activity_at = |at: i64| -> Value {
        let out = env.cli_env(
            &["issues", "--at", &at.to_string(), "--format", "ocsf"],
            &moto.env(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("one finding per line"))
            .find(|f| f["unmapped"]["simian_issue_id"] == ssh_id)
            .map(|f| f["activity_id"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(activity_at(moments[1].at), 1);
    assert_eq!(activity_at(moments[2].at), 2);

    // The REST API's at= answers the same.
    add_user(&env, "viewer", "viewer", PASSWORD);
    let token = String::from_utf8_lossy(&env.cli(&["token", "create", "--user", "viewer"]).stdout)
        .trim()
        .to_string();
    let host = env.start_host_env(&moto.env());
    let up = wait_until(Duration::from_secs(60), || {
        std::net::TcpStream::connect(("127.0.0.1", web_port)).is_ok()
    });
    assert!(up, "console never listened:\n{}", host.log_text());
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let token = token.clone();
        async move {
            let r = http
                .get(format!("http://127.0.0.1:{web_port}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .expect("GET");
            let status = r.status().as_u16();
            let text = r.text().await.expect("body");
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
            )
        }
    };
    for (k, s) in moments.iter().enumerate() {
        let (status, items) = get(format!("/api/v1/items?limit=500&at={}", s.at)).await;
        assert_eq!(status, 200, "{items}");
        assert_eq!(item_revisions(&items), s.items, "API items at moment {k}");
        assert_eq!(items["total"].as_u64(), Some(s.items.len() as u64));
        assert_eq!(items["at"], s.at);
        let (status, issues) = get(format!("/api/v1/issues?limit=500&at={}", s.at)).await;
        assert_eq!(status, 200, "{issues}");
        assert_eq!(issue_states(&issues), s.issues, "API issues at moment {k}");
    }
    let (_, empty) = get(format!("/api/v1/items?at={t0}")).await;
    assert_eq!(empty["total"], 0, "{empty}");
    // Hostile moments: a clear 400 naming the parameter.
    for bad in [
        "garbage",
        "99999999999999999999999",
        "-5",
        "253402300800000",
        "%00",
    ] {
        for endpoint in ["items", "issues"] {
            let (status, body) = get(format!("/api/v1/{endpoint}?at={bad}")).await;
            assert_eq!(status, 400, "{endpoint} at={bad}: {body}");
            assert!(
                body["error"].as_str().is_some_and(|e| e.contains("`at`")),
                "{endpoint} at={bad}: {body}"
            );
        }
    }
    let (status, _) = get(format!("/api/v1/items?at={t0}&at={t0}")).await;
    assert_eq!(status, 400, "a repeated at");
    drop(host);
}
