//! The configuration-history store on both backends. Every test body runs on SQLite (a temp
//! file) and on PostgreSQL (a fresh database per test, dropped afterwards) when
//! `SIMIAN_TEST_POSTGRES_URL` is set. Without it the PostgreSQL variants skip locally and fail
//! when `CI` is set: both backends are mandatory in CI.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use simian::item::Item;
use simian::services::items::ItemSource;
use simian::store::{
    ChangeKind, DiffOp, ItemFilter, Listing, Scope, Store, StoreError, SweepStatus, diff,
};
use simian_tests::pg::with_database;

const ACCOUNT: &str = "123456789012";
const OTHER_ACCOUNT: &str = "210987654321";
const PG_ENV: &str = "SIMIAN_TEST_POSTGRES_URL";
const CHILD_ENV: &str = "SIMIAN_STORE_CRASH_CHILD_URL";

// ---------------------------------------------------------------------------------------------
// Fixtures

fn sg_in(account: &str, id: &str, port: u64) -> Item {
    Item::from_envelope(&json!({
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": id,
        "resourceName": format!("web-{id}"),
        "arn": format!("arn:aws:ec2:us-east-1:{account}:security-group/{id}"),
        "accountId": account,
        "awsRegion": "us-east-1",
        "configurationItemCaptureTime": "2024-05-01T12:00:00Z",
        "configuration": {
            "groupId": id,
            "groupName": format!("web-{id}"),
            "ipPermissions": [
                {"fromPort": port, "toPort": port, "ipProtocol": "tcp",
                 "ipRanges": ["10.0.0.0/8", "192.168.0.0/16"]}
            ]
        },
        "tags": {"env": "test"}
    }))
    .expect("valid security group")
}

fn sg(id: &str, port: u64) -> Item {
    sg_in(ACCOUNT, id, port)
}

fn user(name: &str, key_status: &str, last_used: &str) -> Item {
    Item::from_envelope(&json!({
        "resourceType": "AWS::IAM::User",
        "resourceId": format!("AIDA{}", name.to_uppercase()),
        "resourceName": name,
        "arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        "accountId": ACCOUNT,
        "awsRegion": "global",
        "configurationItemCaptureTime": "2024-05-01T12:00:00Z",
        "configuration": {
            "userName": name,
            "passwordLastUsed": "2024-04-01T00:00:00Z",
            "accessKeys": [
                {"accessKeyId": "AKIA1", "status": key_status,
                 "lastUsedDate": last_used, "lastUsedService": "s3", "lastUsedRegion": "us-east-1"}
            ]
        }
    }))
    .expect("valid user")
}

fn sg_scope_in(account: &str) -> Scope {
    Scope {
        account_id: account.into(),
        region: "us-east-1".into(),
        resource_type: "AWS::EC2::SecurityGroup".into(),
    }
}

fn sg_scope() -> Scope {
    sg_scope_in(ACCOUNT)
}

fn user_scope() -> Scope {
    Scope {
        account_id: ACCOUNT.into(),
        region: "global".into(),
        resource_type: "AWS::IAM::User".into(),
    }
}

fn sg_arn(id: &str) -> String {
    format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{id}")
}

async fn open(url: &str) -> Store {
    Store::open(url).await.expect("store opens")
}

/// Run one sweep of one scope and finish it.
async fn sweep_once(store: &Store, scope: &Scope, listing: Listing) -> simian::store::ScopeSummary {
    let sweep = store.begin_sweep().await.expect("begin sweep");
    let summary = store
        .apply_listing(sweep, scope, listing)
        .await
        .expect("apply listing");
    store.finish_sweep(sweep).await.expect("finish sweep");
    summary
}

/// Raw SQL on the test database, for the fault-injection tests only.
async fn raw(url: &str, statements: &[&str]) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .expect("raw connection");
    for s in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(s.to_string()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    conn.close().await.expect("close raw connection");
}

// ---------------------------------------------------------------------------------------------
// Test bodies: each gets the URL of an empty database.

async fn first_sweep_records_every_item_as_created(url: String) {
    let store = open(&url).await;
    let items: Vec<Item> = (0..120).map(|i| sg(&format!("sg-{i:03}"), 22)).collect();
    let sweep = store.begin_sweep().await.expect("begin");
    let s = store
        .apply_listing(sweep, &sg_scope(), Listing::Complete(items.clone()))
        .await
        .expect("apply");
    assert_eq!(
        (
            s.created,
            s.modified,
            s.deleted,
            s.unchanged,
            s.ephemeral_updates
        ),
        (120, 0, 0, 0, 0)
    );
    assert_eq!(s.changes.len(), 120);
    assert!(s.changes.iter().all(|c| c.kind == ChangeKind::Created));
    assert_eq!(s.changes[7].key.resource_id, "sg-007");
    assert_eq!(s.changes[7].arn, sg_arn("sg-007"));
    let record = store.finish_sweep(sweep).await.expect("finish");
    assert_eq!(record.status, SweepStatus::Complete);
    assert_eq!((record.created, record.errors), (120, 0));
    assert!(record.finished_ms.is_some());

    let current = store
        .current_items(&ItemFilter::default())
        .await
        .expect("current");
    assert_eq!(current.len(), 120);
    assert_eq!(current[5].item, items[5], "the item reads back as written");
    for c in &s.changes {
        let h = store
            .history(&c.item_id.to_string())
            .await
            .expect("history");
        assert_eq!(h.len(), 1);
        assert_eq!((h[0].id, h[0].kind), (c.revision_id, ChangeKind::Created));
        assert_eq!(h[0].captured_at_ms, 1_714_564_800_000);
    }

    // The same listing again writes nothing at all.
    let again = sweep_once(&store, &sg_scope(), Listing::Complete(items)).await;
    assert_eq!((again.unchanged, again.rows_written), (120, 0));
    assert!(again.changes.is_empty());
    assert_eq!(store.counts().await.expect("counts"), (120, 120));
    // Reopening runs no migration twice and keeps everything.
    store.close().await;
    let store = open(&url).await;
    assert_eq!(store.counts().await.expect("counts"), (120, 120));
}

async fn durable_change_is_one_modified_revision_with_a_diff(url: String) {
    let store = open(&url).await;
    sweep_once(
        &store,
        &sg_scope(),
        Listing::Complete(vec![sg("sg-1", 22), sg("sg-2", 22)]),
    )
    .await;
    let mut changed = sg("sg-1", 443);
    changed.capture_time = "2024-05-02T12:00:00Z".into();
    let s = sweep_once(
        &store,
        &sg_scope(),
        Listing::Complete(vec![changed.clone(), sg("sg-2", 22)]),
    )
    .await;
    assert_eq!((s.created, s.modified, s.unchanged), (0, 1, 1));
    assert_eq!(s.changes.len(), 1);
    assert_eq!(s.changes[0].kind, ChangeKind::Modified);
    // One new revision + the item row.
    assert_eq!(s.rows_written, 2);

    let h = store.history(&sg_arn("sg-1")).await.expect("history");
    assert_eq!(h.len(), 2);
    assert_eq!(
        (h[0].kind, h[1].kind),
        (ChangeKind::Created, ChangeKind::Modified)
    );
    assert_eq!(h[1].id, s.changes[0].revision_id);
    assert_ne!(h[0].durable_hash, h[1].durable_hash);
    assert!(h[1].captured_at_ms > h[0].captured_at_ms);
    let d = diff(&h[0].document, &h[1].document);
    let port = d
        .iter()
        .find(|e| e.path == "configuration.ipPermissions[0].fromPort")
        .expect("diff names the changed port");
    assert_eq!(port.op, DiffOp::Changed);
    assert_eq!(
        (port.old.clone(), port.new.clone()),
        (Some(json!(22)), Some(json!(443)))
    );
    assert!(
        d.iter()
            .any(|e| e.path == "configuration.ipPermissions[0].toPort")
    );
    // The unchanged item kept its single revision.
    assert_eq!(store.history(&sg_arn("sg-2")).await.expect("h").len(), 1);
    let current = store
        .item_by_arn(&sg_arn("sg-1"))
        .await
        .expect("lookup")
        .expect("present");
    assert_eq!(current.item, changed);
    assert_eq!(current.revision_id, h[1].id);
}

