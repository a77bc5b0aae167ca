//! `simian replay` through the real binary: a rule run over every stored revision says when
//! each finding first appeared (with who made that change), when it was fixed or went with its
//! item, and leaves the live issues untouched. On SQLite and PostgreSQL.

use std::collections::HashMap;

use serde_json::Value;
use simian::item::Item;
use simian::store::{Listing, Refresh, Scope, Store};
use simian_model::actor::Actor;
use simian_tests::pg::on_postgres;
use simian_tests::{Env, HISTORY_ACCOUNT, deploy_shipped, sg_arn, sg_item};

const ACCOUNT: &str = HISTORY_ACCOUNT;

/// Group `id` as observed on 2026-03-0`day` (the capture time is what a revision is dated by).
fn sg(id: &str, ports: &[(i64, &str)], tag: &str, day: u32) -> Item {
    sg_item(id, ports, tag, &format!("2026-03-0{day}T00:00:00Z"))
}

fn arn(id: &str) -> String {
    sg_arn(id)
}

fn scope() -> Scope {
    Scope {
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        resource_type: "AWS::EC2::SecurityGroup".into(),
    }
}

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

/// Distinct capture days, so `--since` can fall between two sweeps.
async fn sweep(store: &Store, listing: Listing) {
    let id = store.begin_sweep().await.expect("begin");
    store
        .apply_listing(id, &scope(), listing)
        .await
        .expect("apply");
    store.finish_sweep(id).await.expect("finish");
}

/// Every issue row, open or not, disabled or not: what a replay must leave alone.
async fn issue_rows(store: &Store) -> String {
    let all = simian::store::IssueFilter {
        open: None,
        include_disabled: true,
        ..Default::default()
    };
    serde_json::to_string(&store.issues(&all).await.expect("issues")).expect("json")
}

