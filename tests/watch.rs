//! The built-in watchers against a real AWS emulator (moto server), through the real `simian`
//! binary: the first sweep records the seeded estate in the AWS Config envelope, a durable
//! change makes exactly one revision, an ephemeral-only change makes none, a deletion makes one
//! deletion revision.

use serde_json::Value;
use simian_tests::Env;
use simian_tests::moto::{ACCOUNT, Moto, allow_tcp, create_group, revoke_tcp, seed_estate};
use simian_tests::report::ok_json;

fn config() -> String {
    format!(
        "[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n\n[aws]\nrequests_per_second = 0\n"
    )
}

fn sweep(env: &Env, moto: &Moto) -> Value {
    ok_json(&env.cli_env(&["sweep", "--format", "json"], &moto.env()))
}

fn items(env: &Env, moto: &Moto, t: &str) -> Vec<Value> {
    let v = ok_json(&env.cli_env(&["items", "--type", t, "--format", "json"], &moto.env()));
    v["items"].as_array().expect("items").clone()
}

fn by_name<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["resourceName"] == name)
        .unwrap_or_else(|| panic!("no item named {name}"))
}

fn history(env: &Env, moto: &Moto, key: &str) -> Vec<Value> {
    let v = ok_json(&env.cli_env(&["history", key, "--diff", "--format", "json"], &moto.env()));
    v["revisions"].as_array().expect("revisions").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sweep_records_the_estate_in_the_config_item_envelope() {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    seed_estate(&conf).await;
    // Every other audited type too, so the sweep calls every operation iam-policy grants.
    simian_tests::estate::seed_coverage(&conf).await;
    let env = Env::new(&config());

    let report = sweep(&env, &moto);
    assert_eq!(report["sweep"]["status"], "complete", "{report}");
    assert_eq!(report["items"]["AWS::IAM::User"], 4, "{report}");
    assert_eq!(report["items"]["AWS::IAM::Role"], 2, "{report}");
    assert_eq!(report["items"]["AWS::IAM::Group"], 1, "{report}");
    assert_eq!(report["items"]["AWS::S3::Bucket"], 4, "{report}");
    assert!(
        report["items"]["AWS::EC2::SecurityGroup"]
            .as_u64()
            .unwrap_or(0)
            >= 2,
        "{report}"
    );
    assert!(
        report["items"]["AWS::IAM::Policy"].as_u64().unwrap_or(0) >= 1,
        "{report}"
    );
    assert_eq!(report["sweep"]["deleted"], 0);

    let users = items(&env, &moto, "AWS::IAM::User");
    let alice = by_name(&users, "alice");
    assert_eq!(alice["resourceType"], "AWS::IAM::User");
    assert_eq!(alice["accountId"], ACCOUNT);
    assert_eq!(alice["awsRegion"], "global");
    assert!(
        alice["arn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":user/alice"))
    );
    assert!(
        alice["configurationItemCaptureTime"]
            .as_str()
            .is_some_and(|t| t.contains('T'))
    );
    let c = &alice["configuration"];
    assert_eq!(c["userName"], "alice");
    assert!(c["loginProfile"].is_object(), "{c}");
    assert_eq!(c["mfaDevices"].as_array().map(Vec::len), Some(0));
    assert_eq!(c["accessKeys"][0]["status"], "Active");
    assert_eq!(c["groupList"][0], "admins");
    assert_eq!(alice["tags"]["team"], "platform");
    let bob = &by_name(&users, "bob")["configuration"];
    assert_eq!(bob["mfaDevices"].as_array().map(Vec::len), Some(1));
    let carol = &by_name(&users, "carol")["configuration"];
    assert_eq!(carol["accessKeys"][0]["status"], "Inactive");

    let roles = items(&env, &moto, "AWS::IAM::Role");
    let vendor = &by_name(&roles, "vendor-access")["configuration"];
    // Policy documents are JSON objects, never URL-encoded strings.
    assert_eq!(
        vendor["assumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::999999999999:root"
    );
    let lambda = &by_name(&roles, "lambda-exec")["configuration"];
    assert_eq!(
        lambda["attachedManagedPolicies"][0]["policyName"],
        "read-reports"
    );

    let groups = items(&env, &moto, "AWS::IAM::Group");
    let admins = &by_name(&groups, "admins")["configuration"];
    assert_eq!(
        admins["groupPolicyList"][0]["policyDocument"]["Statement"][0]["Action"],
        "*"
    );
    assert_eq!(admins["members"][0], "alice");

    let policies = items(&env, &moto, "AWS::IAM::Policy");
    let read = &by_name(&policies, "read-reports")["configuration"];
    assert_eq!(read["attachmentCount"], 1);
    assert!(
        read["policyVersionList"][0]["document"]["Statement"].is_array(),
        "{read}"
    );

    let buckets = items(&env, &moto, "AWS::S3::Bucket");
    let open = by_name(&buckets, "open-policy-bucket");
    assert_eq!(open["arn"], "arn:aws:s3:::open-policy-bucket");
    assert_eq!(open["awsRegion"], "us-east-1");
    assert_eq!(
        open["supplementaryConfiguration"]["BucketPolicy"]["policyText"]["Statement"][0]["Principal"],
        "*"
    );
    let acl = by_name(&buckets, "public-acl-bucket");
    let grants = acl["supplementaryConfiguration"]["AccessControlList"]["grantList"].to_string();
    assert!(
        grants.contains("http://acs.amazonaws.com/groups/global/AllUsers"),
        "{grants}"
    );
    let reports = by_name(&buckets, "reports");
    assert_eq!(
        reports["supplementaryConfiguration"]["BucketVersioningConfiguration"]["status"],
        "Enabled"
    );
    assert_eq!(reports["tags"]["owner"], "data");

    let groups = items(&env, &moto, "AWS::EC2::SecurityGroup");
    let ssh = by_name(&groups, "open-ssh");
    assert!(
        ssh["arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:ec2:us-east-1:"))
    );
    let rule = &ssh["configuration"]["ipPermissions"][0];
    assert_eq!(rule["fromPort"], 22);
    assert_eq!(rule["ipv4Ranges"][0]["cidrIp"], "0.0.0.0/0");

    // `simian iam-policy` allows exactly what a sweep calls: nothing missing, nothing spare.
    let out = std::process::Command::new(simian_tests::simian_bin())
        .arg("iam-policy")
        .output()
        .expect("run");
    let policy: Value = serde_json::from_slice(&out.stdout).expect("policy JSON");
    let allowed: Vec<&str> = policy["Statement"][0]["Action"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let called: Vec<&str> = report["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for op in &called {
        let action = simian::watch::operations()
            .into_iter()
            .find(|(o, _)| o == op)
            .map(|(_, a)| a)
            .unwrap_or_else(|| panic!("{op} is called but not in watch::operations()"));
        assert!(
            allowed.contains(&action),
            "{op} needs {action}, missing from iam-policy"
        );
    }
    for (op, action) in simian::watch::operations() {
        if !op.starts_with("sts:") {
            assert!(
                called.contains(&op),
                "iam-policy grants {action} but no sweep calls {op}"
            );
        }
    }

    // A second sweep of an unchanged estate changes nothing.
    let again = sweep(&env, &moto);
    assert_eq!(again["sweep"]["created"], 0, "{again}");
    assert_eq!(again["sweep"]["modified"], 0, "{again}");
    assert_eq!(again["sweep"]["deleted"], 0, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_ephemeral_and_deleting_changes() {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    seed_estate(&conf).await;
    let env = Env::new(&config());
    sweep(&env, &moto);
    let iam = aws_sdk_iam::Client::new(&conf);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );

    // Durable: a policy edit and a new security-group rule.
    iam.put_group_policy()
        .group_name("admins")
        .policy_name("everything")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("edit policy");
    let sgs = items(&env, &moto, "AWS::EC2::SecurityGroup");
    let internal = by_name(&sgs, "internal-web").clone();
    allow_tcp(
        &ec2,
        internal["resourceId"].as_str().expect("id"),
        8443,
        "10.1.0.0/16",
    )
    .await;
    // Ephemeral only for the policy item: its attachment count moves (the user's attachments
    // are a durable change of the user).
    let policies = items(&env, &moto, "AWS::IAM::Policy");
    let read = by_name(&policies, "read-reports").clone();
    iam.attach_user_policy()
        .user_name("svc-deploy")
        .policy_arn(read["arn"].as_str().expect("arn"))
        .send()
        .await
        .expect("attach");
    // Deletions: a bucket and a user.
    s3.delete_bucket()
        .bucket("public-acl-bucket")
        .send()
        .await
        .expect("delete bucket");
    let keys = iam
        .list_access_keys()
        .user_name("carol")
        .send()
        .await
        .expect("keys");
    for k in keys.access_key_metadata() {
        iam.delete_access_key()
            .user_name("carol")
            .access_key_id(k.access_key_id().expect("id"))
            .send()
            .await
            .expect("delete key");
    }
    iam.delete_user()
        .user_name("carol")
        .send()
        .await
        .expect("delete user");

    let report = sweep(&env, &moto);
    assert_eq!(report["sweep"]["deleted"], 2, "{report}");

    let admins = by_name(&items(&env, &moto, "AWS::IAM::Group"), "admins").clone();
    let revs = history(&env, &moto, admins["arn"].as_str().expect("arn"));
    assert_eq!(revs.len(), 2, "{revs:#?}");
    assert_eq!(revs[1]["kind"], "modified");
    let diff = revs[1]["diff"].to_string();
    assert!(
        diff.contains("groupPolicyList") && diff.contains("iam:*"),
        "{diff}"
    );

    let revs = history(&env, &moto, internal["arn"].as_str().expect("arn"));
    assert_eq!(revs.len(), 2, "{revs:#?}");
    assert!(revs[1]["diff"].to_string().contains("8443"));

    // No new revision for the policy, but its current document has the new count.
    let revs = history(&env, &moto, read["arn"].as_str().expect("arn"));
    assert_eq!(revs.len(), 1, "{revs:#?}");
    let now = by_name(&items(&env, &moto, "AWS::IAM::Policy"), "read-reports").clone();
    assert_eq!(now["configuration"]["attachmentCount"], 2);
    // … while the user did change durably.
    let svc = by_name(&items(&env, &moto, "AWS::IAM::User"), "svc-deploy").clone();
    assert_eq!(
        history(&env, &moto, svc["arn"].as_str().expect("arn")).len(),
        2
    );

    let revs = history(&env, &moto, "arn:aws:s3:::public-acl-bucket");
    assert_eq!(revs.len(), 2, "{revs:#?}");
    assert_eq!(revs[1]["kind"], "deleted");
    let listed = items(&env, &moto, "AWS::S3::Bucket");
    assert!(
        listed
            .iter()
            .all(|b| b["resourceName"] != "public-acl-bucket")
    );
    let users = items(&env, &moto, "AWS::IAM::User");
    assert!(users.iter().all(|u| u["resourceName"] != "carol"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_sweeps_on_schedule_and_follows_account_changes_without_restart() {
    let moto = Moto::start();
    seed_estate(&moto.sdk_config().await).await;
    let env = Env::new(&config());
    let host = env.start_host_env(&moto.env());
    let swept = |account: &str| {
        let out = env.cli_env(
            &["items", "--account", account, "--format", "json"],
            &moto.env(),
        );
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v["items"].as_array().map(Vec::len))
            .unwrap_or(0)
    };
    assert!(
        simian_tests::wait_until(std::time::Duration::from_secs(60), || swept(ACCOUNT) >= 14),
        "the host never swept on its own:\n{}",
        host.log_text()
    );
    // Add an account (reached by assuming a role) while the host runs.
    env.write_config(&format!(
        "{}\n[[accounts]]\nid = \"111111111111\"\nname = \"second\"\nrole_arn = \"arn:aws:iam::111111111111:role/simian-audit\"\nregions = [\"us-east-1\"]\n",
        config()
    ));
    assert!(
        simian_tests::wait_until(std::time::Duration::from_secs(60), || swept("111111111111")
            > 0),
        "the new account was never swept:\n{}",
        host.log_text()
    );
    // Remove it again: the host reloads and watches one account.
    env.write_config(&config());
    assert!(
        simian_tests::wait_until(std::time::Duration::from_secs(30), || host
            .log_text()
            .matches("configuration reloaded")
            .count()
            >= 2
            && host.log_text().contains("watched_accounts=1")),
        "removal not picked up:\n{}",
        host.log_text()
    );
    // A broken edit is refused and the host keeps running.
    env.write_config("[[accounts]]\nid = \"nope\"\n");
    assert!(
        simian_tests::wait_until(std::time::Duration::from_secs(30), || host
            .log_text()
            .contains("configuration change ignored")),
        "broken config not reported:\n{}",
        host.log_text()
    );
    assert!(std::os::unix::net::UnixStream::connect(env.path().join("data/simian.sock")).is_ok());
    drop(host);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweeps_feed_the_audit_pipeline_and_fixes_are_recorded() {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    seed_estate(&conf).await;
    let env = Env::new(&config());
    let wasm =
        std::fs::read(simian_tests::wasm("simian_plugin_sg_internet_accessible")).expect("wasm");
    env.deploy(
        "sg-internet-accessible",
        &wasm,
        &simian_tests::sg_manifest(),
    );

    let report = sweep(&env, &moto);
    let audit = &report["audit"];
    assert_eq!(audit["new"], 1, "{report}");
    assert_eq!(audit["failures"], 0);
    let open = ok_json(&env.cli_env(&["issues", "--format", "json"], &moto.env()));
    let issues = open["issues"].as_array().expect("issues");
    assert_eq!(issues.len(), 1, "{open}");
    assert_eq!(issues[0]["title"], "Internet Accessible");
    assert_eq!(issues[0]["score"], 10);
    assert_eq!(issues[0]["plugin"], "sg-internet-accessible");
    assert_eq!(issues[0]["plugin_generation"], 1);
    assert!(
        issues[0]["arn"]
            .as_str()
            .is_some_and(|a| a.contains("security-group/"))
    );
    assert_eq!(
        issues[0]["notes"],
        "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]"
    );

    // Justify it: the report keeps its score but not its unjustified score.
    let id = issues[0]["id"].as_i64().expect("issue id").to_string();
    let justify = [
        "justify",
        &id,
        "--reason",
        "bastion",
        "--by",
        "alice",
        "--expires",
        "2999-01-01",
    ];
    let out = env.cli_env(&justify, &moto.env());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = ok_json(&env.cli_env(&["report", "--format", "json"], &moto.env()));
    assert_eq!(report["items"][0]["score"], 10, "{report}");
    assert_eq!(report["items"][0]["unjustified_score"], 0, "{report}");
    assert_eq!(
        report["items"][0]["issues"][0]["justification"]["by"],
        "alice"
    );
    let bad = [
        "justify",
        &id,
        "--reason",
        "x",
        "--by",
        "y",
        "--expires",
        "someday",
    ];
    let bad = env.cli_env(&bad, &moto.env());
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--expires"));
    let missing = env.cli_env(&["unjustify", "999999"], &moto.env());
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        env.cli_env(&["unjustify", &id, "--by", "bob"], &moto.env())
            .status
            .success()
    );
    let report = ok_json(&env.cli_env(&["report", "--format", "json"], &moto.env()));
    assert_eq!(report["items"][0]["unjustified_score"], 10, "{report}");
    // Both changes are in the issue's audit trail, with who made them and how.
    let store = simian::store::Store::open_reader(&env.config().storage.url)
        .await
        .expect("store");
    let trail: Vec<(String, String, String)> = store
        .issue_actions(id.parse().expect("id"))
        .await
        .expect("trail")
        .into_iter()
        .map(|a| (a.action, a.actor, a.via))
        .collect();
    store.close().await;
    assert_eq!(
        trail,
        [
            ("justify".into(), "alice".into(), "cli".into()),
            ("unjustify".into(), "bob".into(), "cli".into()),
        ]
    );

    // Fix it in AWS: the next sweep sees a modified group and the issue becomes fixed (kept).
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let group_id =
        by_name(&items(&env, &moto, "AWS::EC2::SecurityGroup"), "open-ssh")["resourceId"]
            .as_str()
            .expect("id")
            .to_string();
    revoke_tcp(&ec2, &group_id, 22, "0.0.0.0/0").await;
    let report = sweep(&env, &moto);
    assert_eq!(report["audit"]["fixed"], 1, "{report}");
    let open = ok_json(&env.cli_env(&["issues", "--format", "json"], &moto.env()));
    assert_eq!(open["issues"].as_array().map(Vec::len), Some(0), "{open}");
    let fixed = ok_json(&env.cli_env(
        &["issues", "--status", "fixed", "--format", "json"],
        &moto.env(),
    ));
    assert_eq!(fixed["issues"].as_array().map(Vec::len), Some(1), "{fixed}");
    assert!(fixed["issues"][0]["fixed_ms"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_loaded_into_a_running_host_re_audits_stored_items() {
    let moto = Moto::start();
    seed_estate(&moto.sdk_config().await).await;
    let env = Env::new(&config());
    let host = env.start_host_env(&moto.env());
    let open_issues = || {
        let out = env.cli_env(&["issues", "--format", "json"], &moto.env());
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v["issues"].as_array().cloned())
            .unwrap_or_default()
    };
    let swept = || {
        let out = env.cli_env(&["items", "--format", "json"], &moto.env());
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v["items"].as_array().map(Vec::len))
            .unwrap_or(0)
    };
    assert!(
        simian_tests::wait_until(std::time::Duration::from_secs(60), || swept() >= 14),
        "no sweep:\n{}",
        host.log_text()
    );
    assert!(open_issues().is_empty(), "no auditor yet, so no issues");
    // The items do not change; loading the rule alone must bring its findings.
    let wasm =
        std::fs::read(simian_tests::wasm("simian_plugin_sg_internet_accessible")).expect("wasm");
    env.deploy(
        "sg-internet-accessible",
        &wasm,
        &simian_tests::sg_manifest(),
    );
    assert!(
        simian_tests::wait_until(std::time::Duration::from_secs(60), || open_issues().len()
            == 1),
        "not re-audited:\n{}",
        host.log_text()
    );
    let issue = &open_issues()[0];
    assert_eq!(issue["title"], "Internet Accessible");
    assert_eq!(issue["plugin_generation"], 1);
    drop(host);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_overrides_rescore_checks_per_account() {
    let moto = Moto::start();
    seed_estate(&moto.sdk_config().await).await;
    let env = Env::new(&format!(
        "{}\n[[overrides]]\nplugin = \"sg-internet-accessible\"\ncheck = \"internet-accessible\"\naccounts = [\"1234*\"]\nscore = 3\n",
        config()
    ));
    let wasm =
        std::fs::read(simian_tests::wasm("simian_plugin_sg_internet_accessible")).expect("wasm");
    env.deploy(
        "sg-internet-accessible",
        &wasm,
        &simian_tests::sg_manifest(),
    );
    sweep(&env, &moto);
    let open = ok_json(&env.cli_env(&["issues", "--format", "json"], &moto.env()));
    assert_eq!(open["issues"][0]["score"], 3, "{open}");
    assert_eq!(open["issues"][0]["title"], "Internet Accessible");
    let report = ok_json(&env.cli_env(&["report", "--format", "json"], &moto.env()));
    assert_eq!(report["items"][0]["score"], 3, "{report}");
}

/// Security Monkey's scoring by attachment: an open group nothing uses scores 0; its first
/// network interface is one revision (`inUse`) that re-scores the same issue to 10; more
/// interfaces are no revision (the count is ephemeral).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_group_scores_by_whether_anything_uses_it() {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let group = create_group(&ec2, "spare-ssh", "ssh from anywhere, unused").await;
    allow_tcp(&ec2, &group, 22, "0.0.0.0/0").await;
    let env = Env::new(&format!(
        "{}\n[plugin.security-group.grants]\naccounts = true\n",
        config()
    ));
    simian_tests::deploy_shipped(&env, "security-group");
    let ssh_issue = || -> Value {
        let v = ok_json(&env.cli_env(&["issues", "--format", "json"], &moto.env()));
        v["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .find(|i| {
                i["resource_name"] == "spare-ssh" && i["check_id"] == "internet-accessible-ingress"
            })
            .cloned()
            .unwrap_or(Value::Null)
    };

    sweep(&env, &moto);
    let groups = items(&env, &moto, "AWS::EC2::SecurityGroup");
    let spare = by_name(&groups, "spare-ssh");
    assert_eq!(spare["configuration"]["inUse"], false);
    assert_eq!(spare["configuration"]["networkInterfaceCount"], 0);
    let unused = ssh_issue();
    assert_eq!(unused["score"], 0, "{unused}");

    simian_tests::moto::attach(&ec2, &[group.as_str()]).await;
    let attached = sweep(&env, &moto);
    assert_eq!(attached["sweep"]["modified"], 1, "{attached}");
    let used = ssh_issue();
    assert_eq!(used["score"], 10, "{used}");
    assert_eq!(used["id"], unused["id"], "re-scored, not reopened");

    simian_tests::moto::attach(&ec2, &[group.as_str()]).await;
    let more = sweep(&env, &moto);
    assert_eq!(more["sweep"]["modified"], 0, "{more}");
    let spare = by_name(&items(&env, &moto, "AWS::EC2::SecurityGroup"), "spare-ssh").clone();
    assert_eq!(spare["configuration"]["networkInterfaceCount"], 2);
}
