//! The host and the SDK's test host classify identically: one table of accounts, ARNs, CIDRs
//! and canonical ids, answered by the host's `AccountBook` (built from a parsed simian.toml)
//! and by `simian_sdk::accounts` against an equivalent `TestHost`.

use simian_sdk::HostError;
use simian_sdk::testing::TestHost;

const OWN: &str = "111111111111";

const CONFIG: &str = r#"
[[accounts]]
id = "111111111111"
name = "prod"
canonical_id = "canon-prod"

[[accounts]]
id = "222222222222"
name = "dev"
canonical_id = "Canon-Dev"

[[accounts]]
id = "333333333333"
name = "vendor"
third_party = true
canonical_id = "canon-vendor"

[[networks]]
name = "corp"
cidr = "10.0.0.0/8"

[[networks]]
name = "vendor-vpn"
cidr = "10.9.0.0/16"
account = "333333333333"

[[networks]]
name = "office-v6"
cidr = "2001:db8::/32"
"#;

fn test_host() -> TestHost {
    TestHost::new()
        .account("111111111111", "prod", false)
        .account("222222222222", "dev", false)
        .account("333333333333", "vendor", true)
        .canonical_id("111111111111", "canon-prod")
        .canonical_id("222222222222", "Canon-Dev")
        .canonical_id("333333333333", "canon-vendor")
        .network("corp", "10.0.0.0/8")
        .account_network("vendor-vpn", "10.9.0.0/16", "333333333333")
        .network("office-v6", "2001:db8::/32")
}

/// (relation, account id, name), or the error's kind.
type Answer = Result<(String, Option<String>, Option<String>), &'static str>;

fn host_answer(c: Result<simian::accounts::Classification, String>) -> Answer {
    c.map(|c| (c.relation.to_string(), c.account_id, c.name))
        .map_err(|_| "invalid")
}

fn sdk_answer(c: Result<simian_sdk::accounts::Classification, HostError>) -> Answer {
    match c {
        Ok(c) => Ok((c.relation.to_string(), c.account_id, c.name)),
        Err(HostError::Invalid(_)) => Err("invalid"),
        Err(_) => Err("other"),
    }
}

#[test]
fn the_host_and_the_sdk_test_host_classify_alike() {
    let config = simian::config::Config::parse(CONFIG, None).expect("config");
    let book = simian::accounts::book(&config.accounts, &config.networks);
    let _installed = test_host().install();

    let accounts = [
        OWN,
        "222222222222",
        "333333333333",
        "999999999999",
        " 222222222222 ",
        "",
        "not-an-account",
    ];
    for id in accounts {
        let host = host_answer(Ok(book.classify_account(OWN, id)));
        let sdk = sdk_answer(simian_sdk::accounts::classify_account(OWN, id));
        assert_eq!(host, sdk, "account `{id}`");
    }

    let arns = [
        "arn:aws:iam::222222222222:root",
        "arn:aws:iam::333333333333:role/vendor-access",
        "arn:aws:iam::111111111111:user/alice",
        "arn:aws:iam::999999999999:root",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::*:root",
        "arn:aws-cn:iam::222222222222:root",
        "arn:aws:iam::12:root",
        "arn:aws:iam::2222222222222:root",
        "arn::iam::222222222222:root",
        "not-an-arn",
        "arn:aws:iam",
    ];
    for arn in arns {
        let host = host_answer(book.classify_arn(OWN, arn).map_err(|e| e.to_string()));
        let sdk = sdk_answer(simian_sdk::accounts::classify_arn(OWN, arn));
        assert_eq!(host, sdk, "arn `{arn}`");
    }

    let cidrs = [
        "10.1.2.0/24",
        "10.9.1.1",
        "10.9.1.1/32",
        "10.9.0.0/16",
        "10.0.0.0/8",
        "10.0.0.0/7",
        "0.0.0.0/0",
        "::/0",
        "2001:db8:1::/48",
        "192.168.1.1/32",
        "10.1.2.3/24",
        "10.0.0/8",
        "10.0.0.0/33",
        "nonsense",
        "",
    ];
    for cidr in cidrs {
        let host = host_answer(book.classify_cidr(OWN, cidr).map_err(|e| e.to_string()));
        let sdk = sdk_answer(simian_sdk::accounts::classify_cidr(OWN, cidr));
        assert_eq!(host, sdk, "cidr `{cidr}`");
    }

    let canonical = ["canon-dev", "CANON-VENDOR", " canon-prod ", "nobody", ""];
    for id in canonical {
        let host = host_answer(Ok(book.classify_canonical_id(OWN, id)));
        let sdk = sdk_answer(simian_sdk::accounts::classify_canonical_id(OWN, id));
        assert_eq!(host, sdk, "canonical id `{id}`");
    }

    // The table means something: each relation appears.
    let seen: Vec<String> = arns
        .iter()
        .filter_map(|a| host_answer(book.classify_arn(OWN, a).map_err(|e| e.to_string())).ok())
        .map(|(r, _, _)| r)
        .collect();
    for relation in ["same", "friendly", "third-party", "unknown"] {
        assert!(seen.iter().any(|r| r == relation), "{relation} never seen");
    }
}

/// The `items` capability pages alike in the host and the SDK's test host: a plugin whose
/// tests list more than one page sees the same pages in production.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_items_capability_pages_alike() {
    use simian::services::items::{ItemSource, MemoryItems};

    let ids: Vec<String> = (0..1500).map(|i| format!("sg-{i:04}")).collect();
    let doc = serde_json::Value::Array(
        ids.iter()
            .map(|id| {
                serde_json::json!({
                    "resourceType": "AWS::EC2::SecurityGroup",
                    "resourceId": id,
                    "resourceName": id,
                    "arn": format!("arn:aws:ec2:us-east-1:{OWN}:security-group/{id}"),
                    "accountId": OWN,
                    "awsRegion": "us-east-1",
                    "configurationItemCaptureTime": "2026-11-22T00:00:00Z",
                    "configuration": {}
                })
            })
            .collect(),
    );
    let host = MemoryItems::new(
        simian::item::Item::parse_document(&doc.to_string(), "page-test").expect("items"),
    );
    let mut test_host = TestHost::new();
    for id in &ids {
        test_host = test_host
            .item(simian_sdk::Item::new("AWS::EC2::SecurityGroup", id.as_str()).with_account(OWN));
    }
    let _installed = test_host.install();
    for (offset, limit) in [
        (0u32, 5000u32),
        (0, 10),
        (1200, 500),
        (1499, 10),
        (2000, 10),
    ] {
        let from_host: Vec<String> = host
            .list("AWS::EC2::SecurityGroup", Some(OWN), offset, limit)
            .await
            .expect("host list")
            .into_iter()
            .map(|i| i.resource_id)
            .collect();
        let from_sdk: Vec<String> =
            simian_sdk::items::list("AWS::EC2::SecurityGroup", Some(OWN), offset, limit)
                .expect("sdk list")
                .into_iter()
                .map(|i| i.resource_id)
                .collect();
        assert_eq!(from_host, from_sdk, "offset {offset}, limit {limit}");
    }
    let first = host
        .list("AWS::EC2::SecurityGroup", None, 0, 5000)
        .await
        .expect("list");
    assert_eq!(first.len(), 1000, "one page is at most 1000 items");
}
