//! SQS queues, SNS topics, KMS keys and ACM certificates end to end through the real binary
//! against moto, on SQLite and PostgreSQL: each first sweep records the type's document, the
//! shipped plugins raise Security Monkey's titles and scores, an unchanged re-sweep writes
//! nothing, one durable change per type is one revision that fixes its issue, and deletions
//! are recorded after a complete listing.

use serde_json::{Value, json};
use simian_tests::estate::{STRANGER, self_signed_certificate};
use simian_tests::moto::{ACCOUNT, Moto};
use simian_tests::pg::on_postgres;
use simian_tests::report::{ok_json, scope};
use simian_tests::{Env, deploy_shipped};

const GRANTS: &str = "[plugin.sqs-queue.grants]\naccounts = true\n[plugin.sns-topic.grants]\naccounts = true\n[plugin.kms-key.grants]\naccounts = true\n";

fn queue_policy(principal: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal,
        "Action": "sqs:SendMessage", "Resource": format!("arn:aws:sqs:us-east-1:{ACCOUNT}:orders")}]})
    .to_string()
}

fn key_policy(stranger: bool) -> String {
    let mut statements = vec![
        json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}),
    ];
    if stranger {
        statements.push(json!({"Sid": "Partner", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{STRANGER}:role/partner")},
            "Action": ["kms:Decrypt"], "Resource": "*"}));
    }
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_and_certificates_are_watched_and_judged_on_sqlite() {
    estate(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_and_certificates_are_watched_and_judged_on_postgres() {
    on_postgres("resource_policies", |url| async move {
        estate(Some(&url)).await
    })
    .await;
}

struct Seeded {
    orders_url: String,
    key_id: String,
    cert_arn: String,
}

async fn seed(conf: &aws_config::SdkConfig) -> Seeded {
    let sqs = aws_sdk_sqs::Client::new(conf);
    let orders_url = sqs
        .create_queue()
        .queue_name("orders")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::Policy,
            queue_policy(json!("*")),
        )
        .send()
        .await
        .expect("queue")
        .queue_url()
        .expect("url")
        .to_string();
    sqs.create_queue()
        .queue_name("internal")
        .send()
        .await
        .expect("queue");
    // S3 event notifications into a queue: allowed for the S3 service, narrowed to one of our
    // own buckets by `aws:SourceArn`. A bucket ARN has no account; the stored S3 inventory
    // places it, so this raises nothing.
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    )
    .create_bucket()
    .bucket("uploads")
    .send()
    .await
    .expect("bucket");
    let events = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": format!("arn:aws:sqs:us-east-1:{ACCOUNT}:upload-events"),
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads"}}}]});
    sqs.create_queue()
        .queue_name("upload-events")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::Policy,
            events.to_string(),
        )
        .send()
        .await
        .expect("queue");
    // Queues reachable only through a VPC endpoint: ours (recorded, so placed in our
    // account) and one nobody recorded (Unknown Access, as in Security Monkey).
    let ec2 = aws_sdk_ec2::Client::new(conf);
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
    let endpoint = ec2
        .create_vpc_endpoint()
        .vpc_id(&default_vpc)
        .service_name("com.amazonaws.us-east-1.sqs")
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
        .send()
        .await
        .expect("endpoint")
        .vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id().map(String::from))
        .expect("endpoint id");
    for (queue, vpce) in [
        ("via-our-endpoint", endpoint.as_str()),
        ("via-unknown-endpoint", "vpce-0123456789abcdef0"),
    ] {
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": "*", "Action": "sqs:SendMessage",
            "Resource": format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{queue}"),
            "Condition": {"StringEquals": {"aws:SourceVpce": vpce}}}]});
        sqs.create_queue()
            .queue_name(queue)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::Policy,
                policy.to_string(),
            )
            .send()
            .await
            .expect("queue");
    }
    // A queue open to `*` but only for sessions of one of our roles (`aws:userid`), placed
    // through the recorded IAM roles: not internet accessible, not unknown.
    let role_id = aws_sdk_iam::Client::new(conf)
        .create_role()
        .role_name("queue-writer")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("role")
        .role()
        .map(|r| r.role_id().to_string())
        .expect("role id");
    let by_role = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": "*", "Action": "sqs:SendMessage",
        "Resource": format!("arn:aws:sqs:us-east-1:{ACCOUNT}:role-only"),
        "Condition": {"StringLike": {"aws:userid": format!("{role_id}:*")}}}]});
    sqs.create_queue()
        .queue_name("role-only")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::Policy,
            by_role.to_string(),
        )
        .send()
        .await
        .expect("queue");
    let sns = aws_sdk_sns::Client::new(conf);
    let topic = sns
        .create_topic()
        .name("alerts")
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .expect("arn")
        .to_string();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:internal"))
        .send()
        .await
        .expect("subscribe");
    let kms = aws_sdk_kms::Client::new(conf);
    let key_id = kms
        .create_key()
        .description("partner data")
        .policy(key_policy(true))
        .send()
        .await
        .expect("key")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string();
    kms.create_alias()
        .alias_name("alias/partner")
        .target_key_id(&key_id)
        .send()
        .await
        .expect("alias");
    let (body, private_key) = self_signed_certificate(45, "legacy.example.com");
    aws_sdk_iam::Client::new(conf)
        .upload_server_certificate()
        .server_certificate_name("legacy-lb")
        .certificate_body(String::from_utf8(body).expect("PEM"))
        .private_key(String::from_utf8(private_key).expect("PEM"))
        .send()
        .await
        .expect("server certificate");
    let acm = aws_sdk_acm::Client::new(conf);
    let (cert, key) = self_signed_certificate(20, "expiring.example.com");
    let cert_arn = acm
        .import_certificate()
        .certificate(aws_sdk_acm::primitives::Blob::new(cert))
        .private_key(aws_sdk_acm::primitives::Blob::new(key))
        .send()
        .await
        .expect("import")
        .certificate_arn()
        .expect("arn")
        .to_string();
    Seeded {
        orders_url,
        key_id,
        cert_arn,
    }
}

