//! Hostile notifiers against the real notify pipeline and store: one stuck notifier does not
//! hold up another's deliveries, and secrets in granted URLs never reach the log, the outbox's
//! last error or `simian plugins`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use simian::config::NotifyConfig;
use simian::store::Store;
use simian_tests::hostile::*;
use simian_tests::{Env, logs};

/// The notifiers import `http`, so each needs some grant of it.
const INERT_HTTP: &str = "http = { origins = [\"http://127.0.0.1:1\"] }";

/// A webhook-style secret: the path of a Slack incoming-webhook URL.
const SECRET: &str = "T000SECRET/B000SECRET/XSECRETTOKENX";

async fn store_of(env: &Env) -> Store {
    std::fs::create_dir_all(env.path().join("data")).expect("data dir");
    Store::open(&env.config().storage.url).await.expect("store")
}

/// One outbox entry (an empty batch) per notifier, in this order.
async fn enqueue(store: &Store, plugins: &[&str]) {
    let entries: Vec<(String, String, String, String)> = plugins
        .iter()
        .map(|p| {
            (
                p.to_string(),
                "123456789012".to_string(),
                "test".to_string(),
                "[]".to_string(),
            )
        })
        .collect();
    store
        .enqueue_notifications(&entries)
        .await
        .expect("enqueue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_notifier_does_not_hold_up_the_others() {
    let mut config = operator(
        "hostile-stuck",
        "mode = \"loop\"",
        Some(INERT_HTTP),
        "timeout_ms = 30000",
    );
    config.push_str(&operator(
        "hostile-good",
        "mode = \"ok\"",
        Some(INERT_HTTP),
        "",
    ));
    let env = Env::new(&config);
    deploy_hostile_notifier(&env, "hostile-stuck");
    deploy_hostile_notifier(&env, "hostile-good");
    let set = load(&env).await;
    assert_eq!(set.snapshot().len(), 2, "{:#?}", set.statuses().await);
    let store = store_of(&env).await;
    // The stuck notifier's batch is first in line.
    enqueue(&store, &["hostile-stuck", "hostile-good"]).await;
    let deliverer = simian::notify::start(
        store.clone(),
        set.clone(),
        NotifyConfig::default(),
        Arc::new(tokio::sync::Notify::new()),
    );
    deliverer.wake.notify_one();
    let started = Instant::now();
    let mut good = store.outbox_stats("hostile-good").await.expect("stats");
    while good.delivered == 0 && started.elapsed() < BOUND {
        tokio::time::sleep(Duration::from_millis(20)).await;
        good = store.outbox_stats("hostile-good").await.expect("stats");
    }
    assert_eq!(good.delivered, 1, "{good:?}");
    // Delivered while the stuck notifier's call was still running: not failed, not delivered.
    let stuck = store.outbox_stats("hostile-stuck").await.expect("stats");
    assert_eq!(
        (stuck.pending, stuck.failing, stuck.delivered),
        (1, 0, 0),
        "{stuck:?}"
    );
    drop(deliverer);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_granted_urls_stay_out_of_logs_errors_and_outputs() {
    logs::capture();
    // A closed port on loopback, granted: the call fails in the HTTP client, whose error names
    // the whole URL.
    let port = simian_tests::moto::free_port();
    let url = format!("http://127.0.0.1:{port}/services/{SECRET}");
    let grant = format!(
        "http = {{ origins = [\"http://127.0.0.1:{port}\"], private_networks = [\"127.0.0.0/8\"] }}"
    );
    let mut config = operator(
        "hostile-leaky",
        &format!("mode = \"http\"\nurl = \"{url}\""),
        Some(&grant),
        "",
    );
    // A notifier that puts the URL in its own error message.
    config.push_str(&operator(
        "hostile-chatty",
        &format!("mode = \"fail\"\nerror = \"could not post to {url} (check the token)\""),
        Some(INERT_HTTP),
        "",
    ));
    let env = Env::new(&config);
    deploy_hostile_notifier(&env, "hostile-leaky");
    deploy_hostile_notifier(&env, "hostile-chatty");
    let set = load(&env).await;
    assert_eq!(set.snapshot().len(), 2, "{:#?}", set.statuses().await);
    let store = store_of(&env).await;
    enqueue(&store, &["hostile-leaky", "hostile-chatty"]).await;
    let items: Arc<dyn simian::services::items::ItemSource> = Arc::new(store.clone());
    simian::notify::deliver_due(&store, &set, &NotifyConfig::default(), items)
        .await
        .expect("delivery pass");
    for plugin in ["hostile-leaky", "hostile-chatty"] {
        let stats = store.outbox_stats(plugin).await.expect("stats");
        assert_eq!(stats.failing, 1, "{plugin}: {stats:?}");
        let error = stats.last_error.unwrap_or_default();
        assert!(
            error.contains(&format!("127.0.0.1:{port}")),
            "{plugin}: {error}"
        );
        assert!(!error.contains("SECRET"), "{plugin}: {error}");
    }
    store.close().await;

    for format in ["table", "json"] {
        let out = env.cli(&["plugins", "--format", format]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(
            text.contains("hostile-chatty") && text.contains("127.0.0.1"),
            "{text}"
        );
        assert!(!text.contains("SECRET"), "{text}");
    }
    let log = logs::text();
    assert!(log.contains("notification not delivered"), "{log}");
    assert!(!log.contains("SECRET"), "a secret reached the log:\n{log}");
}
