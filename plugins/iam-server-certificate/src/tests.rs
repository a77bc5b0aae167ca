//! The fixtures are self-signed certificates made with OpenSSL 3.0 (`openssl req -x509`), all
//! valid until 2036-11-27: a sound one (RSA 2048, SHA-256), a weak one (RSA 1024, SHA-1) and an
//! ancient one (RSA 512, MD5).

use serde_json::json;
use simian_sdk::Item;
use simian_sdk::expiry::ExpiryRule;
use simian_sdk::testing::{TestHost, audit_with};
use simian_sdk::time::{SECONDS_PER_DAY, parse_rfc3339};

use crate::{IamServerCertificate, ServerCertificate};

const GOOD: &str = include_str!("fixtures/good.pem");
const WEAK: &str = include_str!("fixtures/rsa1024-sha1.pem");
const ANCIENT: &str = include_str!("fixtures/rsa512-md5.pem");
const NOT_AFTER: &str = "2036-11-27T07:09:46Z";
const UPLOADED: &str = "2026-11-30T07:09:46Z";

fn judged(body: &str, uploaded: &str, now: i64) -> Vec<(String, String, u32, String)> {
    let rule = IamServerCertificate {
        expiry: ExpiryRule::default(),
    };
    let cert = ServerCertificate {
        certificate_body: Some(body.to_string()),
        upload_date: Some(uploaded.to_string()),
    };
    rule.judge(&cert, now, "test")
        .into_iter()
        .map(|i| (i.check_id, i.title, i.score, i.notes))
        .collect()
}

fn today() -> i64 {
    parse_rfc3339(UPLOADED).expect("date")
}

#[test]
fn a_sound_certificate_is_clean() {
    assert_eq!(judged(GOOD, UPLOADED, today()), []);
}

#[test]
fn expiry_is_read_from_the_certificate_itself() {
    let expiry = parse_rfc3339(NOT_AFTER).expect("date");
    let soon = judged(GOOD, UPLOADED, expiry - 10 * SECONDS_PER_DAY);
    let scores: Vec<u32> = soon.iter().map(|f| f.2).collect();
    assert_eq!(scores, [10, 5]);
    assert_eq!(soon[0].3, format!("NotAfter: {NOT_AFTER} (within 30 days)"));
    let expired = judged(GOOD, UPLOADED, expiry + 1);
    assert_eq!(expired[0].1, "Cert has expired.");
    assert_eq!(expired[0].2, 10);
}

#[test]
fn weak_keys_and_signatures_are_flagged() {
    let weak = judged(WEAK, UPLOADED, today());
    let got: Vec<(&str, u32, &str)> = weak
        .iter()
        .map(|f| (f.1.as_str(), f.2, f.3.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "Cert size is less than 2048 bits.",
                3,
                "Key: [RSA 1024 bits]"
            ),
            (
                "Cert uses an SHA1 signature algorithm.",
                1,
                "Signature: [sha1WithRSAEncryption]"
            ),
        ]
    );
    let ancient = judged(ANCIENT, UPLOADED, today());
    let got: Vec<(&str, u32)> = ancient.iter().map(|f| (f.1.as_str(), f.2)).collect();
    assert_eq!(
        got,
        [
            ("Cert size is less than 1024 bits.", 10),
            ("Cert uses an MD5 signature algorithm.", 3),
        ]
    );
}

#[test]
fn uploads_before_heartbleed_are_flagged() {
    let old = judged(GOOD, "2014-04-06T23:59:59Z", today());
    assert_eq!(
        old,
        [(
            "heartbleed".to_string(),
            "Cert may have been compromised by heartbleed.".to_string(),
            10,
            "Uploaded: [2014-04-06T23:59:59Z]".to_string()
        )]
    );
    assert!(judged(GOOD, "2014-04-07T00:00:00Z", today()).is_empty());
}

#[test]
fn an_unreadable_body_has_no_valid_issuer() {
    let found = judged(
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
        UPLOADED,
        today(),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, "Could not extract valid certificate issuer.");
    assert_eq!(found[0].2, 10);
    assert!(
        found[0].3.starts_with("Certificate: [unreadable"),
        "{found:?}"
    );
    // Through the whole auditor: a missing body is the same finding, with a log line for the
    // unreadable one.
    let host = TestHost::new();
    let item = Item::new("AWS::IAM::ServerCertificate", "ASCA1")
        .with_configuration(&json!({"serverCertificateName": "x", "uploadDate": UPLOADED}));
    let issues = audit_with::<IamServerCertificate>(&host, &[item])
        .remove(0)
        .expect("audited");
    assert_eq!(issues[0].notes, "Certificate: [no body]");
}