// Long because it walks four resource types through the same five steps; split per type it
// would start moto and sweep four times over.
async fn estate(storage: Option<&str>) {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let seeded = seed(&conf).await;
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let env = Env::new(&format!(
        "{storage}[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n\n[aws]\nrequests_per_second = 0\n\n{GRANTS}"
    ));
    for plugin in [
        "sqs-queue",
        "sns-topic",
        "kms-key",
        "acm-certificate",
        "iam-server-certificate",
    ] {
        deploy_shipped(&env, plugin);
    }
    let run = |args: &[&str]| ok_json(&env.cli_env(args, &moto.env()));
    let items = |t: &str| {
        run(&["items", "--type", t, "--format", "json"])["items"]
            .as_array()
            .expect("items")
            .clone()
    };
    let issues = |plugin: &str| -> Vec<(String, u64, String)> {
        run(&["issues", "--format", "json"])["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .filter(|i| i["plugin"] == plugin)
            .map(|i| {
                (
                    i["title"].as_str().unwrap_or_default().to_string(),
                    i["score"].as_u64().unwrap_or_default(),
                    i["notes"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };

    let report = run(&["sweep", "--format", "json"]);
    assert_eq!(report["sweep"]["status"], "complete", "{report}");

    // SQS: the open queue is Internet Accessible; the one without a policy and the one S3
    // notifies from our own bucket are clean.
    let queues = items("AWS::SQS::Queue");
    assert_eq!(queues.len(), 6, "{queues:#?}");
    let orders = queues
        .iter()
        .find(|q| q["resourceName"] == "orders")
        .expect("orders");
    assert_eq!(
        orders["arn"],
        format!("arn:aws:sqs:us-east-1:{ACCOUNT}:orders")
    );
    assert_eq!(
        orders["configuration"]["policy"]["Statement"][0]["Principal"],
        "*"
    );
    assert!(
        orders["configuration"]
            .get("approximateNumberOfMessages")
            .is_none()
    );
    let mut found = issues("sqs-queue");
    found.sort();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("Internet Accessible", 10)
    );
    assert_eq!(
        (found[1].0.as_str(), found[1].1, found[1].2.as_str()),
        (
            "Unknown Access",
            10,
            "Entity: [vpce:vpce-0123456789abcdef0] Actions: [\"sqs:SendMessage\"]"
        )
    );
    let endpoints = items("AWS::EC2::VPCEndpoint");
    assert_eq!(endpoints.len(), 1, "{endpoints:#?}");
    assert_eq!(
        endpoints[0]["configuration"]["serviceName"],
        "com.amazonaws.us-east-1.sqs"
    );

    // SNS: moto's default policy is restricted to the owner; the subscription is our own.
    let topics = items("AWS::SNS::Topic");
    assert_eq!(topics.len(), 1);
    assert_eq!(
        topics[0]["configuration"]["subscriptions"][0]["protocol"],
        "sqs"
    );
    assert!(
        topics[0]["configuration"]["policy"]["Statement"].is_array(),
        "{:#?}",
        topics[0]
    );
    assert_eq!(issues("sns-topic"), []);

    // KMS: the partner statement names an unknown account; rotation is off by default.
    let keys = items("AWS::KMS::Key");
    let key = keys
        .iter()
        .find(|k| k["resourceId"] == seeded.key_id.as_str())
        .expect("our key");
    assert_eq!(key["resourceName"], "alias/partner");
    assert_eq!(key["configuration"]["keyRotationEnabled"], false);
    assert_eq!(key["configuration"]["keyManager"], "CUSTOMER");
    let mut kms_found = issues("kms-key");
    kms_found.sort();
    let titles: Vec<(&str, u64)> = kms_found.iter().map(|f| (f.0.as_str(), f.1)).collect();
    assert_eq!(
        titles,
        [
            ("KMS key is not configured for rotation.", 1),
            ("Unknown Access", 10)
        ],
        "{kms_found:?}"
    );
    assert!(kms_found[1].2.contains(STRANGER), "{kms_found:?}");

    // ACM: 20 days left raises both expiry checks.
    let certs = items("AWS::ACM::Certificate");
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0]["arn"], seeded.cert_arn.as_str());
    assert_eq!(
        certs[0]["configuration"]["domainName"],
        "expiring.example.com"
    );
    assert!(
        certs[0]["configuration"]["notAfter"].is_string(),
        "{:#?}",
        certs[0]
    );
    let mut acm_found = issues("acm-certificate");
    acm_found.sort_by_key(|f| f.1);
    let scores: Vec<u64> = acm_found.iter().map(|f| f.1).collect();
    assert_eq!(scores, [5, 10], "{acm_found:?}");
    assert!(acm_found.iter().all(|f| f.0 == "Cert will expire soon."));

    // IAM server certificates: expiry read from the PEM (45 days left: the 60-day check only);
    // a 2048-bit SHA-256 key raises nothing else.
    let server_certs = items("AWS::IAM::ServerCertificate");
    assert_eq!(server_certs.len(), 1, "{server_certs:#?}");
    assert_eq!(server_certs[0]["resourceName"], "legacy-lb");
    assert_eq!(server_certs[0]["awsRegion"], "global");
    let body = server_certs[0]["configuration"]["certificateBody"]
        .as_str()
        .unwrap_or_default();
    assert!(
        body.starts_with("-----BEGIN CERTIFICATE-----"),
        "{:#?}",
        server_certs[0]
    );
    assert!(
        !server_certs[0].to_string().contains("PRIVATE KEY"),
        "a private key was recorded"
    );
    let found = issues("iam-server-certificate");
    let expiry: Vec<(&str, u64)> = found
        .iter()
        .filter(|f| f.0 == "Cert will expire soon.")
        .map(|f| (f.0.as_str(), f.1))
        .collect();
    assert_eq!(expiry, [("Cert will expire soon.", 5)], "{found:?}");
    assert!(
        found.iter().all(|f| f.0 == "Cert will expire soon."
            || f.0 == "Cert may have been compromised by heartbleed."),
        "{found:?}"
    );

    // Nothing changed: nothing written.
    let again = run(&["sweep", "--format", "json"]);
    assert_eq!(again["sweep"]["created"], 0, "{again}");
    assert_eq!(again["sweep"]["modified"], 0, "{again}");

    // One durable change per type: one revision each, and the issues go.
    let sqs = aws_sdk_sqs::Client::new(&conf);
    sqs.set_queue_attributes()
        .queue_url(&seeded.orders_url)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::Policy,
            queue_policy(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:role/producer")})),
        )
        .send()
        .await
        .expect("policy");
    let kms = aws_sdk_kms::Client::new(&conf);
    kms.enable_key_rotation()
        .key_id(&seeded.key_id)
        .send()
        .await
        .expect("rotation");
    kms.put_key_policy()
        .key_id(&seeded.key_id)
        .policy_name("default")
        .policy(key_policy(false))
        .send()
        .await
        .expect("key policy");
    let changed = run(&["sweep", "--format", "json"]);
    assert_eq!(changed["sweep"]["modified"], 2, "{changed}");
    assert_eq!(
        scope(&changed, "AWS::SQS::Queue")["modified"],
        1,
        "{changed}"
    );
    assert_eq!(scope(&changed, "AWS::KMS::Key")["modified"], 1, "{changed}");
    assert_eq!(
        issues("sqs-queue").len(),
        1,
        "only the unknown endpoint's queue"
    );
    assert_eq!(issues("kms-key"), []);
    let history = run(&[
        "history",
        orders["arn"].as_str().expect("arn"),
        "--diff",
        "--format",
        "json",
    ]);
    assert_eq!(
        history["revisions"].as_array().map(Vec::len),
        Some(2),
        "{history}"
    );

    // Deletions: recorded after a complete listing.
    sqs.delete_queue()
        .queue_url(&seeded.orders_url)
        .send()
        .await
        .expect("delete queue");
    aws_sdk_acm::Client::new(&conf)
        .delete_certificate()
        .certificate_arn(&seeded.cert_arn)
        .send()
        .await
        .expect("delete cert");
    let deleted = run(&["sweep", "--format", "json"]);
    for t in ["AWS::SQS::Queue", "AWS::ACM::Certificate"] {
        assert_eq!(scope(&deleted, t)["deleted"], 1, "{deleted}");
        assert_eq!(scope(&deleted, t)["complete"], true);
    }
    assert_eq!(items("AWS::SQS::Queue").len(), 5);
    assert!(items("AWS::ACM::Certificate").is_empty());
    assert_eq!(issues("acm-certificate"), []);
}
