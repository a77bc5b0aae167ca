//! Hostile plugin packages against the real plugin registry: a plugin cannot choose its own
//! budget, hold up other plugins' loads, borrow another plugin's identity, or make the loader
//! read special files, leave the plugins directory, or watch half the filesystem.

use std::path::Path;
use std::time::{Duration, Instant};

use simian_tests::hostile::*;
use simian_tests::{Env, put, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_can_lower_its_limits_but_never_raise_them() {
    // `Env` puts the extra text right under `[plugins]`.
    let mut config = String::from("timeout_ms = 400\n");
    config.push_str(&operator("hostile-greedy", "mode = \"loop\"", None, ""));
    config.push_str(&operator("hostile-modest", "mode = \"loop\"", None, ""));
    let env = Env::new(&config);
    let greedy = format!(
        "{}[limits]\ntimeout_ms = 3600000\nmemory_mib = 4096\n",
        hostile_manifest("hostile-greedy")
    );
    env.deploy("hostile-greedy", &hostile_wasm(), &greedy);
    let modest = format!(
        "{}[limits]\ntimeout_ms = 150\nmemory_mib = 16\n",
        hostile_manifest("hostile-modest")
    );
    env.deploy("hostile-modest", &hostile_wasm(), &modest);
    let set = load(&env).await;
    let greedy = status(&set, "hostile-greedy").await;
    assert_eq!(
        (greedy.timeout_ms, greedy.memory_limit_mib),
        (Some(400), Some(64))
    );
    let modest = status(&set, "hostile-modest").await;
    assert_eq!(
        (modest.timeout_ms, modest.memory_limit_mib),
        (Some(150), Some(16))
    );
    let (report, elapsed) = audit(&set).await;
    assert!(elapsed < BOUND, "audit took {elapsed:?}");
    let err = item_error(&report, "hostile-greedy");
    assert!(err.contains("timed out after 400 ms"), "{err}");
    let err = item_error(&report, "hostile-modest");
    assert!(err.contains("timed out after 150 ms"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spinning_describe_is_bounded_and_never_holds_up_the_registry() {
    // The plugin's own budget is generous; describe() still gets at most DESCRIBE_BUDGET.
    let env = Env::new(&operator(
        "hostile-describe",
        "mode = \"ok\"\ndescribe = \"loop\"",
        None,
        "timeout_ms = 30000",
    ));
    deploy_hostile(&env, "hostile-describe");
    deploy_sg(&env);
    let config = std::sync::Arc::new(env.config());
    let services = std::sync::Arc::new(
        simian::services::HostServices::from_config(
            &config,
            std::sync::Arc::new(simian::services::items::MemoryItems::default()),
        )
        .expect("services"),
    );
    let set = simian::plugin::plugin_set(config, services).expect("plugin set");
    let scanning = {
        let set = set.clone();
        tokio::spawn(async move { set.scan().await })
    };
    // While the spinner is being loaded, the registry answers: `simian plugins` sees its
    // directory with no verdict yet (a load holding the lock could only be seen finished).
    let started = Instant::now();
    let mut seen_loading = false;
    while started.elapsed() < BOUND && !scanning.is_finished() {
        let statuses = set.statuses().await;
        if let Some(s) = statuses
            .iter()
            .find(|s| s.id.as_deref() == Some("hostile-describe"))
        {
            seen_loading = s.last_error.is_none() && s.status == "rejected";
            if seen_loading {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(seen_loading, "never saw the spinner's load in progress");
    scanning.await.expect("scan");
    let spinner = status(&set, "hostile-describe").await;
    assert_eq!(spinner.status, "rejected");
    let err = spinner.last_error.unwrap_or_default();
    let budget = simian::plugin::calls::DESCRIBE_BUDGET.as_millis();
    assert!(
        err.contains("describe() failed") && err.contains(&format!("timed out after {budget} ms")),
        "{err}"
    );
    // The other plugin loaded and serves.
    let (report, _) = audit(&set).await;
    assert_sg_intact(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_cannot_claim_another_plugins_identity() {
    let env = Env::new(&operator(
        "hostile-victim",
        "mode = \"ok\"\nscore = 7",
        None,
        "",
    ));
    deploy_hostile(&env, "hostile-victim");
    // Sorts first and declares the victim's id, to inherit its grants and settings.
    env.deploy(
        "a-impostor",
        &hostile_wasm(),
        &hostile_manifest("hostile-victim"),
    );
    let set = load(&env).await;
    let statuses = set.statuses().await;
    let impostor = statuses
        .iter()
        .find(|s| s.dir.ends_with("a-impostor"))
        .expect("impostor's directory is listed");
    assert_eq!(impostor.status, "rejected");
    let err = impostor.last_error.as_deref().unwrap_or_default();
    assert!(err.contains("must be named after its id"), "{err}");
    let victim = status_of_dir(&set, "hostile-victim").await;
    assert_eq!(victim.id.as_deref(), Some("hostile-victim"));
    assert_eq!((victim.status, victim.generation), ("loaded", 1));
    let (report, _) = audit(&set).await;
    let issue = report.items[0]
        .issues
        .iter()
        .find(|i| i.plugin == "hostile-victim")
        .expect("victim's issue");
    assert_eq!(issue.score, 7, "the victim runs with its own settings");

    // The victim's own directory switching to another id is refused; the loaded version
    // keeps serving.
    let dir = env.plugins_dir().join("hostile-victim");
    put(
        &dir.join("plugin.toml"),
        hostile_manifest("hostile-other").as_bytes(),
    );
    set.sync_dir(&dir).await;
    let victim = status_of_dir(&set, "hostile-victim").await;
    assert_eq!(victim.id.as_deref(), Some("hostile-victim"));
    assert_eq!((victim.status, victim.generation), ("loaded", 1));
    let err = victim.last_error.unwrap_or_default();
    assert!(err.contains("must be named after its id"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_plugin_loads_only_the_vetted_component() {
    let env = Env::new("");
    deploy_sg(&env);
    let dir = env.plugins_dir().join("sg-internet-accessible");
    let out = env.cli(&["plugin", "trust", dir.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sg =
        std::fs::read(simian_tests::wasm("simian_plugin_sg_internet_accessible")).expect("sg wasm");
    let pin = sha256_hex(&sg);
    let config = std::fs::read_to_string(env.config_path()).expect("config");
    assert!(
        config.contains("[plugin.sg-internet-accessible]") && config.contains(&pin),
        "{config}"
    );
    let set = load(&env).await;
    let (report, _) = audit(&set).await;
    assert_sg_intact(&report);

    // Someone swaps the component: refused, and the vetted version keeps serving.
    put(&dir.join("sg-internet-accessible.wasm"), &hostile_wasm());
    set.sync_dir(&dir).await;
    let now = status(&set, "sg-internet-accessible").await;
    assert_eq!((now.status, now.generation), ("loaded", 1));
    let err = now.last_error.unwrap_or_default();
    assert!(err.contains("pins") && err.contains(&pin), "{err}");
    let (report, _) = audit(&set).await;
    assert_sg_intact(&report);
    // After a restart nothing serves under that id.
    let restarted = load(&env).await;
    assert!(restarted.snapshot().is_empty());
    assert_eq!(
        status(&restarted, "sg-internet-accessible").await.status,
        "rejected"
    );

    // `trust` refuses a directory not named after its plugin.
    let wrong = env.plugins_dir().join("wrong-name");
    std::fs::create_dir_all(&wrong).expect("dir");
    put(&wrong.join("sg-internet-accessible.wasm"), &sg);
    put(
        &wrong.join("plugin.toml"),
        simian_tests::sg_manifest().as_bytes(),
    );
    let out = env.cli(&["plugin", "trust", wrong.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("must be named after its id"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The status of the plugin directory named `dir` (ids in statuses are what manifests claim).
async fn status_of_dir(set: &simian::plugin::PluginSet, dir: &str) -> simian::plugin::PluginStatus {
    set.statuses()
        .await
        .into_iter()
        .find(|s| s.dir.ends_with(dir))
        .unwrap_or_else(|| panic!("no directory {dir}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(bytes)?;
            child.wait_with_output()
        })
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_files_must_be_small_regular_files_inside_the_plugins_dir() {
    let env = Env::new("max_file_mib = 1");
    deploy_sg(&env);
    let plugins = env.plugins_dir();
    let manifest = |id: &str, wasm: &str| {
        format!(
            "id = \"{id}\"\nversion = \"0.1.0\"\nkind = \"auditor\"\ncontract = \"0.1.0\"\nresource_types = [\"AWS::EC2::SecurityGroup\"]\nwasm = \"{wasm}\"\n"
        )
    };
    // A component that is a link to /dev/zero.
    let zero = plugins.join("zero-wasm");
    std::fs::create_dir(&zero).expect("dir");
    std::os::unix::fs::symlink("/dev/zero", zero.join("zero.wasm")).expect("symlink");
    put(
        &zero.join("plugin.toml"),
        manifest("zero-wasm", "zero.wasm").as_bytes(),
    );
    // A manifest that is a FIFO nobody writes to.
    let fifo = plugins.join("fifo-manifest");
    std::fs::create_dir(&fifo).expect("dir");
    mkfifo(&fifo.join("plugin.toml"));
    // A component over the operator's size cap (a compile bomb is never even read).
    let big = plugins.join("big-wasm");
    std::fs::create_dir(&big).expect("dir");
    put(&big.join("big.wasm"), &vec![0u8; 2 * 1024 * 1024]);
    put(
        &big.join("plugin.toml"),
        manifest("big-wasm", "big.wasm").as_bytes(),
    );
    // A plugin directory that is a link out of the plugins dir.
    std::os::unix::fs::symlink("/usr", plugins.join("docs")).expect("symlink");

    let started = Instant::now();
    let set = load(&env).await;
    assert!(
        started.elapsed() < BOUND,
        "scan took {:?}",
        started.elapsed()
    );
    let statuses = set.statuses().await;
    let error_of = |dir: &str| {
        let s = statuses
            .iter()
            .find(|s| s.dir.ends_with(dir))
            .unwrap_or_else(|| panic!("{dir} not listed: {statuses:#?}"));
        assert_eq!(s.status, "rejected", "{s:#?}");
        s.last_error.clone().unwrap_or_default()
    };
    let e = error_of("zero-wasm");
    assert!(e.contains("outside the plugins directory"), "{e}");
    let e = error_of("fifo-manifest");
    assert!(e.contains("FIFO"), "{e}");
    let e = error_of("big-wasm");
    assert!(e.contains("larger than 1 MiB"), "{e}");
    let e = error_of("docs");
    assert!(e.contains("is a symlink"), "{e}");
    let (report, _) = audit(&set).await;
    assert_sg_intact(&report);
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

/// inotify watches held by this process.
fn inotify_watches() -> usize {
    let Ok(fds) = std::fs::read_dir("/proc/self/fdinfo") else {
        return 0;
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_to_string(fd.path()).ok())
        .map(|info| {
            info.lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_watcher_does_not_follow_symlinks() {
    let env = Env::new("");
    std::os::unix::fs::symlink("/usr", env.plugins_dir().join("docs")).expect("symlink");
    let set = load(&env).await;
    let before = inotify_watches();
    let _reloader = simian::plugin::reload::watch(set.clone(), None).expect("watcher");
    let added = inotify_watches().saturating_sub(before);
    // The plugins dir itself, not /usr's thousands of directories.
    assert!(added < 16, "{added} inotify watches for one plugins dir");
    // And it still sees plugins arrive.
    deploy_sg(&env);
    assert!(
        wait_until(Duration::from_secs(30), || !set.snapshot().is_empty()),
        "{:#?}",
        set.statuses().await
    );
}

/// The same component loading under many ids at once (as a scan does) shares one compiled-code
/// cache entry: concurrent writers must never truncate an entry another load has mapped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_of_one_component_share_the_cache_safely() {
    let bytes = std::sync::Arc::new(hostile_wasm());
    for round in 0..6 {
        // A fresh cache each round, so every round races to write the entry.
        let env = Env::new("");
        let set = load(&env).await;
        let mut jobs = Vec::new();
        for _ in 0..8 {
            let (engine, bytes) = (set.engine.clone(), bytes.clone());
            // Several loads each, so later loads map the entry while slower ones still write it.
            jobs.push(tokio::task::spawn_blocking(move || {
                (0..4)
                    .map(|_| engine.compile(&bytes).map(|(_, from_cache)| from_cache))
                    .collect::<Result<Vec<bool>, _>>()
            }));
        }
        for job in jobs {
            let compiled = job.await.expect("compile task");
            assert!(compiled.is_ok(), "round {round}: {:?}", compiled.err());
        }
        // And what is left in the cache loads.
        let (_, from_cache) = set.engine.compile(&bytes).expect("cached load");
        assert!(from_cache, "round {round}: nothing was cached");
    }
}