async fn ephemeral_change_updates_the_latest_revision_in_place(url: String) {
    let store = open(&url).await;
    let arn = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    sweep_once(
        &store,
        &user_scope(),
        Listing::Complete(vec![user("alice", "Active", "2024-04-01T00:00:00Z")]),
    )
    .await;
    let before = store.history(&arn).await.expect("history");
    let s = sweep_once(
        &store,
        &user_scope(),
        Listing::Complete(vec![user("alice", "Active", "2024-05-01T09:30:00Z")]),
    )
    .await;
    assert_eq!((s.modified, s.created, s.ephemeral_updates), (0, 0, 1));
    assert!(s.changes.is_empty());
    // The revision's document and the item's complete hash.
    assert_eq!(s.rows_written, 2);
    let after = store.history(&arn).await.expect("history");
    assert_eq!(after.len(), 1, "no new revision for an ephemeral change");
    assert_eq!(after[0].id, before[0].id);
    assert_eq!(after[0].durable_hash, before[0].durable_hash);
    assert_ne!(after[0].complete_hash, before[0].complete_hash);
    assert_eq!(
        after[0].document["configuration"]["accessKeys"][0]["lastUsedDate"],
        json!("2024-05-01T09:30:00Z")
    );
    // Seen again unchanged: nothing written; then a durable change is a revision.
    let s = sweep_once(
        &store,
        &user_scope(),
        Listing::Complete(vec![user("alice", "Active", "2024-05-01T09:30:00Z")]),
    )
    .await;
    assert_eq!((s.unchanged, s.rows_written), (1, 0));
    let s = sweep_once(
        &store,
        &user_scope(),
        Listing::Complete(vec![user("alice", "Inactive", "2024-05-01T09:30:00Z")]),
    )
    .await;
    assert_eq!(s.modified, 1);
    let h = store.history(&arn).await.expect("history");
    assert_eq!(h.len(), 2);
    let d = diff(&h[0].document, &h[1].document);
    assert_eq!(
        d.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        vec!["configuration.accessKeys[0].status"]
    );
}

async fn missing_item_in_complete_listing_is_deleted(url: String) {
    let store = open(&url).await;
    sweep_once(
        &store,
        &sg_scope(),
        Listing::Complete(vec![sg("sg-1", 22), sg("sg-2", 80)]),
    )
    .await;
    let s = sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 22)])).await;
    assert_eq!(
        (s.deleted, s.unchanged, s.created, s.modified),
        (1, 1, 0, 0)
    );
    assert_eq!(s.changes.len(), 1);
    assert_eq!(s.changes[0].kind, ChangeKind::Deleted);
    assert_eq!(s.changes[0].key.resource_id, "sg-2");
    let h = store.history(&sg_arn("sg-2")).await.expect("history");
    assert_eq!(
        h.iter().map(|r| r.kind).collect::<Vec<_>>(),
        vec![ChangeKind::Created, ChangeKind::Deleted]
    );
    assert_eq!(
        h[1].document, h[0].document,
        "deletion keeps the last known document"
    );
    assert_eq!(h[1].id, s.changes[0].revision_id);

    let live = store
        .current_items(&ItemFilter::default())
        .await
        .expect("current");
    assert_eq!(live.len(), 1);
    let all = store
        .current_items(&ItemFilter {
            include_deleted: true,
            ..ItemFilter::default()
        })
        .await
        .expect("current");
    assert_eq!(all.len(), 2);
    let gone = all.iter().find(|i| i.deleted).expect("a deleted item");
    assert_eq!(gone.item.resource_id, "sg-2");
    // Still gone next time: no second deletion.
    let s = sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 22)])).await;
    assert_eq!((s.deleted, s.rows_written), (0, 0));
}

async fn failed_listing_deletes_nothing_and_records_the_error(url: String) {
    let store = open(&url).await;
    sweep_once(
        &store,
        &sg_scope(),
        Listing::Complete(vec![sg("sg-1", 22), sg("sg-2", 22), sg("sg-3", 22)]),
    )
    .await;
    let sweep = store.begin_sweep().await.expect("begin");
    let s = store
        .apply_listing(
            sweep,
            &sg_scope(),
            Listing::Failed {
                partial: vec![sg("sg-1", 443), sg("sg-4", 22)],
                error: "Throttling: rate exceeded".into(),
                retries: 5,
            },
        )
        .await
        .expect("apply");
    assert!(s.listing_failed);
    assert_eq!((s.created, s.modified, s.deleted), (1, 1, 0));
    let record = store.finish_sweep(sweep).await.expect("finish");
    assert_eq!(record.status, SweepStatus::Partial);
    assert_eq!((record.errors, record.created, record.modified), (1, 1, 1));
    let errors = store.listing_errors(sweep).await.expect("errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].error, "Throttling: rate exceeded");
    assert_eq!(errors[0].retries, 5);
    assert_eq!(errors[0].resource_type, "AWS::EC2::SecurityGroup");
    let live = store
        .current_items(&ItemFilter::default())
        .await
        .expect("current");
    let ids: Vec<&str> = live.iter().map(|i| i.item.resource_id.as_str()).collect();
    assert_eq!(ids, vec!["sg-1", "sg-2", "sg-3", "sg-4"]);
    assert_eq!(store.history(&sg_arn("sg-2")).await.expect("h").len(), 1);
    assert_eq!(store.history(&sg_arn("sg-1")).await.expect("h").len(), 2);
}

async fn reappearance_after_deletion_is_created(url: String) {
    let store = open(&url).await;
    sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 22)])).await;
    sweep_once(&store, &sg_scope(), Listing::Complete(vec![])).await;
    let s = sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 22)])).await;
    assert_eq!((s.created, s.modified, s.unchanged), (1, 0, 0));
    assert_eq!(s.changes[0].kind, ChangeKind::Created);
    let h = store.history(&sg_arn("sg-1")).await.expect("history");
    assert_eq!(
        h.iter().map(|r| r.kind).collect::<Vec<_>>(),
        vec![
            ChangeKind::Created,
            ChangeKind::Deleted,
            ChangeKind::Created
        ]
    );
    let item = store
        .item_by_arn(&sg_arn("sg-1"))
        .await
        .expect("lookup")
        .expect("present");
    assert!(!item.deleted);
    assert_eq!(item.id, h[0].item_id, "same item row, new life");
}

