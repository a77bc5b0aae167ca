//! RDS instances, clusters and their snapshots, EBS snapshots and AMIs end to end through the
//! real binary against moto, on SQLite and PostgreSQL: the first sweep records each with who
//! may restore or launch it, the shipped `snapshot-sharing` rule raises Security Monkey's
//! titles and scores, a public database inherits its security group's open ingress on its port
//! (`rds-instance`), an unchanged re-sweep writes nothing, un-sharing a snapshot is one
//! revision that fixes its issue, and a deleted snapshot is recorded after a complete listing.

use simian_tests::moto::{ACCOUNT, Moto};
use simian_tests::pg::on_postgres;
use simian_tests::report::{ok_json, scope};
use simian_tests::{Env, deploy_shipped};

const STRANGER: &str = "999999999999";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_and_images_are_watched_and_judged_on_sqlite() {
    estate(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_and_images_are_watched_and_judged_on_postgres() {
    on_postgres("snapshots", |url| async move { estate(Some(&url)).await }).await;
}

struct Seeded {
    ebs_snapshot: String,
    image: String,
}

async fn seed(conf: &aws_config::SdkConfig) -> Seeded {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let db_group = ec2
        .create_security_group()
        .group_name("orders-db")
        .description("database")
        .send()
        .await
        .expect("security group")
        .group_id()
        .expect("id")
        .to_string();
    simian_tests::moto::allow_tcp(&ec2, &db_group, 5432, "0.0.0.0/0").await;
    simian_tests::moto::allow_tcp(&ec2, &db_group, 22, "0.0.0.0/0").await;
    let rds = aws_sdk_rds::Client::new(conf);
    rds.create_db_instance()
        .vpc_security_group_ids(&db_group)
        .db_instance_identifier("orders-db")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("correct-horse-battery")
        .publicly_accessible(true)
        .send()
        .await
        .expect("db instance");
    rds.create_db_snapshot()
        .db_instance_identifier("orders-db")
        .db_snapshot_identifier("orders-public")
        .send()
        .await
        .expect("db snapshot");
    rds.modify_db_snapshot_attribute()
        .db_snapshot_identifier("orders-public")
        .attribute_name("restore")
        .values_to_add("all")
        .send()
        .await
        .expect("share db snapshot");
    rds.create_db_cluster()
        .db_cluster_identifier("ledger")
        .engine("aurora-postgresql")
        .master_username("admin")
        .master_user_password("correct-horse-battery")
        .send()
        .await
        .expect("db cluster");
    rds.create_db_cluster_snapshot()
        .db_cluster_identifier("ledger")
        .db_cluster_snapshot_identifier("ledger-partner")
        .send()
        .await
        .expect("cluster snapshot");
    rds.modify_db_cluster_snapshot_attribute()
        .db_cluster_snapshot_identifier("ledger-partner")
        .attribute_name("restore")
        .values_to_add(STRANGER)
        .send()
        .await
        .expect("share cluster snapshot");

    let volume = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .send()
        .await
        .expect("volume")
        .volume_id()
        .expect("id")
        .to_string();
    let ebs_snapshot = ec2
        .create_snapshot()
        .volume_id(&volume)
        .description("nightly")
        .send()
        .await
        .expect("snapshot")
        .snapshot_id()
        .expect("id")
        .to_string();
    ec2.modify_snapshot_attribute()
        .snapshot_id(&ebs_snapshot)
        .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
        .operation_type(aws_sdk_ec2::types::OperationType::Add)
        .group_names("all")
        .send()
        .await
        .expect("share snapshot");
    let image = ec2
        .register_image()
        .name("golden-image")
        .root_device_name("/dev/sda1")
        .send()
        .await
        .expect("image")
        .image_id()
        .expect("id")
        .to_string();
    ec2.modify_image_attribute()
        .image_id(&image)
        .launch_permission(
            aws_sdk_ec2::types::LaunchPermissionModifications::builder()
                .add(
                    aws_sdk_ec2::types::LaunchPermission::builder()
                        .user_id(STRANGER)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("share image");
    Seeded {
        ebs_snapshot,
        image,
    }
}

// Long because it walks four shared resource types through the same steps on one estate.
async fn estate(storage: Option<&str>) {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let seeded = seed(&conf).await;
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let env = Env::new(&format!(
        "{storage}[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n\n[aws]\nrequests_per_second = 0\n\n[plugin.snapshot-sharing.grants]\naccounts = true\n[plugin.rds-instance.grants]\naccounts = true\nitems = {{ resource_types = [\"AWS::EC2::SecurityGroup\"] }}\n"
    ));
    deploy_shipped(&env, "snapshot-sharing");
    deploy_shipped(&env, "rds-instance");
    let run = |args: &[&str]| ok_json(&env.cli_env(args, &moto.env()));
    let items = |t: &str| {
        run(&["items", "--type", t, "--format", "json"])["items"]
            .as_array()
            .expect("items")
            .clone()
    };
    let issues = || -> Vec<(String, String, u64)> {
        let mut found: Vec<(String, String, u64)> = run(&["issues", "--format", "json"])["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .filter(|i| i["plugin"] == "snapshot-sharing")
            .map(|i| {
                (
                    i["resource_type"].as_str().unwrap_or_default().to_string(),
                    i["title"].as_str().unwrap_or_default().to_string(),
                    i["score"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let issue = |t: &str, title: &str, score: u64| (t.to_string(), title.to_string(), score);

    let report = run(&["sweep", "--format", "json"]);
    assert_eq!(report["sweep"]["status"], "complete", "{report}");

    let db = items("AWS::RDS::DBInstance");
    assert_eq!(db.len(), 1, "{db:#?}");
    assert_eq!(db[0]["configuration"]["publiclyAccessible"], true);
    assert_eq!(db[0]["configuration"]["engine"], "postgres");
    assert!(
        db[0]["configuration"]["endpoint"]["port"].is_number(),
        "{:#?}",
        db[0]
    );
    assert_eq!(items("AWS::RDS::DBCluster")[0]["resourceId"], "ledger");
    // Public, behind a group open to the world on 5432 (and on 22, which is not its port).
    let exposed: Vec<(String, u64, String)> = run(&["issues", "--format", "json"])["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| i["plugin"] == "rds-instance")
        .map(|i| {
            (
                i["title"].as_str().unwrap_or_default().to_string(),
                i["score"].as_u64().unwrap_or_default(),
                i["notes"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(exposed.len(), 1, "{exposed:?}");
    assert_eq!(
        (exposed[0].0.as_str(), exposed[0].1),
        ("Internet Accessible", 10)
    );
    assert!(exposed[0].2.contains("ingress:tcp:5432"), "{exposed:?}");
    let snap = items("AWS::RDS::DBSnapshot");
    let public = snap
        .iter()
        .find(|s| s["resourceId"] == "orders-public")
        .expect("the manual snapshot");
    assert_eq!(
        public["configuration"]["restorableBy"],
        serde_json::json!(["all"])
    );
    // Ours, and the one moto makes for the registered image's root device.
    let ebs = items("AWS::EC2::Snapshot");
    assert_eq!(ebs.len(), 2, "{ebs:#?}");
    let shared = ebs
        .iter()
        .find(|s| s["resourceId"] == seeded.ebs_snapshot.as_str())
        .expect("our snapshot");
    assert_eq!(
        shared["configuration"]["sharedWith"],
        serde_json::json!(["all"])
    );
    assert_eq!(shared["configuration"]["description"], "nightly");
    let images = items("AWS::EC2::Image");
    assert_eq!(images.len(), 1, "{images:#?}");
    assert_eq!(images[0]["resourceId"], seeded.image.as_str());
    assert_eq!(
        images[0]["configuration"]["sharedWith"],
        serde_json::json!([STRANGER])
    );

    assert_eq!(
        issues(),
        [
            issue("AWS::EC2::Image", "Unknown Access", 10),
            issue("AWS::EC2::Snapshot", "Internet Accessible", 10),
            issue("AWS::RDS::DBClusterSnapshot", "Unknown Access", 10),
            issue("AWS::RDS::DBSnapshot", "Internet Accessible", 10),
        ]
    );

    let again = run(&["sweep", "--format", "json"]);
    assert_eq!(again["sweep"]["created"], 0, "{again}");
    assert_eq!(again["sweep"]["modified"], 0, "{again}");

    // Un-sharing the RDS snapshot: one revision, its issue fixed.
    aws_sdk_rds::Client::new(&conf)
        .modify_db_snapshot_attribute()
        .db_snapshot_identifier("orders-public")
        .attribute_name("restore")
        .values_to_remove("all")
        .send()
        .await
        .expect("unshare");
    let changed = run(&["sweep", "--format", "json"]);
    assert_eq!(changed["sweep"]["modified"], 1, "{changed}");
    assert_eq!(scope(&changed, "AWS::RDS::DBSnapshot")["modified"], 1);
    assert_eq!(issues().len(), 3);

    // Deleting the EBS snapshot is recorded after a complete listing.
    aws_sdk_ec2::Client::new(&conf)
        .delete_snapshot()
        .snapshot_id(&seeded.ebs_snapshot)
        .send()
        .await
        .expect("delete snapshot");
    let deleted = run(&["sweep", "--format", "json"]);
    assert_eq!(
        scope(&deleted, "AWS::EC2::Snapshot")["deleted"],
        1,
        "{deleted}"
    );
    assert_eq!(scope(&deleted, "AWS::EC2::Snapshot")["complete"], true);
    assert_eq!(items("AWS::EC2::Snapshot").len(), 1);
    assert_eq!(issues().len(), 2);
}