fn revision_ids(history: &[simian::store::Revision]) -> Vec<i64> {
    history.iter().map(|r| r.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_finds_first_seen_revisions_on_sqlite() {
    replay_history(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_finds_first_seen_revisions_on_postgres() {
    on_postgres("replay", |url| async move {
        replay_history(Some(&url)).await;
    })
    .await;
}

// Long because it is one story: build a history, then ask it four questions.
async fn replay_history(storage: Option<&str>) {
    let env = Env::new(&match storage {
        Some(url) => format!("[storage]\nurl = \"{url}\""),
        None => String::new(),
    });
    deploy_shipped(&env, "sg-internet-accessible");
    let url = env.config().storage.url.clone();
    let store = Store::open(&url).await.expect("store");

    // 1: a clean, b open to the world on 22, c open on 3389.
    sweep(
        &store,
        Listing::Complete(vec![
            sg("sg-a", &[(443, "10.0.0.0/8")], "web", 1),
            sg("sg-b", &[(22, "0.0.0.0/0")], "ops", 1),
            sg("sg-c", &[(3389, "0.0.0.0/0")], "ops", 1),
        ]),
    )
    .await;
    // 2: alice opens a to the world (found through her CloudTrail event).
    let actor = Actor {
        arn: Some(ALICE.into()),
        identity_type: Some("IAMUser".into()),
        invoked_by: None,
        event_source: "ec2.amazonaws.com".into(),
        event_name: "AuthorizeSecurityGroupIngress".into(),
        event_time: "2026-11-30T12:00:00Z".into(),
        source_ip: None,
        user_agent: None,
        event_id: "ev-1".into(),
    };
    let refresh = Refresh {
        found: vec![sg(
            "sg-a",
            &[(443, "10.0.0.0/8"), (22, "0.0.0.0/0")],
            "web",
            2,
        )],
        gone: vec![],
        actors: HashMap::from([("sg-a".to_string(), actor)]),
        events: vec![("ev-1".into(), "AuthorizeSecurityGroupIngress".into())],
    };
    let id = store
        .begin_sweep_via(simian::store::Via::Event)
        .await
        .expect("begin refresh");
    store
        .apply_listing(id, &scope(), Listing::Refresh(refresh))
        .await
        .expect("refresh");
    store.finish_sweep(id).await.expect("finish refresh");
    // 3: b is fixed.
    sweep(
        &store,
        Listing::Complete(vec![
            sg("sg-a", &[(443, "10.0.0.0/8"), (22, "0.0.0.0/0")], "web", 3),
            sg("sg-b", &[(22, "10.1.0.0/16")], "ops", 3),
            sg("sg-c", &[(3389, "0.0.0.0/0")], "ops", 3),
        ]),
    )
    .await;
    // 4: a's tag changes (still open), c is deleted.
    sweep(
        &store,
        Listing::Complete(vec![
            sg(
                "sg-a",
                &[(443, "10.0.0.0/8"), (22, "0.0.0.0/0")],
                "platform",
                4,
            ),
            sg("sg-b", &[(22, "10.1.0.0/16")], "ops", 4),
        ]),
    )
    .await;
    let a = revision_ids(&store.history(&arn("sg-a")).await.expect("a"));
    let b = revision_ids(&store.history(&arn("sg-b")).await.expect("b"));
    let c = revision_ids(&store.history(&arn("sg-c")).await.expect("c"));
    assert_eq!((a.len(), b.len(), c.len()), (3, 2, 2), "{a:?} {b:?} {c:?}");
    let issues_before = issue_rows(&store).await;

    let out = env.cli(&["replay", "sg-internet-accessible", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let summary = &report["summary"];
    assert_eq!(summary["revisions"], 7, "{summary}");
    assert_eq!(summary["items"], 3);
    assert_eq!(summary["audited"], 6, "the deletion is not judged");
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["findings"], 3);
    assert_eq!(summary["stillOpen"], 1);
    let findings = report["findings"].as_array().expect("findings");
    let of = |id: &str| -> &Value {
        findings
            .iter()
            .find(|f| f["arn"] == arn(id))
            .unwrap_or_else(|| panic!("no finding for {id}: {report}"))
    };
    // a: open since alice's change, revision a[1], still open through the tag change.
    assert_eq!(of("sg-a")["opened"]["revision"], a[1]);
    assert_eq!(of("sg-a")["opened"]["actor"]["arn"], ALICE);
    assert!(of("sg-a").get("closed").is_none());
    assert_eq!(of("sg-a")["checkId"], "internet-accessible");
    // b: open from its first revision, fixed at its second.
    assert_eq!(of("sg-b")["opened"]["revision"], b[0]);
    assert_eq!(of("sg-b")["closed"]["revision"], b[1]);
    assert_eq!(of("sg-b")["closedBy"], "fixed");
    let b_open = of("sg-b")["openForMs"].as_i64().expect("ms");
    assert_eq!(b_open, 2 * 86_400_000, "open from 2026-03-01 to 2026-03-03");
    // c: went with its item.
    assert_eq!(of("sg-c")["opened"]["revision"], c[0]);
    assert_eq!(of("sg-c")["closed"]["revision"], c[1]);
    assert_eq!(of("sg-c")["closedBy"], "deleted");

    // Replaying changed nothing live.
    assert_eq!(issue_rows(&store).await, issues_before);

    // --since: the revision in force then is the baseline, so a still starts at alice's change;
    // b was already fixed and c is still there until its deletion.
    let out = env.cli(&[
        "replay",
        "sg-internet-accessible",
        "--since",
        "2026-03-03T12:00:00Z",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["summary"]["revisions"], 5, "{}", report["summary"]);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{report}");
    assert!(
        findings
            .iter()
            .any(|f| f["arn"] == arn("sg-a") && f["opened"]["revision"] == a[1])
    );
    assert!(
        findings
            .iter()
            .any(|f| f["arn"] == arn("sg-c") && f["closedBy"] == "deleted")
    );

    // The table says it in a sentence; a candidate file replays the same way.
    let wasm = env
        .plugins_dir()
        .join("sg-internet-accessible/sg-internet-accessible.wasm");
    let out = env.cli(&["replay", wasm.to_str().expect("utf-8 path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "{} has had \"Internet Accessible\" since",
            arn("sg-a")
        )) && text.contains(&format!("revision {}, changed by {ALICE}", a[1])),
        "{text}"
    );
    assert!(text.contains("replayed 7 revisions of 3 items"), "{text}");
    assert!(
        text.contains("since 2026-03-02T00:00:00Z, revision"),
        "{text}"
    );
    assert!(text.contains("2d 0h"), "b's two days open: {text}");

    // Bad input: a type the rule does not audit, a date that is not one, no such plugin.
    let out = env.cli(&[
        "replay",
        "sg-internet-accessible",
        "--type",
        "AWS::S3::Bucket",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not audit AWS::S3::Bucket"), "{err}");
    let out = env.cli(&[
        "replay",
        "sg-internet-accessible",
        "--since",
        "yesterday-ish",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--since"),
        "{out:?}"
    );
    let out = env.cli(&["replay", "no-such-rule"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no plugin `no-such-rule`"),
        "{out:?}"
    );
    store.close().await;
}