async fn scopes_are_independent(url: String) {
    let store = open(&url).await;
    let a = sg_scope();
    let b = sg_scope_in(OTHER_ACCOUNT);
    let sweep = store.begin_sweep().await.expect("begin");
    store
        .apply_listing(
            sweep,
            &a,
            Listing::Complete(vec![sg("sg-1", 22), sg("sg-2", 22)]),
        )
        .await
        .expect("a");
    store
        .apply_listing(
            sweep,
            &b,
            Listing::Complete(vec![sg_in(OTHER_ACCOUNT, "sg-1", 22)]),
        )
        .await
        .expect("b");
    store.finish_sweep(sweep).await.expect("finish");

    // B fails outright, A lists only sg-1: A deletes sg-2, B keeps everything.
    let sweep = store.begin_sweep().await.expect("begin");
    let sa = store
        .apply_listing(sweep, &a, Listing::Complete(vec![sg("sg-1", 22)]))
        .await
        .expect("a");
    let sb = store
        .apply_listing(
            sweep,
            &b,
            Listing::Failed {
                partial: vec![],
                error: "AccessDenied".into(),
                retries: 0,
            },
        )
        .await
        .expect("b");
    assert_eq!((sa.deleted, sa.unchanged), (1, 1));
    assert_eq!((sb.deleted, sb.unchanged, sb.rows_written), (0, 0, 0));
    let record = store.finish_sweep(sweep).await.expect("finish");
    assert_eq!(
        (record.status, record.deleted, record.errors),
        (SweepStatus::Partial, 1, 1)
    );
    let in_b = store
        .current_items(&ItemFilter {
            account_id: Some(OTHER_ACCOUNT.into()),
            ..ItemFilter::default()
        })
        .await
        .expect("current");
    assert_eq!(in_b.len(), 1);
    // The same resource id in another account is another item.
    assert_ne!(
        in_b[0].id,
        store
            .item_by_arn(&sg_arn("sg-1"))
            .await
            .expect("l")
            .expect("p")
            .id
    );

    // An item from the wrong scope is refused before anything is written.
    let sweep = store.begin_sweep().await.expect("begin");
    let err = store
        .apply_listing(
            sweep,
            &a,
            Listing::Complete(vec![sg_in(OTHER_ACCOUNT, "sg-9", 1)]),
        )
        .await
        .expect_err("scope mismatch");
    assert!(matches!(err, StoreError::ScopeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("account id"), "{err}");
}

async fn failure_mid_transaction_leaves_nothing_half_written(url: String) {
    let store = open(&url).await;
    let mut baseline: Vec<Item> = (0..60).map(|i| sg(&format!("sg-{i:03}"), 22)).collect();
    let mut poisoned = sg("sg-poison", 22);
    poisoned.resource_name = "POISON".into();
    baseline.push(poisoned);
    sweep_once(&store, &sg_scope(), Listing::Complete(baseline)).await;
    let before = store.counts().await.expect("counts");
    assert_eq!(before, (61, 61));

    // The 'deleted' revision for the poisoned item is the last write of an apply: by then
    // new items, revisions, item updates and in-place updates have all been written.
    if url.starts_with("postgres") {
        raw(
            &url,
            &[
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                   IF NEW.kind = 'deleted' AND NEW.document LIKE '%POISON%' THEN
                     RAISE EXCEPTION 'poisoned revision';
                   END IF;
                   RETURN NEW;
                 END $$",
                "CREATE TRIGGER poison BEFORE INSERT ON revisions
                 FOR EACH ROW EXECUTE FUNCTION poison()",
            ],
        )
        .await;
    } else {
        raw(
            &url,
            &["CREATE TRIGGER poison BEFORE INSERT ON revisions
               WHEN NEW.kind = 'deleted' AND NEW.document LIKE '%POISON%'
               BEGIN SELECT RAISE(ABORT, 'poisoned revision'); END"],
        )
        .await;
    }
    let mut listing: Vec<Item> = (0..60)
        .map(|i| sg(&format!("sg-{i:03}"), if i < 30 { 443 } else { 22 }))
        .collect();
    listing.extend((0..120).map(|i| sg(&format!("sg-new-{i:03}"), 22)));
    let sweep = store.begin_sweep().await.expect("begin");
    let err = store
        .apply_listing(sweep, &sg_scope(), Listing::Complete(listing.clone()))
        .await
        .expect_err("the trigger fails the apply");
    assert!(err.to_string().contains("poisoned revision"), "{err}");

    assert_eq!(store.counts().await.expect("counts"), before);
    let h = store.history(&sg_arn("sg-000")).await.expect("history");
    assert_eq!(h.len(), 1, "the modification was rolled back");
    let current = store
        .item_by_arn(&sg_arn("sg-000"))
        .await
        .expect("l")
        .expect("p");
    assert_eq!(current.item.configuration, sg("sg-000", 22).configuration);
    assert!(
        store
            .item_by_arn(&sg_arn("sg-new-000"))
            .await
            .expect("l")
            .is_none()
    );
    let poisoned = store
        .item_by_arn(&sg_arn("sg-poison"))
        .await
        .expect("l")
        .expect("p");
    assert!(!poisoned.deleted);

    // With the fault gone the same listing applies in full, in the same sweep.
    let drop_trigger: &[&str] = if url.starts_with("postgres") {
        &["DROP TRIGGER poison ON revisions", "DROP FUNCTION poison()"]
    } else {
        &["DROP TRIGGER poison"]
    };
    raw(&url, drop_trigger).await;
    let s = store
        .apply_listing(sweep, &sg_scope(), Listing::Complete(listing))
        .await
        .expect("apply");
    assert_eq!(
        (s.created, s.modified, s.deleted, s.unchanged),
        (120, 30, 1, 30)
    );
    let record = store.finish_sweep(sweep).await.expect("finish");
    assert_eq!(
        (record.created, record.modified, record.deleted),
        (120, 30, 1)
    );
}

/// Child side of `killed_process_*`: three rounds modifying 1,000 items, then a fourth that
/// stalls inside its transaction (the test's trigger) until killed. A no-op unless started by
/// that test.
#[tokio::test]
async fn crash_child_helper() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = open(&url).await;
    let sweep = store.begin_sweep().await.expect("begin");
    for round in 1..=4u64 {
        let mut items: Vec<Item> = (0..1_000)
            .map(|i| sg(&format!("sg-{i:04}"), round))
            .collect();
        if round == 4 {
            let mut stall = sg("sg-stall", 1);
            stall.resource_name = "STALL".into();
            items.push(stall);
        }
        store
            .apply_listing(sweep, &sg_scope(), Listing::Complete(items))
            .await
            .expect("apply");
        println!("applied {round}");
    }
}

async fn killed_process_leaves_whole_transactions_and_an_aborted_sweep(url: String) {
    // Schema first, then a trigger that parks the child's fourth apply mid-transaction: by
    // then its new item row and a thousand revisions are written but not committed.
    drop(open(&url).await);
    if url.starts_with("postgres") {
        raw(
            &url,
            &[
                // Lets the server notice the dead client during pg_sleep and roll back.
                "DO $$ BEGIN EXECUTE format(
                   'ALTER DATABASE %I SET client_connection_check_interval = 100',
                   current_database()); END $$",
                "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                   IF NEW.document LIKE '%STALL%' THEN PERFORM pg_sleep(120); END IF;
                   RETURN NEW;
                 END $$",
                "CREATE TRIGGER stall BEFORE INSERT ON revisions
                 FOR EACH ROW EXECUTE FUNCTION stall()",
            ],
        )
        .await;
    } else {
        raw(
            &url,
            &[
                "CREATE TABLE stall_rows (x INTEGER)",
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
                 INSERT INTO stall_rows SELECT x FROM c",
                // SQLite has no sleep: a cross join of 8e9 rows keeps it busy for minutes.
                "CREATE TRIGGER stall AFTER INSERT ON revisions
                 WHEN NEW.document LIKE '%STALL%'
                 BEGIN SELECT count(*) FROM stall_rows a, stall_rows b, stall_rows c; END",
            ],
        )
        .await;
    }
    let url_for_child = url.clone();
    let (applied, after_kill) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "crash_child_helper",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &url_for_child)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start child");
        let stdout = child.stdout.take().expect("child stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut applied = 0;
        for line in lines.by_ref() {
            if let Some(n) = line.expect("child output").strip_prefix("applied ") {
                applied = n.trim().parse::<u64>().expect("round number");
                if applied == 3 {
                    break;
                }
            }
        }
        // Round 4 reaches the trigger within milliseconds and stays there.
        std::thread::sleep(std::time::Duration::from_millis(1_500));
        let still_running = child.try_wait().expect("child status").is_none();
        // SIGKILL: no destructor, no rollback sent by the client.
        child.kill().expect("kill child");
        child.wait().expect("reap child");
        assert!(still_running, "the child finished on its own");
        let after_kill: Vec<String> = lines.map_while(Result::ok).collect();
        (applied, after_kill)
    })
    .await
    .expect("child runner");
    assert_eq!(applied, 3, "the child never got going");
    assert!(
        !after_kill.iter().any(|l| l.starts_with("applied 4")),
        "round 4 committed: {after_kill:?}"
    );

    let store = open(&url).await;
    let sweeps = store.sweeps(10).await.expect("sweeps");
    assert_eq!(sweeps.len(), 1);
    assert_eq!(sweeps[0].status, SweepStatus::Aborted);
    assert!(sweeps[0].finished_ms.is_some());
    // Exactly the three committed rounds, nothing of the fourth.
    assert!(
        store
            .item_by_arn(&sg_arn("sg-stall"))
            .await
            .expect("l")
            .is_none()
    );
    let items = store
        .current_items(&ItemFilter::default())
        .await
        .expect("current");
    assert_eq!(items.len(), 1_000);
    for item in &items {
        let h = store.history(&item.id.to_string()).await.expect("h");
        assert_eq!(h.len(), 3, "item {} has {} revisions", item.id, h.len());
        assert_eq!(item.item, sg(&item.item.resource_id, 3));
    }
    assert_eq!((sweeps[0].created, sweeps[0].modified), (1_000, 2_000));
    assert_eq!(store.counts().await.expect("counts"), (1_000, 3_000));
    // A sweep reopened as aborted cannot be used any more.
    let err = store
        .apply_listing(sweeps[0].id, &sg_scope(), Listing::Complete(vec![]))
        .await
        .expect_err("aborted sweep");
    assert!(matches!(err, StoreError::SweepNotRunning { .. }), "{err}");
    // A reader does not abort a running sweep.
    let running = store.begin_sweep().await.expect("begin");
    let reader = Store::open_reader(&url).await.expect("reader");
    assert_eq!(
        reader
            .sweep(running)
            .await
            .expect("sweep")
            .expect("exists")
            .status,
        SweepStatus::Running
    );
}

