//! `AWS::EC2::VPC` end to end through the real binary against moto, on SQLite and PostgreSQL:
//! the first sweep records each VPC with its flow logs, the shipped `vpc-flow-logs` rule flags
//! the VPC no active flow log records, an unchanged re-sweep writes nothing, enabling a flow
//! log is one revision that fixes the issue, and a deleted VPC is recorded as deleted.

use simian_tests::moto::{ACCOUNT, Moto};
use simian_tests::pg::on_postgres;
use simian_tests::report::ok_json;
use simian_tests::{Env, deploy_shipped};

async fn flow_log(ec2: &aws_sdk_ec2::Client, vpc: &str) {
    ec2.create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .resource_ids(vpc)
        .traffic_type(aws_sdk_ec2::types::TrafficType::All)
        .log_destination_type(aws_sdk_ec2::types::LogDestinationType::CloudWatchLogs)
        .log_group_name(format!("flows-{vpc}"))
        .deliver_logs_permission_arn(format!("arn:aws:iam::{ACCOUNT}:role/flow-logs"))
        .send()
        .await
        .expect("flow log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpcs_are_watched_and_judged_on_sqlite() {
    vpcs(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpcs_are_watched_and_judged_on_postgres() {
    on_postgres("vpc", |url| async move { vpcs(Some(&url)).await }).await;
}

async fn vpcs(storage: Option<&str>) {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let logged = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .send()
        .await
        .expect("vpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("id")
        .to_string();
    flow_log(&ec2, &logged).await;
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let env = Env::new(&format!(
        "{storage}[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n\n[aws]\nrequests_per_second = 0\n"
    ));
    deploy_shipped(&env, "vpc-flow-logs");
    let run = |args: &[&str]| ok_json(&env.cli_env(args, &moto.env()));
    let vpc_items = || {
        run(&["items", "--type", "AWS::EC2::VPC", "--format", "json"])["items"]
            .as_array()
            .expect("items")
            .clone()
    };
    let issues = || {
        run(&["issues", "--format", "json"])["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .filter(|i| i["plugin"] == "vpc-flow-logs")
            .cloned()
            .collect::<Vec<_>>()
    };

    let report = run(&["sweep", "--format", "json"]);
    assert_eq!(report["sweep"]["status"], "complete", "{report}");
    let items = vpc_items();
    // moto's default VPC and ours.
    assert_eq!(items.len(), 2, "{items:#?}");
    let ours = items
        .iter()
        .find(|i| i["resourceId"] == logged.as_str())
        .expect("our VPC");
    let default = items
        .iter()
        .find(|i| i["configuration"]["isDefault"] == true)
        .expect("the default VPC")
        .clone();
    assert_eq!(ours["resourceType"], "AWS::EC2::VPC");
    assert_eq!(
        ours["arn"],
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/{logged}")
    );
    assert_eq!(ours["configuration"]["cidrBlock"], "10.20.0.0/16");
    assert_eq!(
        ours["configuration"]["flowLogs"][0]["flowLogStatus"],
        "ACTIVE"
    );
    assert_eq!(default["configuration"]["flowLogs"], serde_json::json!([]));
    let found = issues();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["title"], "Flow Logs not enabled for VPC");
    assert_eq!(found[0]["score"], 5);
    assert_eq!(found[0]["arn"], default["arn"]);
    assert_eq!(found[0]["notes"], "Flow Logs: [none]");

    // Nothing changed: nothing written for VPCs.
    let again = run(&["sweep", "--format", "json"]);
    assert_eq!(again["sweep"]["created"], 0, "{again}");
    assert_eq!(again["sweep"]["modified"], 0, "{again}");

    // Enabling a flow log on the default VPC is one revision, and the issue is fixed.
    let default_id = default["resourceId"].as_str().expect("id").to_string();
    flow_log(&ec2, &default_id).await;
    let changed = run(&["sweep", "--format", "json"]);
    assert_eq!(changed["sweep"]["modified"], 1, "{changed}");
    let arn = default["arn"].as_str().expect("arn");
    let history = run(&["history", arn, "--diff", "--format", "json"]);
    let revisions = history["revisions"].as_array().expect("revisions");
    assert_eq!(revisions.len(), 2, "{history}");
    assert!(
        revisions[1]["diff"].to_string().contains("flowLogs"),
        "{history}"
    );
    assert!(issues().is_empty(), "the issue should be fixed");

    // Deleting our VPC (after its flow log) is recorded after a complete listing.
    let logs = ec2.describe_flow_logs().send().await.expect("flow logs");
    let ids: Vec<String> = logs
        .flow_logs()
        .iter()
        .filter(|f| f.resource_id() == Some(logged.as_str()))
        .filter_map(|f| f.flow_log_id().map(String::from))
        .collect();
    ec2.delete_flow_logs()
        .set_flow_log_ids(Some(ids))
        .send()
        .await
        .expect("delete flow logs");
    ec2.delete_vpc()
        .vpc_id(&logged)
        .send()
        .await
        .expect("delete vpc");
    let deleted = run(&["sweep", "--format", "json"]);
    // (its default security group goes with it, in the security-group scope)
    let vpc_scope = deleted["scopes"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["resource_type"] == "AWS::EC2::VPC"))
        .expect("the VPC scope");
    assert_eq!(vpc_scope["deleted"], 1, "{deleted}");
    assert_eq!(vpc_scope["complete"], true);
    assert_eq!(vpc_items().len(), 1);
}
