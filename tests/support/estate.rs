//! The demo's coverage estate beyond IAM, S3 and EC2 security groups, seeded through the AWS
//! SDK: a risky and a clean resource per audited type (a queue open to everyone, a KMS key
//! shared with an unknown account, an ACM certificate 20 days from expiry, a public RDS
//! snapshot, a public database behind a group open on its port, load balancers without access
//! logs, an EBS snapshot and an AMI shared out, a trail that stopped logging, a function
//! anyone may invoke), so that a sweep calls every operation `simian iam-policy` grants. Kept
//! apart from `moto::seed_estate` (and seeded after it) so the tests that count that estate
//! stay as they are; of that estate's types it adds one S3 bucket (`org-trail-logs`).

use std::process::{Command, Stdio};

use serde_json::json;

use crate::moto::ACCOUNT;

/// An account nobody configures: what the risky resources are shared with.
pub const STRANGER: &str = "999999999999";

/// The smallest valid zip archive (an empty one): what moto needs as function code.
pub const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// A self-signed certificate and its key (PEM), valid for `days` days, made by openssl.
pub fn self_signed_certificate(days: u32, common_name: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256"])
        .args([
            "-days",
            &days.to_string(),
            "-subj",
            &format!("/CN={common_name}"),
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl failed");
    (
        std::fs::read(cert).expect("cert"),
        std::fs::read(key).expect("key"),
    )
}

pub async fn seed_coverage(conf: &aws_config::SdkConfig) {
    seed_load_balancers(conf).await;
    seed_messaging_and_keys(conf).await;
    seed_databases(conf).await;
    seed_images(conf).await;
    seed_trails_and_functions(conf).await;
}

async fn seed_messaging_and_keys(conf: &aws_config::SdkConfig) {
    let sqs = aws_sdk_sqs::Client::new(conf);
    let open = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "sqs:SendMessage", "Resource": format!("arn:aws:sqs:us-east-1:{ACCOUNT}:webhooks-inbound")}]});
    sqs.create_queue()
        .queue_name("webhooks-inbound")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::Policy,
            open.to_string(),
        )
        .send()
        .await
        .expect("open queue");
    sqs.create_queue()
        .queue_name("billing-jobs")
        .send()
        .await
        .expect("private queue");

    let kms = aws_sdk_kms::Client::new(conf);
    let shared = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Analytics partner", "Effect": "Allow",
         "Principal": {"AWS": format!("arn:aws:iam::{STRANGER}:role/etl")},
         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}]});
    for (alias, policy, rotate) in [
        ("alias/partner-exports", Some(shared.to_string()), false),
        ("alias/app-secrets", None, true),
    ] {
        let mut create = kms.create_key().description(alias);
        if let Some(policy) = policy {
            create = create.policy(policy);
        }
        let key = create.send().await.expect("key");
        let id = key.key_metadata().expect("metadata").key_id().to_string();
        kms.create_alias()
            .alias_name(alias)
            .target_key_id(&id)
            .send()
            .await
            .expect("alias");
        if rotate {
            kms.enable_key_rotation()
                .key_id(&id)
                .send()
                .await
                .expect("rotation");
        }
    }

    // An IAM server certificate (the pre-ACM way to serve TLS from a load balancer).
    let (cert, key) = self_signed_certificate(365, "legacy.example.com");
    aws_sdk_iam::Client::new(conf)
        .upload_server_certificate()
        .server_certificate_name("legacy-lb")
        .certificate_body(String::from_utf8(cert).expect("PEM is text"))
        .private_key(String::from_utf8(key).expect("PEM is text"))
        .send()
        .await
        .expect("server certificate");

    let acm = aws_sdk_acm::Client::new(conf);
    for (days, name) in [(20, "shop.example.com"), (365, "api.example.com")] {
        let (cert, key) = self_signed_certificate(days, name);
        acm.import_certificate()
            .certificate(aws_sdk_acm::primitives::Blob::new(cert))
            .private_key(aws_sdk_acm::primitives::Blob::new(key))
            .send()
            .await
            .expect("import certificate");
    }

    let sns = aws_sdk_sns::Client::new(conf);
    let topic = sns
        .create_topic()
        .name("deploy-events")
        .send()
        .await
        .expect("topic");
    sns.subscribe()
        .topic_arn(topic.topic_arn().expect("arn"))
        .protocol("sqs")
        .endpoint(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:billing-jobs"))
        .send()
        .await
        .expect("subscription");
}

async fn seed_databases(conf: &aws_config::SdkConfig) {
    // A public database behind a group open to the world on its port.
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let group = ec2
        .create_security_group()
        .group_name("orders-db")
        .description("orders database")
        .send()
        .await
        .expect("db security group");
    let group = group.group_id().expect("id").to_string();
    crate::moto::allow_tcp(&ec2, &group, 5432, "0.0.0.0/0").await;
    let rds = aws_sdk_rds::Client::new(conf);
    rds.create_db_instance()
        .vpc_security_group_ids(group)
        .publicly_accessible(true)
        .db_instance_identifier("orders-db")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("orders")
        .master_user_password("demo-only-password")
        .send()
        .await
        .expect("db instance");
    for snapshot in ["orders-before-migration", "orders-nightly-manual"] {
        rds.create_db_snapshot()
            .db_instance_identifier("orders-db")
            .db_snapshot_identifier(snapshot)
            .send()
            .await
            .expect("db snapshot");
    }
    rds.modify_db_snapshot_attribute()
        .db_snapshot_identifier("orders-before-migration")
        .attribute_name("restore")
        .values_to_add("all")
        .send()
        .await
        .expect("public snapshot");
    rds.create_db_cluster()
        .db_cluster_identifier("ledger")
        .engine("aurora-postgresql")
        .master_username("ledger")
        .master_user_password("demo-only-password")
        .send()
        .await
        .expect("db cluster");
    rds.create_db_cluster_snapshot()
        .db_cluster_identifier("ledger")
        .db_cluster_snapshot_identifier("ledger-for-auditors")
        .send()
        .await
        .expect("cluster snapshot");
    rds.modify_db_cluster_snapshot_attribute()
        .db_cluster_snapshot_identifier("ledger-for-auditors")
        .attribute_name("restore")
        .values_to_add(STRANGER)
        .send()
        .await
        .expect("shared cluster snapshot");
}