async fn history_by_arn_and_by_id(url: String) {
    let store = open(&url).await;
    sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 22)])).await;
    sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 25)])).await;
    let by_arn = store.history(&sg_arn("sg-1")).await.expect("by arn");
    assert_eq!(by_arn.len(), 2);
    let id = by_arn[0].item_id;
    let by_id = store.history(&id.to_string()).await.expect("by id");
    assert_eq!(by_arn, by_id);
    assert!(by_arn[0].id < by_arn[1].id, "oldest first");
    assert!(by_arn[0].sweep_id < by_arn[1].sweep_id);
    assert_eq!(
        by_arn[1].document["configuration"]["ipPermissions"][0]["toPort"],
        json!(25)
    );
    let item = store.item_by_id(id).await.expect("by id").expect("present");
    assert_eq!(item.item.arn, sg_arn("sg-1"));
    assert!(
        store
            .history("arn:aws:ec2:nowhere")
            .await
            .expect("h")
            .is_empty()
    );
    assert!(store.history("999999").await.expect("h").is_empty());
    assert!(store.item_by_id(999_999).await.expect("l").is_none());
    let sweeps = store.sweeps(1).await.expect("sweeps");
    assert_eq!(sweeps.len(), 1);
    assert_eq!(sweeps[0].id, by_arn[1].sweep_id, "newest first");
}

async fn current_items_filters(url: String) {
    let store = open(&url).await;
    let sweep = store.begin_sweep().await.expect("begin");
    let mut odd = sg("sg-odd", 22);
    odd.resource_name = "Under_Score%".into();
    let odd_again = odd.clone();
    store
        .apply_listing(
            sweep,
            &sg_scope(),
            Listing::Complete(vec![sg("sg-1", 22), sg("sg-2", 22), odd]),
        )
        .await
        .expect("sg");
    store
        .apply_listing(
            sweep,
            &sg_scope_in(OTHER_ACCOUNT),
            Listing::Complete(vec![sg_in(OTHER_ACCOUNT, "sg-3", 22)]),
        )
        .await
        .expect("sg other");
    store
        .apply_listing(
            sweep,
            &user_scope(),
            Listing::Complete(vec![
                user("alice", "Active", "x"),
                user("bob", "Active", "x"),
            ]),
        )
        .await
        .expect("users");
    store.finish_sweep(sweep).await.expect("finish");
    sweep_once(
        &store,
        &sg_scope(),
        Listing::Complete(vec![sg("sg-1", 22), odd_again]),
    )
    .await;

    let ids = |items: Vec<simian::store::StoredItem>| -> Vec<String> {
        items.into_iter().map(|i| i.item.resource_id).collect()
    };
    let get = |f: ItemFilter| {
        let store = store.clone();
        async move { store.current_items(&f).await.expect("current") }
    };
    assert_eq!(get(ItemFilter::default()).await.len(), 5);
    assert_eq!(
        ids(get(ItemFilter {
            resource_type: Some("AWS::IAM::User".into()),
            ..ItemFilter::default()
        })
        .await),
        vec!["AIDAALICE", "AIDABOB"]
    );
    assert_eq!(
        ids(get(ItemFilter {
            account_id: Some(OTHER_ACCOUNT.into()),
            ..ItemFilter::default()
        })
        .await),
        vec!["sg-3"]
    );
    assert_eq!(
        get(ItemFilter {
            region: Some("global".into()),
            ..ItemFilter::default()
        })
        .await
        .len(),
        2
    );
    // Case-insensitive, and LIKE wildcards in the input are literal.
    assert_eq!(
        ids(get(ItemFilter {
            name_contains: Some("ALI".into()),
            ..ItemFilter::default()
        })
        .await),
        vec!["AIDAALICE"]
    );
    assert_eq!(
        ids(get(ItemFilter {
            name_contains: Some("_score%".into()),
            ..ItemFilter::default()
        })
        .await),
        vec!["sg-odd"]
    );
    assert!(
        get(ItemFilter {
            name_contains: Some("%".into()),
            resource_type: Some("AWS::IAM::User".into()),
            ..ItemFilter::default()
        })
        .await
        .is_empty()
    );
    // sg-2 was deleted by the last sweep.
    let sgs = ItemFilter {
        resource_type: Some("AWS::EC2::SecurityGroup".into()),
        account_id: Some(ACCOUNT.into()),
        ..ItemFilter::default()
    };
    assert_eq!(ids(get(sgs.clone()).await), vec!["sg-1", "sg-odd"]);
    let with_deleted = get(ItemFilter {
        include_deleted: true,
        ..sgs.clone()
    })
    .await;
    assert_eq!(with_deleted.len(), 3);
    assert!(
        with_deleted
            .iter()
            .any(|i| i.deleted && i.item.resource_id == "sg-2")
    );
    // Paging.
    let page = get(ItemFilter {
        offset: 1,
        limit: Some(2),
        ..ItemFilter::default()
    })
    .await;
    let all = get(ItemFilter::default()).await;
    assert_eq!(ids(page), ids(all[1..3].to_vec()));
    let tail = get(ItemFilter {
        offset: 3,
        ..ItemFilter::default()
    })
    .await;
    assert_eq!(ids(tail), ids(all[3..].to_vec()));

    // The plugins' `items` capability reads the same data.
    let source: &dyn ItemSource = &store;
    let alice = source
        .get_by_arn(&format!("arn:aws:iam::{ACCOUNT}:user/alice"))
        .await
        .expect("get_by_arn")
        .expect("alice");
    assert_eq!(alice.resource_name, "alice");
    assert!(
        source
            .get_by_arn(&sg_arn("sg-2"))
            .await
            .expect("deleted")
            .is_none()
    );
    let got = source
        .get(ACCOUNT, "us-east-1", "AWS::EC2::SecurityGroup", "sg-1")
        .await
        .expect("get")
        .expect("sg-1");
    assert_eq!(got.resource_id, "sg-1");
    let listed = source
        .list("AWS::EC2::SecurityGroup", Some(ACCOUNT), 0, 10)
        .await
        .expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(
        source
            .list("AWS::EC2::SecurityGroup", None, 1, 1)
            .await
            .expect("list")
            .len(),
        1
    );
}

