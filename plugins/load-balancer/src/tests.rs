use serde_json::{Value, json};
use simian_sdk::Item;
use simian_sdk::testing::{TestHost, audit_with};

use crate::LoadBalancer;

const OWN: &str = "111111111111";
const V2: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";
const CLASSIC: &str = "AWS::ElasticLoadBalancing::LoadBalancer";

fn host() -> TestHost {
    TestHost::new().account(OWN, "prod", false).item(
        Item::new("AWS::EC2::SecurityGroup", "sg-web")
            .with_account(OWN)
            .with_region("us-east-1")
            .with_configuration(&json!({"groupId": "sg-web", "ipPermissions": [
                {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]},
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}
            ]})),
    )
}

fn audit(resource_type: &str, configuration: Value) -> Vec<(String, String, u32, String)> {
    let item = Item::new(resource_type, "lb")
        .with_account(OWN)
        .with_region("us-east-1")
        .with_configuration(&configuration);
    audit_with::<LoadBalancer>(&host(), &[item])
        .remove(0)
        .expect("audited")
        .into_iter()
        .map(|i| (i.check_id, i.title, i.score, i.notes))
        .collect()
}

fn alb(scheme: &str, access_logs: &str, deletion_protection: &str) -> Value {
    json!({"scheme": scheme, "type": "application", "securityGroups": ["sg-web"],
           "listeners": [{"port": 443, "protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}],
           "attributes": {"access_logs.s3.enabled": access_logs,
                          "deletion_protection.enabled": deletion_protection}})
}

#[test]
fn an_internet_facing_alb_inherits_open_ingress_on_its_listener_port_only() {
    let found = audit(V2, alb("internet-facing", "true", "true"));
    assert_eq!(
        found,
        [(
            "internet-accessible".to_string(),
            "Internet Accessible".to_string(),
            10,
            "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:443] Port: [443] SecurityGroup: [sg-web]"
                .to_string()
        )]
    );
    assert!(audit(V2, alb("internal", "true", "true")).is_empty());
}

#[test]
fn access_logs_and_deletion_protection_off_are_recommendations() {
    let found = audit(V2, alb("internal", "false", "false"));
    let got: Vec<(&str, &str, u32)> = found
        .iter()
        .map(|f| (f.0.as_str(), f.1.as_str(), f.2))
        .collect();
    assert_eq!(
        got,
        [
            ("access-logs-disabled", "Recommendation", 1),
            ("deletion-protection-disabled", "Recommendation", 1)
        ]
    );
    // Deletion protection is an application load balancer's check only.
    let mut nlb = alb("internal", "true", "false");
    nlb["type"] = json!("network");
    assert!(audit(V2, nlb).is_empty());
}

fn classic(policy_attributes: Value, access_log: bool) -> Value {
    json!({"scheme": "internet-facing", "securityGroups": ["sg-web"],
           "listeners": [{"protocol": "HTTPS", "loadBalancerPort": 443, "instancePort": 80,
                          "policyNames": ["tls-policy"]}],
           "accessLog": {"enabled": access_log},
           "sslNegotiationPolicies": [{"policyName": "tls-policy",
               "policyTypeName": "SSLNegotiationPolicyType", "attributes": policy_attributes}]})
}

#[test]
fn a_classic_listener_with_a_custom_tls_policy_is_insecure() {
    let custom = audit(
        CLASSIC,
        classic(
            json!({"Protocol-TLSv1.2": "true", "Protocol-SSLv3": "true"}),
            true,
        ),
    );
    let tls: Vec<_> = custom.iter().filter(|f| f.0 == "insecure-tls").collect();
    assert_eq!(tls.len(), 1, "{custom:?}");
    assert_eq!((tls[0].1.as_str(), tls[0].2), ("Insecure TLS", 8));
    assert_eq!(tls[0].3, "Policy: [tls-policy] Listener: [443] custom");
    let reference = audit(
        CLASSIC,
        classic(
            json!({"Reference-Security-Policy": "ELBSecurityPolicy-TLS-1-2-2017-01"}),
            true,
        ),
    );
    assert!(
        reference.iter().all(|f| f.0 != "insecure-tls"),
        "{reference:?}"
    );
    // The exposure and access-log checks apply to classic load balancers too.
    assert!(reference.iter().any(|f| f.0 == "internet-accessible"));
    let unlogged = audit(
        CLASSIC,
        classic(
            json!({"Reference-Security-Policy": "ELBSecurityPolicy-TLS-1-2-2017-01"}),
            false,
        ),
    );
    assert!(unlogged.iter().any(|f| f.0 == "access-logs-disabled"));
}

#[test]
fn an_unreadable_configuration_is_an_error() {
    let item = Item::new(V2, "lb").with_configuration(&json!({"listeners": "443"}));
    assert!(
        audit_with::<LoadBalancer>(&host(), &[item])
            .remove(0)
            .is_err()
    );
}

fn tls(attributes: Value) -> Vec<(String, String, u32, String)> {
    audit(CLASSIC, classic(attributes, true))
        .into_iter()
        .filter(|f| !matches!(f.0.as_str(), "internet-accessible" | "insecure-tls"))
        .collect()
}

#[test]
fn reference_policies_carry_security_monkeys_findings() {
    let old = tls(json!({"Reference-Security-Policy": "ELBSecurityPolicy-2011-08"}));
    let got: Vec<(&str, u32)> = old.iter().map(|f| (f.0.as_str(), f.2)).collect();
    assert_eq!(
        got,
        [
            ("reference-deprecated", 10),
            ("poodlebleed", 10),
            ("no-server-order", 10),
            ("rc4", 10),
            ("sweet32", 5)
        ]
    );
    assert_eq!(
        old[1].1,
        "ELBSecurityPolicy-2011-08 is vulnerable to poodlebleed"
    );
    assert_eq!(old[0].3, "Policy: [tls-policy] Listener: [443]");
    let xp = tls(json!({"Reference-Security-Policy": "ELBSecurityPolicy-2015-02"}));
    let got: Vec<(&str, u32)> = xp.iter().map(|f| (f.0.as_str(), f.2)).collect();
    assert_eq!(got, [("windows-xp", 0), ("logjam", 5)]);
    for current in [
        "ELBSecurityPolicy-2016-08",
        "ELBSecurityPolicy-TLS-1-1-2017-01",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
    ] {
        assert!(
            tls(json!({"Reference-Security-Policy": current})).is_empty(),
            "{current}"
        );
    }
    let unknown = tls(json!({"Reference-Security-Policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}));
    assert_eq!(
        (unknown[0].1.as_str(), unknown[0].2, unknown[0].3.as_str()),
        (
            "Unknown reference policy.",
            10,
            "Policy: [tls-policy] Listener: [443] Reference: [ELBSecurityPolicy-TLS13-1-2-2021-06]"
        )
    );
}

#[test]
fn custom_policies_are_judged_by_protocol_order_and_cipher() {
    let found = tls(json!({
        "Protocol-SSLv2": "true", "Protocol-SSLv3": "true", "Protocol-TLSv1.2": "true",
        "Server-Defined-Cipher-Order": "false",
        "EXP-RC4-MD5": "true", "PSK-RC4-SHA": "true", "RC4-SHA": "true",
        "DES-CBC3-SHA": "false", "ECDHE-RSA-AES128-GCM-SHA256": "true"
    }));
    let got: Vec<(&str, &str, u32)> = found
        .iter()
        .map(|f| (f.0.as_str(), f.1.as_str(), f.2))
        .collect();
    assert_eq!(
        got,
        [
            ("sslv2", "SSLv2 is enabled", 10),
            ("sslv3", "SSLv3 is enabled", 10),
            (
                "server-order-disabled",
                "Server Defined Cipher Order is Disabled.",
                10
            ),
            (
                "export-cipher",
                "Export Grade Cipher Used. Vuln to FREAK attack.",
                10
            ),
            ("deprecated-cipher", "Deprecated Cipher Used.", 10),
            ("cipher-not-recommended", "Cipher Not Recommended.", 10),
        ]
    );
    assert_eq!(
        found[3].3,
        "Policy: [tls-policy] Listener: [443] Cipher: [EXP-RC4-MD5]"
    );
    // A modern custom policy raises only the custom-policy check itself.
    assert!(
        tls(
            json!({"Protocol-TLSv1.2": "true", "Server-Defined-Cipher-Order": "true",
                       "ECDHE-RSA-AES128-GCM-SHA256": "true"})
        )
        .is_empty()
    );
}

#[test]
fn every_raised_check_is_listed() {
    use simian_sdk::Auditor;
    let listed: Vec<String> = LoadBalancer::checks().into_iter().map(|c| c.id).collect();
    for id in [
        "internet-accessible",
        "access-logs-disabled",
        "deletion-protection-disabled",
        "insecure-tls",
        "poodlebleed",
        "unknown-reference-policy",
        "cipher-not-recommended",
    ] {
        assert!(listed.iter().any(|l| l == id), "{id} not listed");
    }
}
