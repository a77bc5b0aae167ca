use serde_json::json;
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};
use simian_sdk::time::{SECONDS_PER_DAY, parse_rfc3339, utc_date};

use simian_sdk::expiry::ExpiryRule;

use crate::AcmCertificate;

const NOT_AFTER: &str = "2027-01-31T12:00:00Z";

fn rule() -> ExpiryRule {
    ExpiryRule::default()
}

/// (title, score) for a certificate `days_left` days from expiry.
fn judged(days_left: i64) -> Vec<(String, u32, String)> {
    let expiry = parse_rfc3339(NOT_AFTER).expect("date");
    rule()
        .judge(NOT_AFTER, expiry, expiry - days_left * SECONDS_PER_DAY)
        .into_iter()
        .map(|i| (i.title, i.score, i.notes))
        .collect()
}

#[test]
fn a_certificate_far_from_expiry_is_clean() {
    assert!(judged(61).is_empty());
    assert!(judged(400).is_empty());
}

#[test]
fn within_sixty_days_is_a_five() {
    assert_eq!(
        judged(45),
        [(
            "Cert will expire soon.".to_string(),
            5,
            format!("NotAfter: {NOT_AFTER} (within 60 days)")
        )]
    );
    assert_eq!(judged(60).len(), 1);
}

#[test]
fn within_thirty_days_raises_both_checks() {
    let found = judged(20);
    let scores: Vec<u32> = found.iter().map(|f| f.1).collect();
    assert_eq!(scores, [10, 5]);
    assert_eq!(
        found[0].2,
        format!("NotAfter: {NOT_AFTER} (within 30 days)")
    );
}

#[test]
fn an_expired_certificate_is_a_ten() {
    assert_eq!(
        judged(0),
        [(
            "Cert has expired.".to_string(),
            10,
            format!("NotAfter: {NOT_AFTER}")
        )]
    );
    assert_eq!(judged(-3)[0].0, "Cert has expired.");
}

#[test]
fn thresholds_come_from_the_settings() {
    let now = simian_sdk::time::now().expect("clock");
    // 10 days from now: inside 30 days by default, outside a 7-day threshold.
    let not_after = format!("{}T00:00:00Z", utc_date(now + 10 * SECONDS_PER_DAY));
    let item = Item::new("AWS::ACM::Certificate", "c-1")
        .with_configuration(&json!({"domainName": "x.example", "notAfter": not_after}));
    let host = TestHost::new()
        .setting("soon_days", 7)
        .setting("later_days", 14);
    let found = audit_with::<AcmCertificate>(&host, std::slice::from_ref(&item))
        .remove(0)
        .expect("audited");
    let scores: Vec<u32> = found.iter().map(|i| i.score).collect();
    assert_eq!(scores, [5]);
    let defaults = audit_with::<AcmCertificate>(&TestHost::new(), &[item])
        .remove(0)
        .expect("audited");
    assert_eq!(defaults.len(), 2);
}

#[test]
fn bad_settings_and_dates_are_errors_naming_them() {
    let host = TestHost::new().setting("soon_days", 0);
    let item = Item::new("AWS::ACM::Certificate", "c-2")
        .with_configuration(&json!({"notAfter": "2027-01-01T00:00:00Z"}));
    let e = audit_with::<AcmCertificate>(&host, &[item])
        .remove(0)
        .expect_err("bad setting");
    assert!(e.to_string().contains("soon_days"), "{e}");
    let item = Item::new("AWS::ACM::Certificate", "c-3")
        .with_configuration(&json!({"notAfter": "next tuesday"}));
    let e = audit_with::<AcmCertificate>(&TestHost::new(), &[item])
        .remove(0)
        .expect_err("bad date");
    assert!(e.to_string().contains("configuration.notAfter"), "{e}");
    // A certificate still pending validation has no NotAfter: nothing to judge.
    let pending = Item::new("AWS::ACM::Certificate", "c-4")
        .with_configuration(&json!({"status": "PENDING_VALIDATION"}));
    assert!(
        audit_with::<AcmCertificate>(&TestHost::new(), &[pending])
            .remove(0)
            .expect("audited")
            .is_empty()
    );
}