async fn bad_urls_and_sweep_misuse_are_named(url: String) {
    let err = Store::open("mysql://localhost/x")
        .await
        .expect_err("bad url");
    assert!(matches!(err, StoreError::BadUrl(_)), "{err}");
    let store = open(&url).await;
    let missing = simian::store::SweepId(4242);
    let err = store.finish_sweep(missing).await.expect_err("no sweep");
    assert!(matches!(err, StoreError::NoSuchSweep(_)), "{err}");
    let sweep = store.begin_sweep().await.expect("begin");
    store.finish_sweep(sweep).await.expect("finish");
    let err = store.finish_sweep(sweep).await.expect_err("twice");
    assert!(err.to_string().contains("complete, not running"), "{err}");
    let err = store
        .apply_listing(sweep, &sg_scope(), Listing::Complete(vec![sg("sg-1", 1)]))
        .await
        .expect_err("finished sweep");
    assert!(matches!(err, StoreError::SweepNotRunning { .. }), "{err}");
    assert_eq!(store.counts().await.expect("counts"), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// Backends

/// A writer opening the store (a manual `simian sweep`) must not abort the sweep a live
/// process (a running `simian run`) has in flight; it finishes normally.
async fn live_sweep_survives_another_writer_opening(url: String) {
    let host = open(&url).await;
    let sweep = host.begin_sweep().await.expect("begin");
    let other = open(&url).await;
    let record = other.sweep(sweep).await.expect("read").expect("exists");
    assert_eq!(record.status.as_str(), "running");
    host.apply_listing(sweep, &sg_scope(), Listing::Complete(vec![sg("sg-1", 22)]))
        .await
        .expect("apply");
    let finished = host.finish_sweep(sweep).await.expect("finish");
    assert_eq!(finished.status.as_str(), "complete");
    assert_eq!(finished.created, 1);
    other.close().await;
    host.close().await;
}

/// Issue identity is (item, plugin, check, evidence), never the score: new → still open →
/// re-scored (same issue) → fixed when no longer produced (kept) → regressed when produced again;
/// another plugin's audit never touches these.
async fn issue_lifecycle_keeps_identity_and_history(url: String) {
    use simian::store::{AuditedBy, FoundIssue, Transition};
    let store = open(&url).await;
    sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 22)])).await;
    let item = store
        .item_by_arn(&sg_arn("sg-1"))
        .await
        .expect("read")
        .expect("item");
    let v1 = AuditedBy {
        plugin: "sg-rules".into(),
        version: "1.0.0".into(),
        generation: 1,
    };
    let found = |port: u32, score: u32| FoundIssue {
        check_id: "internet-accessible".into(),
        title: "Internet Accessible".into(),
        score,
        notes: format!("Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:{port}]"),
        remediation: None,
        disabled: false,
    };
    let kinds = |changes: &[simian::store::IssueChange]| {
        let mut k: Vec<(String, Transition)> = changes
            .iter()
            .map(|c| (c.notes.clone(), c.transition))
            .collect();
        k.sort_by(|a, b| a.0.cmp(&b.0));
        k
    };
    let first = store
        .record_audit(item.id, &v1, &[found(22, 10)])
        .await
        .expect("audit");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].transition, Transition::New);
    let again = store
        .record_audit(item.id, &v1, &[found(22, 10)])
        .await
        .expect("audit");
    assert_eq!(again[0].transition, Transition::StillOpen);
    assert_eq!(again[0].issue_id, first[0].issue_id);

    // A new plugin version re-scores the check: same issue, new score, still open.
    let v2 = AuditedBy {
        plugin: "sg-rules".into(),
        version: "2.0.0".into(),
        generation: 2,
    };
    let rescored = store
        .record_audit(item.id, &v2, &[found(22, 5)])
        .await
        .expect("audit");
    assert_eq!(rescored[0].issue_id, first[0].issue_id);
    assert_eq!(rescored[0].transition, Transition::StillOpen);

    // Evidence changes: port 80 is a new issue and port 22 is fixed.
    let moved = store
        .record_audit(item.id, &v2, &[found(80, 10)])
        .await
        .expect("audit");
    assert_eq!(
        kinds(&moved),
        vec![
            (
                "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]".to_string(),
                Transition::Fixed
            ),
            (
                "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:80]".to_string(),
                Transition::New
            ),
        ]
    );
    // Port 22 comes back: regressed (same issue as before), and 80 is fixed.
    let back = store
        .record_audit(item.id, &v2, &[found(22, 5)])
        .await
        .expect("audit");
    assert_eq!(
        kinds(&back),
        vec![
            (
                "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]".to_string(),
                Transition::Regressed
            ),
            (
                "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:80]".to_string(),
                Transition::Fixed
            ),
        ]
    );
    assert!(back.iter().any(|c| c.issue_id == first[0].issue_id));

    // Another plugin finding nothing changes nothing of these.
    let other = AuditedBy {
        plugin: "other".into(),
        version: "1".into(),
        generation: 1,
    };
    assert!(
        store
            .record_audit(item.id, &other, &[])
            .await
            .expect("audit")
            .is_empty()
    );

    let stored = store.item_issues(item.id).await.expect("issues");
    assert_eq!(stored.len(), 2, "fixed issues are kept: {stored:?}");
    let p22 = stored
        .iter()
        .find(|i| i.notes.ends_with("tcp:22]"))
        .expect("22");
    assert!(
        p22.open && p22.regressions == 1 && p22.fixed_ms.is_none(),
        "{p22:?}"
    );
    assert_eq!(
        (
            p22.score,
            p22.plugin_version.as_str(),
            p22.plugin_generation
        ),
        (5, "2.0.0", 2)
    );
    let p80 = stored
        .iter()
        .find(|i| i.notes.ends_with("tcp:80]"))
        .expect("80");
    assert!(!p80.open && p80.fixed_ms.is_some(), "{p80:?}");
    store.close().await;
}

