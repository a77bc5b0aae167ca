use serde_json::{Value, json};
use simian_sdk::testing::{TestHost, audit_with};
use simian_sdk::{Issue, Item};

use crate::IamUser;

const CAPTURED: &str = "2026-11-23T00:49:24.270718Z";

fn user(configuration: Value) -> Item {
    Item::new("AWS::IAM::User", "AIDA1")
        .with_name("alice")
        .with_account("111111111111")
        .with_capture_time(CAPTURED)
        .with_configuration(&configuration)
}

fn key(id: &str, status: &str, created: &str, last_used: Option<&str>) -> Value {
    json!({"accessKeyId": id, "status": status, "createDate": created,
           "lastUsedDate": last_used, "lastUsedRegion": null, "lastUsedService": null})
}

fn audit_on(host: &TestHost, item: Item) -> Result<Vec<Issue>, simian_sdk::Error> {
    let mut results = audit_with::<IamUser>(host, &[item]);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn audit(item: Item) -> Vec<(String, String, u32, String)> {
    audit_on(&TestHost::new(), item)
        .expect("audited")
        .into_iter()
        .map(|i| (i.check_id, i.title, i.score, i.notes))
        .collect()
}

fn row(check: &str, title: &str, score: u32, notes: &str) -> (String, String, u32, String) {
    (check.into(), title.into(), score, notes.into())
}

fn keys_only(keys: Value) -> Item {
    user(json!({"userName": "alice", "accessKeys": keys, "mfaDevices": []}))
}

#[test]
fn fresh_active_key_is_informational_only() {
    let found = audit(keys_only(json!([key(
        "AKIAFRESH",
        "Active",
        "2026-11-01T00:00:00Z",
        Some("2026-11-22T10:00:00Z")
    )])));
    assert_eq!(
        found,
        [row(
            "active-key",
            "Informational",
            1,
            "Entity: [key:AKIAFRESH] Access: [active]"
        )]
    );
}

#[test]
fn inactive_key_scores_zero_and_is_never_stale() {
    let found = audit(keys_only(json!([key(
        "AKIAOFF",
        "Inactive",
        "2020-01-01T00:00:00Z",
        None
    )])));
    assert_eq!(
        found,
        [row(
            "inactive-key",
            "Informational",
            0,
            "Entity: [key:AKIAOFF] Access: [inactive]"
        )]
    );
}

#[test]
fn old_key_needs_rotation() {
    // Created 2026-08-01: 114 days before the capture, used yesterday.
    let found = audit(keys_only(json!([key(
        "AKIAOLD",
        "Active",
        "2026-08-01T12:00:00Z",
        Some("2026-11-22T00:00:00Z")
    )])));
    assert_eq!(
        found,
        [
            row(
                "active-key",
                "Informational",
                1,
                "Entity: [key:AKIAOLD] Access: [active]"
            ),
            row(
                "key-rotation",
                "Needs Rotation",
                1,
                "Entity: [key:AKIAOLD] Created: [2026-08-01] Rotation: [older than 90 days]"
            ),
        ]
    );
}

#[test]
fn rotation_threshold_is_exclusive_and_configurable() {
    // Exactly 90 days before the capture's midnight-ish time: 2026-08-25T00:49:24Z + slack.
    let ninety_days = keys_only(json!([key(
        "AKIA90",
        "Active",
        "2026-08-25T01:00:00Z",
        Some("2026-11-22T00:00:00Z")
    )]));
    assert!(
        audit(ninety_days.clone())
            .iter()
            .all(|r| r.0 != "key-rotation")
    );
    let host = TestHost::new().setting("rotation_days", 30);
    let issues = audit_on(&host, ninety_days).expect("audited");
    assert_eq!(
        issues
            .iter()
            .find(|i| i.check_id == "key-rotation")
            .map(|i| i.notes.as_str()),
        Some("Entity: [key:AKIA90] Created: [2026-08-25] Rotation: [older than 30 days]")
    );
}

#[test]
fn unused_key_since_last_use() {
    let found = audit(keys_only(json!([key(
        "AKIAIDLE",
        "Active",
        "2026-10-01T00:00:00Z",
        Some("2026-06-01T00:00:00+02:00")
    )])));
    assert_eq!(
        found,
        [
            row(
                "active-key",
                "Informational",
                1,
                "Entity: [key:AKIAIDLE] Access: [active]"
            ),
            row(
                "unused-key",
                "Unused Access",
                1,
                "Entity: [key:AKIAIDLE] LastUsed: [2026-05-31] Unused: [more than 90 days]"
            ),
        ]
    );
}

#[test]
fn never_used_key_counts_from_creation() {
    let found = audit(keys_only(json!([
        key("AKIANEVER", "Active", "2026-07-01T00:00:00Z", None),
        key("AKIANEW", "Active", "2026-11-20T00:00:00Z", None)
    ])));
    assert_eq!(
        found,
        [
            row(
                "active-key",
                "Informational",
                1,
                "Entity: [key:AKIANEVER] Access: [active]"
            ),
            row(
                "key-rotation",
                "Needs Rotation",
                1,
                "Entity: [key:AKIANEVER] Created: [2026-07-01] Rotation: [older than 90 days]"
            ),
            row(
                "unused-key",
                "Unused Access",
                1,
                "Entity: [key:AKIANEVER] LastUsed: [never] Created: [2026-07-01] Unused: [more than 90 days]"
            ),
            row(
                "active-key",
                "Informational",
                1,
                "Entity: [key:AKIANEW] Access: [active]"
            ),
        ]
    );
    let host = TestHost::new().setting("unused_days", 1);
    let issues = audit_on(
        &host,
        keys_only(json!([key(
            "AKIANEW",
            "Active",
            "2026-11-20T00:00:00Z",
            None
        )])),
    )
    .expect("audited");
    assert!(issues.iter().any(|i| i.check_id == "unused-key"
        && i.notes == "Entity: [key:AKIANEW] LastUsed: [never] Created: [2026-11-20] Unused: [more than 1 days]"));
}

#[test]
fn results_follow_the_capture_time_not_the_clock() {
    let config = json!({"accessKeys": [key("AKIAT", "Active", "2026-11-01T00:00:00Z", None)]});
    let early = user(config.clone()).with_capture_time("2026-11-02T00:00:00Z");
    assert_eq!(audit(early).len(), 1);
    let late = user(config).with_capture_time("2027-06-01T00:00:00Z");
    let checks: Vec<_> = audit(late).into_iter().map(|r| r.0).collect();
    assert_eq!(checks, ["active-key", "key-rotation", "unused-key"]);
}

#[test]
fn password_without_mfa() {
    let profile =
        json!({"createDate": "2026-11-23T00:49:20.54907Z", "passwordResetRequired": false});
    let found = audit(user(json!({"userName": "alice", "loginProfile": profile,
                                  "mfaDevices": [], "accessKeys": []})));
    assert_eq!(
        found,
        [row(
            "password-without-mfa",
            "Insecure Configuration",
            1,
            "Entity: [user:alice] Access: [password login] MFA: [none]"
        )]
    );
    let null_mfa = audit(user(json!({"userName": "alice", "loginProfile": profile,
                                     "mfaDevices": null})));
    assert_eq!(null_mfa.len(), 1);
    let with_mfa = audit(user(json!({"userName": "alice", "loginProfile": profile,
        "mfaDevices": [{"serialNumber": "arn:aws:iam::111111111111:mfa/alice"}]})));
    assert!(with_mfa.is_empty(), "{with_mfa:?}");
    let unknown_mfa = audit(user(json!({"userName": "alice", "loginProfile": profile})));
    assert!(unknown_mfa.is_empty(), "{unknown_mfa:?}");
    let no_password = audit(user(
        json!({"userName": "alice", "loginProfile": null, "mfaDevices": []}),
    ));
    assert!(no_password.is_empty(), "{no_password:?}");
}

#[test]
fn password_and_active_key() {
    let profile = json!({"createDate": "2026-11-23T00:49:20.54907Z"});
    let mfa = json!([{"serialNumber": "arn:aws:iam::111111111111:mfa/alice"}]);
    let found = audit(user(json!({"loginProfile": profile, "mfaDevices": mfa,
        "accessKeys": [key("AKIAK", "Active", "2026-11-20T00:00:00Z", None)]})));
    // No userName in the configuration: the envelope's name is used.
    assert_eq!(
        found,
        [
            row(
                "active-key",
                "Informational",
                1,
                "Entity: [key:AKIAK] Access: [active]"
            ),
            row(
                "password-and-key",
                "Informational",
                1,
                "Entity: [user:alice] Access: [password login and active access key]"
            ),
        ]
    );
    let inactive_only = audit(user(json!({"loginProfile": profile, "mfaDevices": mfa,
        "accessKeys": [key("AKIAK", "Inactive", "2026-11-20T00:00:00Z", None)]})));
    assert!(
        inactive_only.iter().all(|r| r.0 != "password-and-key"),
        "{inactive_only:?}"
    );
}

#[test]
fn demo_document_from_item_format() {
    let text = json!({
        "accountId": "123456789012", "arn": "arn:aws:iam::123456789012:user/alice",
        "awsRegion": "global", "resourceId": "pntfjtfktohv8r2m0pky", "resourceName": "alice",
        "resourceType": "AWS::IAM::User", "configurationItemCaptureTime": "2026-11-23T00:49:24.270718Z",
        "configuration": {
            "accessKeys": [{"accessKeyId": "AKIARZPUZDIKPDTHHFMS",
                "createDate": "2026-11-23T00:49:20.579481Z", "lastUsedDate": null,
                "lastUsedRegion": null, "lastUsedService": null, "status": "Active"}],
            "loginProfile": {"createDate": "2026-11-23T00:49:20.54907Z", "passwordResetRequired": false},
            "mfaDevices": [], "passwordLastUsed": null, "userName": "alice", "userPolicyList": []
        }
    })
    .to_string();
    let item = Item::from_envelope_json(&text).expect("envelope");
    let checks: Vec<_> = audit(item).into_iter().map(|r| r.0).collect();
    assert_eq!(
        checks,
        ["active-key", "password-without-mfa", "password-and-key"]
    );
}

#[test]
fn malformed_input_names_the_field() {
    let cases = [
        (
            json!({"accessKeys": [{"status": "Active"}]}),
            "accessKeys[0]: `accessKeyId` is required",
        ),
        (
            json!({"accessKeys": [{"accessKeyId": "AKIA", "status": "Maybe"}]}),
            "`status` must be",
        ),
        (
            json!({"accessKeys": [{"accessKeyId": "AKIA", "status": "Active", "createDate": "last week"}]}),
            "accessKeys[0]: `createDate`",
        ),
        (
            json!({"accessKeys": [key("AKIA", "Active", "2026-11-01T00:00:00Z", Some("soon"))]}),
            "`lastUsedDate`",
        ),
    ];
    for (config, expected) in cases {
        let e = audit_on(&TestHost::new(), user(config.clone())).expect_err("malformed");
        assert!(e.message().contains(expected), "{config}: {e}");
    }
    let bad_capture = user(json!({})).with_capture_time("Tuesday");
    let e = audit_on(&TestHost::new(), bad_capture).expect_err("bad capture time");
    assert!(e.message().contains("configurationItemCaptureTime"), "{e}");
    let bad_setting = TestHost::new().setting("rotation_days", "ninety");
    let e = audit_on(&bad_setting, user(json!({}))).expect_err("bad setting");
    assert!(e.message().contains("rotation_days"), "{e}");
    assert!(audit_on(&TestHost::new(), user(json!({"accessKeys": "none"}))).is_err());
}

#[test]
fn no_capture_time_uses_the_clock() {
    // A key from 2000 is stale whatever today is.
    let item = Item::new("AWS::IAM::User", "AIDA1").with_configuration(&json!({
        "accessKeys": [key("AKIAANCIENT", "Active", "2000-01-01T00:00:00Z", None)]
    }));
    let checks: Vec<_> = audit(item).into_iter().map(|r| r.0).collect();
    assert_eq!(checks, ["active-key", "key-rotation", "unused-key"]);
}
