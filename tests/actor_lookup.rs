//! Who made what a sweep found: with `[events] lookup = true`, each change a sweep records is
//! looked up in CloudTrail and the latest matching actor is attached to its revision and its
//! notice. The emulator has no `LookupEvents`, so this test puts a stand-in behind the
//! `ActorLookup` trait (the real implementation's record filtering is unit-tested in
//! `events::lookup`) and runs the real host library against the emulator, on SQLite and
//! PostgreSQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use simian::config::Config;
use simian::events::lookup::{ActorLookup, LookupError, LookupRequest};
use simian::runtime::sweep::SweepOptions;
use simian::runtime::{Runtime, StoreAccess};
use simian::store::Via;
use simian::watch::session::AccountSession;
use simian_model::actor::Actor;
use simian_tests::moto::{ACCOUNT, Moto, allow_tcp, attach, aws_env, create_group, revoke_tcp};
use simian_tests::pg::on_postgres;

const SG: &str = "AWS::EC2::SecurityGroup";

/// Answers from a table of resource name → actor, and remembers every request.
#[derive(Default)]
struct Stand {
    answers: Mutex<HashMap<String, Actor>>,
    asked: Mutex<Vec<LookupRequest>>,
}

#[async_trait::async_trait]
impl ActorLookup for Stand {
    async fn latest(
        &self,
        _session: &AccountSession,
        request: &LookupRequest,
    ) -> Result<Option<Actor>, LookupError> {
        self.asked.lock().expect("asked").push(request.clone());
        let answers = self.answers.lock().expect("answers");
        Ok(request.names.iter().find_map(|n| answers.get(n).cloned()))
    }
}

fn bob(name: &str) -> Actor {
    Actor {
        arn: Some("arn:aws:sts::123456789012:assumed-role/ops/bob".into()),
        identity_type: Some("AssumedRole".into()),
        event_source: "ec2.amazonaws.com".into(),
        event_name: name.into(),
        event_time: "2026-11-30T09:00:00Z".into(),
        source_ip: Some("198.51.100.4".into()),
        event_id: format!("lookup-{name}"),
        ..Actor::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_found_changes_get_their_actor_on_sqlite_and_postgres() {
    let moto = Moto::start();
    for (k, v) in aws_env(&moto.endpoint()) {
        // SAFETY: set before any SDK client of this test process reads the environment, and
        // this binary runs this one test.
        unsafe { std::env::set_var(k, v) };
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}/simian.db", dir.path().display());
    scenario(&moto, dir.path(), &sqlite, "web-sqlite").await;
    on_postgres("actor_lookup", |url| async move {
        let dir = tempfile::tempdir().expect("tempdir");
        scenario(&moto, dir.path(), &url, "web-postgres").await;
    })
    .await;
}

async fn scenario(moto: &Moto, dir: &std::path::Path, url: &str, group: &str) {
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let id = create_group(&ec2, group, "web").await;
    attach(&ec2, &[&id]).await;
    let arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{id}");
    let config = Config::parse(
        &format!(
            "data_dir = {:?}\n[storage]\nurl = \"{url}\"\n[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"main\"\nregions = [\"us-east-1\"]\n[aws]\nrequests_per_second = 0\n[events]\nlookup = true\n",
            dir.display().to_string()
        ),
        None,
    )
    .expect("config");
    let runtime = Runtime::open(config, StoreAccess::Writer, None)
        .await
        .expect("runtime");
    let stand = Arc::new(Stand::default());
    runtime.set_actor_lookup(stand.clone());
    let only_groups = SweepOptions {
        account: Some(ACCOUNT.into()),
        resource_types: vec![SG.into()],
    };

    // First sight: looked up, nobody found, no actor.
    runtime.sweep(&only_groups, &()).await.expect("sweep");
    let store = runtime.store().expect("store");
    let first = store.history(&arn).await.expect("history");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].actor, None);
    assert!(
        stand
            .asked
            .lock()
            .expect("asked")
            .iter()
            .any(|r| r.names[0] == arn)
    );

    // Bob opens SSH; the next sweep finds it and CloudTrail says it was bob.
    allow_tcp(&ec2, &id, 22, "0.0.0.0/0").await;
    stand
        .answers
        .lock()
        .expect("answers")
        .insert(arn.clone(), bob("AuthorizeSecurityGroupIngress"));
    stand.asked.lock().expect("asked").clear();
    let report = runtime.sweep(&only_groups, &()).await.expect("sweep");
    let change = report
        .changes
        .iter()
        .find(|c| c.arn == arn)
        .expect("the group changed");
    assert_eq!(
        change.actor.as_ref().and_then(|a| a.arn.as_deref()),
        Some("arn:aws:sts::123456789012:assumed-role/ops/bob")
    );
    let history = store.history(&arn).await.expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].via, Via::Sweep);
    assert_eq!(history[1].actor, Some(bob("AuthorizeSecurityGroupIngress")));
    // Asked about this group only, in its region, since the revision before the change.
    let asked = stand.asked.lock().expect("asked").clone();
    let ours: Vec<&LookupRequest> = asked.iter().filter(|r| r.names[0] == arn).collect();
    assert_eq!(ours.len(), 1, "{asked:?}");
    assert_eq!(ours[0].region, "us-east-1");
    assert_eq!(ours[0].resource_type, SG);
    assert_eq!(ours[0].names, vec![arn.clone(), id.clone()]);
    assert_eq!(ours[0].since_ms, history[0].captured_at_ms);

    // A change CloudTrail has nothing on keeps no actor.
    stand.answers.lock().expect("answers").clear();
    revoke_tcp(&ec2, &id, 22, "0.0.0.0/0").await;
    runtime.sweep(&only_groups, &()).await.expect("sweep");
    let history = store.history(&arn).await.expect("history");
    assert_eq!(history.len(), 3);
    assert_eq!(history[2].actor, None);
    store.close().await;
}