/// A justification excuses one issue: it shows while in force, lapses when it expires, can be
/// withdrawn, and does not carry over to changed evidence (a new, unjustified issue).
async fn justifications_are_bound_to_evidence_and_expire(url: String) {
    use simian::store::{AuditedBy, FoundIssue, Transition};
    let store = open(&url).await;
    sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 80)])).await;
    let item = store
        .item_by_arn(&sg_arn("sg-1"))
        .await
        .expect("read")
        .expect("item");
    let by = AuditedBy {
        plugin: "sg-rules".into(),
        version: "1".into(),
        generation: 1,
    };
    let found = |port: u32| FoundIssue {
        check_id: "internet-accessible".into(),
        title: "Internet Accessible".into(),
        score: 10,
        notes: format!("Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:{port}]"),
        remediation: None,
        disabled: false,
    };
    let id = store
        .record_audit(item.id, &by, &[found(80)])
        .await
        .expect("audit")[0]
        .issue_id;
    assert!(
        store
            .justify(id, "public web server", "alice", None)
            .await
            .expect("justify")
    );
    assert!(
        !store
            .justify(id + 999, "x", "y", None)
            .await
            .expect("justify")
    );
    let issues = store.item_issues(item.id).await.expect("issues");
    let j = issues[0].justification.as_ref().expect("justified");
    assert_eq!(
        (j.reason.as_str(), j.by.as_str()),
        ("public web server", "alice")
    );

    // Still produced: still justified.
    store
        .record_audit(item.id, &by, &[found(80)])
        .await
        .expect("audit");
    assert!(
        store.item_issues(item.id).await.expect("issues")[0]
            .justification
            .is_some()
    );

    // The evidence changes (80 becomes 22): the new issue is not justified.
    let changes = store
        .record_audit(item.id, &by, &[found(22)])
        .await
        .expect("audit");
    let new = changes
        .iter()
        .find(|c| c.transition == Transition::New)
        .expect("new");
    let issues = store.item_issues(item.id).await.expect("issues");
    let p22 = issues.iter().find(|i| i.id == new.issue_id).expect("22");
    assert!(p22.open && p22.justification.is_none(), "{p22:?}");

    // An expired justification has lapsed; unjustify withdraws one in force.
    let now = simian::store::now_ms();
    assert!(
        store
            .justify(new.issue_id, "temporary", "bob", Some(now - 1))
            .await
            .expect("justify")
    );
    let issues = store.item_issues(item.id).await.expect("issues");
    assert!(
        issues
            .iter()
            .find(|i| i.id == new.issue_id)
            .expect("22")
            .justification
            .is_none()
    );
    assert!(
        store
            .justify(
                new.issue_id,
                "until tomorrow",
                "bob",
                Some(now + 86_400_000)
            )
            .await
            .expect("justify")
    );
    let issues = store.item_issues(item.id).await.expect("issues");
    assert!(
        issues
            .iter()
            .find(|i| i.id == new.issue_id)
            .expect("22")
            .justification
            .is_some()
    );
    assert!(store.unjustify(new.issue_id).await.expect("unjustify"));
    let issues = store.item_issues(item.id).await.expect("issues");
    assert!(
        issues
            .iter()
            .find(|i| i.id == new.issue_id)
            .expect("22")
            .justification
            .is_none()
    );

    // A check the operator disabled is kept, flagged, and stays the same issue.
    let disabled = FoundIssue {
        disabled: true,
        ..found(22)
    };
    let changes = store
        .record_audit(item.id, &by, &[disabled])
        .await
        .expect("audit");
    assert_eq!(
        (changes[0].issue_id, changes[0].transition),
        (new.issue_id, Transition::StillOpen)
    );
    let issues = store.item_issues(item.id).await.expect("issues");
    assert!(
        issues
            .iter()
            .find(|i| i.id == new.issue_id)
            .expect("22")
            .disabled
    );
    store.close().await;
}

async fn outbox_retries_until_delivered_and_survives_reopen(url: String) {
    let store = open(&url).await;
    let ids = store
        .enqueue_notifications(&[
            (
                "email".into(),
                ACCOUNT.into(),
                "sweep:1".into(),
                "[1]".into(),
            ),
            (
                "email".into(),
                OTHER_ACCOUNT.into(),
                "sweep:1".into(),
                "[2]".into(),
            ),
            (
                "webhook".into(),
                ACCOUNT.into(),
                "sweep:1".into(),
                "[1]".into(),
            ),
        ])
        .await
        .expect("enqueue");
    assert_eq!(ids.len(), 3);
    let now = simian::store::now_ms();
    let due = store.due_notifications(now, 10).await.expect("due");
    assert_eq!(due.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        (
            due[1].account_id.as_str(),
            due[1].payload.as_str(),
            due[1].attempts
        ),
        (OTHER_ACCOUNT, "[2]", 0)
    );
    // One delivery fails and is put off for a minute; another succeeds.
    store
        .notification_failed(ids[0], "relay refused: 451", now + 60_000)
        .await
        .expect("fail");
    store.notification_delivered(ids[1]).await.expect("deliver");
    let due: Vec<i64> = store
        .due_notifications(simian::store::now_ms(), 10)
        .await
        .expect("due")
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        due,
        [ids[2]],
        "the failed entry waits, the delivered one is done"
    );
    let stats = store.outbox_stats("email").await.expect("stats");
    assert_eq!((stats.pending, stats.failing, stats.delivered), (1, 1, 1));
    assert_eq!(stats.last_error.as_deref(), Some("relay refused: 451"));
    assert_eq!(stats.next_attempt_ms, Some(now + 60_000));
    // The webhook's entry is still due now, ahead of the postponed one.
    let next = store.next_notification_due().await.expect("next");
    assert!(
        next.is_some_and(|t| t <= simian::store::now_ms()),
        "{next:?}"
    );
    store.close().await;

    // A restart loses nothing: the failed entry is still there with its attempt count.
    let store = open(&url).await;
    let later = store
        .due_notifications(now + 61_000, 10)
        .await
        .expect("due after restart");
    let retried = later
        .iter()
        .find(|e| e.id == ids[0])
        .expect("failed entry kept");
    assert_eq!((retried.attempts, retried.payload.as_str()), (1, "[1]"));
    store.notification_delivered(ids[0]).await.expect("deliver");
    let stats = store.outbox_stats("email").await.expect("stats");
    assert_eq!((stats.pending, stats.failing, stats.delivered), (0, 0, 2));
    assert_eq!(stats.last_error, None);
    assert_eq!(
        store.outbox_stats("nobody").await.expect("stats").pending,
        0
    );
}

async fn retired_issues_come_back_new_and_deleted_items_fix_theirs(url: String) {
    use simian::store::{AuditedBy, FoundIssue, IssueFilter, Transition};
    let store = open(&url).await;
    sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 22)])).await;
    let item = store
        .item_by_arn(&sg_arn("sg-1"))
        .await
        .expect("read")
        .expect("item");
    let by = AuditedBy {
        plugin: "sg-rules".into(),
        version: "1.0.0".into(),
        generation: 1,
    };
    let found = FoundIssue {
        check_id: "internet-accessible".into(),
        title: "Internet Accessible".into(),
        score: 10,
        notes: "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]".into(),
        remediation: None,
        disabled: false,
    };
    let first = store
        .record_audit(item.id, &by, std::slice::from_ref(&found))
        .await
        .expect("record");
    assert_eq!(first[0].transition, Transition::New);

    // The plugin is unloaded: its issue closes as retired, not fixed.
    assert_eq!(
        store
            .retire_plugin_issues("sg-rules")
            .await
            .expect("retire"),
        1
    );
    assert_eq!(
        store.retire_plugin_issues("other").await.expect("retire"),
        0
    );
    let issues = store.item_issues(item.id).await.expect("issues");
    assert!(!issues[0].open && issues[0].retired);
    let fixed = IssueFilter {
        open: Some(false),
        ..Default::default()
    };
    assert!(
        store.issues(&fixed).await.expect("fixed").is_empty(),
        "retired is not fixed"
    );
    let all = store.issues(&IssueFilter::default()).await.expect("all");
    assert_eq!(all[0].region, "us-east-1");

    // Loaded again and still finding it: news again, not a regression.
    let again = store
        .record_audit(item.id, &by, std::slice::from_ref(&found))
        .await
        .expect("record");
    assert_eq!(again[0].transition, Transition::New);
    let issues = store.item_issues(item.id).await.expect("issues");
    assert!(issues[0].open && !issues[0].retired);
    assert_eq!(issues[0].regressions, 0);

    // The group is deleted: its open issue is fixed with it.
    let deleted = store
        .fix_deleted_item_issues(item.id)
        .await
        .expect("fix deleted");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].transition, Transition::Fixed);
    assert!(!store.item_issues(item.id).await.expect("issues")[0].open);
    assert!(
        store
            .fix_deleted_item_issues(item.id)
            .await
            .expect("again")
            .is_empty()
    );
    // Every transition is on the issue's timeline, with the score it carried.
    let timeline = store
        .issue_timeline(first[0].issue_id)
        .await
        .expect("timeline");
    let events: Vec<(&str, u32)> = timeline
        .iter()
        .map(|e| (e.event.as_str(), e.score))
        .collect();
    assert_eq!(
        events,
        [("new", 10), ("retired", 10), ("new", 10), ("fixed", 10)]
    );
}