async fn seed_images(conf: &aws_config::SdkConfig) {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let volume = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .send()
        .await
        .expect("volume");
    let snapshot = ec2
        .create_snapshot()
        .volume_id(volume.volume_id().expect("id"))
        .description("data volume before resize")
        .send()
        .await
        .expect("snapshot");
    ec2.modify_snapshot_attribute()
        .snapshot_id(snapshot.snapshot_id().expect("id"))
        .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
        .operation_type(aws_sdk_ec2::types::OperationType::Add)
        .group_names("all")
        .send()
        .await
        .expect("public snapshot");
    let image = ec2
        .register_image()
        .name("golden-base")
        .root_device_name("/dev/sda1")
        .send()
        .await
        .expect("image");
    ec2.modify_image_attribute()
        .image_id(image.image_id().expect("id"))
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
        .expect("shared image");
}

async fn seed_trails_and_functions(conf: &aws_config::SdkConfig) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("org-trail-logs")
        .send()
        .await
        .expect("trail bucket");
    let trails = aws_sdk_cloudtrail::Client::new(conf);
    trails
        .create_trail()
        .name("org-trail")
        .s3_bucket_name("org-trail-logs")
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("trail");
    // Created, never started: the account's activity is not logged.

    // `moto::seed_estate`'s service role: this estate is always seeded after that one.
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/lambda-exec");
    let lambda = aws_sdk_lambda::Client::new(conf);
    lambda
        .create_function()
        .function_name("thumbnailer")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role_arn)
        .handler("main.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(EMPTY_ZIP.to_vec()))
                .build(),
        )
        .send()
        .await
        .expect("function");
    lambda
        .add_permission()
        .function_name("thumbnailer")
        .statement_id("anyone")
        .action("lambda:InvokeFunction")
        .principal("*")
        .send()
        .await
        .expect("public permission");
    lambda
        .publish_version()
        .function_name("thumbnailer")
        .send()
        .await
        .expect("version");
    lambda
        .create_alias()
        .function_name("thumbnailer")
        .name("live")
        .function_version("1")
        .send()
        .await
        .expect("alias");
}

async fn seed_load_balancers(conf: &aws_config::SdkConfig) {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let subnets = default_subnets(&ec2, 2).await;
    // A gateway endpoint for S3 in the default VPC: bucket policies may name it.
    let default_vpc = ec2
        .describe_vpcs()
        .send()
        .await
        .expect("vpcs")
        .vpcs()
        .iter()
        .find(|v| v.is_default() == Some(true))
        .and_then(|v| v.vpc_id().map(String::from))
        .expect("the default VPC");
    ec2.create_vpc_endpoint()
        .vpc_id(default_vpc)
        .service_name("com.amazonaws.us-east-1.s3")
        .send()
        .await
        .expect("endpoint");
    let v2 = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let alb = v2
        .create_load_balancer()
        .name("shop-public")
        .set_subnets(Some(subnets))
        .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::InternetFacing)
        .send()
        .await
        .expect("load balancer")
        .load_balancers()
        .first()
        .and_then(|b| b.load_balancer_arn().map(String::from))
        .expect("arn");
    v2.create_listener()
        .load_balancer_arn(alb)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(fixed_response())
        .send()
        .await
        .expect("listener");
    aws_sdk_elasticloadbalancing::Client::new(conf)
        .create_load_balancer()
        .load_balancer_name("legacy-web")
        .availability_zones("us-east-1a")
        .listeners(
            aws_sdk_elasticloadbalancing::types::Listener::builder()
                .protocol("HTTP")
                .load_balancer_port(80)
                .instance_protocol("HTTP")
                .instance_port(80)
                .build()
                .expect("listener"),
        )
        .send()
        .await
        .expect("classic load balancer");
}

/// Up to `n` default subnets (one per availability zone) of the default VPC.
pub async fn default_subnets(ec2: &aws_sdk_ec2::Client, n: usize) -> Vec<String> {
    ec2.describe_subnets()
        .send()
        .await
        .expect("subnets")
        .subnets()
        .iter()
        .filter(|s| s.default_for_az() == Some(true))
        .filter_map(|s| s.subnet_id().map(String::from))
        .take(n)
        .collect()
}

/// A listener action answering 200 itself: no target group needed.
pub fn fixed_response() -> aws_sdk_elasticloadbalancingv2::types::Action {
    aws_sdk_elasticloadbalancingv2::types::Action::builder()
        .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            aws_sdk_elasticloadbalancingv2::types::FixedResponseActionConfig::builder()
                .status_code("200")
                .build(),
        )
        .build()
}