/// Schema v9 backfills the timeline of issues recorded before it: `new` at first sighting,
/// and the close (fixed or retired) of closed ones.
async fn v9_backfills_the_issue_timeline(url: String) {
    use simian::store::{AuditedBy, FoundIssue};
    let store = open(&url).await;
    sweep_once(
        &store,
        &sg_scope(),
        Listing::Complete(vec![sg("sg-1", 22), sg("sg-2", 22)]),
    )
    .await;
    let by = |plugin: &str| AuditedBy {
        plugin: plugin.into(),
        version: "1.0.0".into(),
        generation: 1,
    };
    let found = |score| FoundIssue {
        check_id: "internet-accessible".into(),
        title: "Internet Accessible".into(),
        score,
        notes: "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]".into(),
        remediation: None,
        disabled: false,
    };
    let one = store
        .item_by_arn(&sg_arn("sg-1"))
        .await
        .expect("read")
        .expect("sg-1")
        .id;
    let two = store
        .item_by_arn(&sg_arn("sg-2"))
        .await
        .expect("read")
        .expect("sg-2")
        .id;
    let fixed = store
        .record_audit(one, &by("a"), &[found(10)])
        .await
        .expect("a")[0]
        .issue_id;
    // Fixed a moment later, so a time between the two exists.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store.record_audit(one, &by("a"), &[]).await.expect("fix");
    let still_open = store
        .record_audit(two, &by("a"), &[found(7)])
        .await
        .expect("b")[0]
        .issue_id;
    let retired = store
        .record_audit(two, &by("b"), &[found(3)])
        .await
        .expect("c")[0]
        .issue_id;
    store.retire_plugin_issues("b").await.expect("retire");
    let rows = store.item_issues(one).await.expect("issues");
    let (first_seen, fixed_ms) = (rows[0].first_seen_ms, rows[0].fixed_ms.expect("fixed"));
    store.close().await;
    // Back to a v8 store (no timeline, and none of what later versions added), then opened
    // again.
    raw(
        &url,
        &[
            "DROP TABLE issue_events",
            "DROP INDEX revisions_item_time",
            "DROP TABLE shadow_runs",
            "DELETE FROM schema_version WHERE version >= 9",
        ],
    )
    .await;
    let store = open(&url).await;
    let events = |id| {
        let store = store.clone();
        async move {
            store
                .issue_timeline(id)
                .await
                .expect("timeline")
                .into_iter()
                .map(|e| (e.event, e.score))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        events(fixed).await,
        [("new".to_string(), 10), ("fixed".to_string(), 10)]
    );
    let timeline = store.issue_timeline(fixed).await.expect("timeline");
    assert_eq!(
        (timeline[0].at_ms, timeline[1].at_ms),
        (first_seen, fixed_ms)
    );
    assert_eq!(events(still_open).await, [("new".to_string(), 7)]);
    assert_eq!(
        events(retired).await,
        [("new".to_string(), 3), ("retired".to_string(), 3)]
    );
    // And the issues at a moment read it: between sighting and fix, the fixed one was open.
    let at = store
        .issues_at(fixed_ms - 1, &simian::store::IssueFilter::default())
        .await
        .expect("issues at");
    assert!(at.iter().any(|r| r.issue.id == fixed && r.issue.open));
}

async fn notices_carry_news_once_with_the_previous_configuration(url: String) {
    use simian::pipeline::PipelineSummary;
    use simian::store::{AuditedBy, FoundIssue, Transition};
    let store = open(&url).await;
    let by = AuditedBy {
        plugin: "sg-rules".into(),
        version: "1.0.0".into(),
        generation: 1,
    };
    let found = |port: u64| FoundIssue {
        check_id: "internet-accessible".into(),
        title: "Internet Accessible".into(),
        score: 10,
        notes: format!("Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:{port}]"),
        remediation: Some("Restrict it.".into()),
        disabled: false,
    };
    let audit = |item_id: i64, changes: Vec<simian::store::IssueChange>| {
        let mut summary = PipelineSummary::default();
        let news: Vec<_> = changes
            .into_iter()
            .filter(|c| c.transition != Transition::StillOpen)
            .collect();
        if !news.is_empty() {
            summary.transitions.insert(item_id, news);
        }
        summary
    };

    // Created, with a new issue; the other account's group is clean and created too.
    let first = sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 22)])).await;
    let other = sweep_once(
        &store,
        &sg_scope_in(OTHER_ACCOUNT),
        Listing::Complete(vec![sg_in(OTHER_ACCOUNT, "sg-9", 443)]),
    )
    .await;
    let item_id = first.changes[0].item_id;
    let recorded = store
        .record_audit(item_id, &by, &[found(22)])
        .await
        .expect("record");
    let mut changes = first.changes.clone();
    changes.extend(other.changes.clone());
    let notices = simian::notify::collect(&store, &changes, &audit(item_id, recorded))
        .await
        .expect("collect");
    assert_eq!(notices.keys().collect::<Vec<_>>(), [ACCOUNT, OTHER_ACCOUNT]);
    let mine = &notices[ACCOUNT];
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].kind, "created");
    assert_eq!(mine[0].previous_configuration, None);
    assert_eq!(mine[0].new_issues[0].notes, found(22).notes);
    assert_eq!(
        mine[0].new_issues[0].remediation.as_deref(),
        Some("Restrict it.")
    );
    assert_eq!(mine[0].item["resourceId"], "sg-1");
    assert!(notices[OTHER_ACCOUNT][0].new_issues.is_empty());

    // Audited again with nothing new: no notice at all (never the same open issue twice).
    let recorded = store
        .record_audit(item_id, &by, &[found(22)])
        .await
        .expect("record");
    let notices = simian::notify::collect(&store, &[], &audit(item_id, recorded))
        .await
        .expect("collect");
    assert!(notices.is_empty(), "{notices:?}");

    // A re-audit finds something new while the configuration stays the same: an issues-only
    // notice (`modified` without a previous configuration).
    let mut also = found(22);
    also.check_id = "unknown-access".into();
    let recorded = store
        .record_audit(item_id, &by, &[found(22), also])
        .await
        .expect("record");
    let notices = simian::notify::collect(&store, &[], &audit(item_id, recorded))
        .await
        .expect("collect");
    let n = &notices[ACCOUNT][0];
    assert_eq!(
        (n.kind.as_str(), n.previous_configuration.as_ref()),
        ("modified", None)
    );
    assert_eq!(n.new_issues.len(), 1);
    assert_eq!(n.new_issues[0].check_id, "unknown-access");
    assert_eq!(n.still_open_issues.len(), 1);
    let recorded = store
        .record_audit(item_id, &by, &[found(22)])
        .await
        .expect("record");
    assert_eq!(
        recorded
            .iter()
            .filter(|c| c.transition == Transition::Fixed)
            .count(),
        1
    );

    // Port 22 becomes 80: modified, with the old configuration, one new and one fixed issue.
    let second = sweep_once(&store, &sg_scope(), Listing::Complete(vec![sg("sg-1", 80)])).await;
    assert_eq!(second.changes[0].kind, ChangeKind::Modified);
    let recorded = store
        .record_audit(item_id, &by, &[found(80)])
        .await
        .expect("record");
    let notices = simian::notify::collect(&store, &second.changes, &audit(item_id, recorded))
        .await
        .expect("collect");
    let n = &notices[ACCOUNT][0];
    assert_eq!(n.kind, "modified");
    let previous: serde_json::Value =
        serde_json::from_str(n.previous_configuration.as_deref().expect("previous")).expect("json");
    assert_eq!(previous["ipPermissions"][0]["fromPort"], 22);
    assert_eq!(n.new_issues.len(), 1);
    assert_eq!(n.fixed_issues.len(), 1);
    assert!(n.fixed_issues[0].notes.ends_with("tcp:22]"));
    assert!(n.still_open_issues.is_empty());

    // Deleted: the previous configuration is the last one seen.
    let gone = sweep_once(&store, &sg_scope(), Listing::Complete(vec![])).await;
    let fixed = store
        .fix_deleted_item_issues(item_id)
        .await
        .expect("fix deleted");
    let notices = simian::notify::collect(&store, &gone.changes, &audit(item_id, fixed))
        .await
        .expect("collect");
    let n = &notices[ACCOUNT][0];
    assert_eq!(n.kind, "deleted");
    assert!(
        n.previous_configuration
            .as_deref()
            .is_some_and(|c| c.contains("\"fromPort\":80"))
    );
    assert_eq!(n.fixed_issues.len(), 1);
}

async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    // A nested path: the store creates missing parent directories.
    let url = format!("sqlite://{}/data/store.db", dir.path().display());
    body(url).await;
}

async fn on_postgres<F, Fut>(test: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(admin) = std::env::var(PG_ENV) else {
        if std::env::var_os("CI").is_some() {
            panic!("{PG_ENV} is not set but CI is: the PostgreSQL store tests are mandatory in CI");
        }
        eprintln!("skipping postgres::{test}: set {PG_ENV} to run it");
        return;
    };
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let name: String = format!(
        "simian_t{}_{}_{test}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
    .chars()
    .take(63)
    .collect();
    raw(&admin, &[&format!("CREATE DATABASE \"{name}\"")]).await;
    let result = tokio::spawn(body(with_database(&admin, &name))).await;
    simian_tests::pg::drop_test_database(&admin, &name).await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::on_sqlite(crate::$name).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::on_postgres(stringify!($name), crate::$name).await
                }
            )*
        }
    };
}

on_both!(
    first_sweep_records_every_item_as_created,
    durable_change_is_one_modified_revision_with_a_diff,
    ephemeral_change_updates_the_latest_revision_in_place,
    missing_item_in_complete_listing_is_deleted,
    failed_listing_deletes_nothing_and_records_the_error,
    reappearance_after_deletion_is_created,
    scopes_are_independent,
    failure_mid_transaction_leaves_nothing_half_written,
    killed_process_leaves_whole_transactions_and_an_aborted_sweep,
    history_by_arn_and_by_id,
    current_items_filters,
    bad_urls_and_sweep_misuse_are_named,
    live_sweep_survives_another_writer_opening,
    issue_lifecycle_keeps_identity_and_history,
    justifications_are_bound_to_evidence_and_expire,
    outbox_retries_until_delivered_and_survives_reopen,
    retired_issues_come_back_new_and_deleted_items_fix_theirs,
    v9_backfills_the_issue_timeline,
    notices_carry_news_once_with_the_previous_configuration,
    users_tokens_and_sessions_keep_only_hashes_and_end_together,
);

async fn users_tokens_and_sessions_keep_only_hashes_and_end_together(url: String) {
    let store = open(&url).await;
    assert!(
        store
            .add_user("alice", "justifier", Some("$argon2id$x"))
            .await
            .expect("add")
    );
    assert!(
        !store.add_user("alice", "admin", None).await.expect("dup"),
        "names are unique"
    );
    let user = store.user("alice").await.expect("get").expect("alice");
    assert_eq!(user.role, "justifier");
    // A role outside the three is refused by the schema itself.
    assert!(store.set_user_role("alice", "root").await.is_err());
    assert!(store.set_user_role("alice", "admin").await.expect("role"));

    let now = simian::store::now_ms();
    let live = store
        .add_token("alice", "hash-live", None)
        .await
        .expect("token")
        .expect("id");
    store
        .add_token("alice", "hash-old", Some(now - 1))
        .await
        .expect("token");
    assert_eq!(
        store.add_token("nobody", "h", None).await.expect("token"),
        None
    );
    assert_eq!(
        store
            .user_by_token("hash-live")
            .await
            .expect("lookup")
            .map(|u| u.name),
        Some("alice".into())
    );
    assert_eq!(
        store.user_by_token("hash-old").await.expect("lookup"),
        None,
        "expired"
    );
    assert_eq!(store.user_by_token("nope").await.expect("lookup"), None);
    let listed = store.tokens().await.expect("tokens");
    assert!(
        listed
            .iter()
            .any(|t| t.id == live && t.last_used_ms.is_some()),
        "{listed:?}"
    );
    assert!(store.revoke_token(live).await.expect("revoke"));
    assert!(
        !store.revoke_token(live).await.expect("again"),
        "revoked once"
    );
    assert_eq!(
        store.user_by_token("hash-live").await.expect("lookup"),
        None
    );

    store
        .add_session("s1", user.id, "csrf1", now + 60_000)
        .await
        .expect("session");
    store
        .add_session("s-old", user.id, "csrf2", now - 1)
        .await
        .expect("session");
    let session = store.session("s1").await.expect("lookup").expect("live");
    assert_eq!(
        (session.user.name.as_str(), session.csrf.as_str()),
        ("alice", "csrf1")
    );
    assert_eq!(session.user.role, "admin", "the role is read per request");
    assert_eq!(
        store.session("s-old").await.expect("lookup"),
        None,
        "expired"
    );
    // A new password ends the sessions; removing the user ends everything of theirs.
    assert!(
        store
            .set_user_password("alice", "$argon2id$y")
            .await
            .expect("passwd")
    );
    assert_eq!(store.session("s1").await.expect("lookup"), None);
    store
        .add_session("s2", user.id, "csrf3", now + 60_000)
        .await
        .expect("session");
    store
        .add_token("alice", "hash-2", None)
        .await
        .expect("token");
    assert!(store.remove_user("alice").await.expect("remove"));
    assert_eq!(store.session("s2").await.expect("lookup"), None);
    assert_eq!(store.user_by_token("hash-2").await.expect("lookup"), None);
    assert!(store.users().await.expect("users").is_empty());
    assert!(!store.remove_user("alice").await.expect("again"));
}

#[test]
fn database_name_substitution() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/simian_test", "x"),
        "postgres://u:p@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/simian_test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}
