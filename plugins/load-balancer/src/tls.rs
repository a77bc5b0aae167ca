//! Security Monkey's TLS table for classic listeners (`auditors/elb.py`): what each AWS
//! reference policy version is known for, and, for a custom policy, SSLv2/SSLv3, the server's
//! cipher order and every export-grade, deprecated or not-recommended cipher it enables.
//! Titles and scores are Security Monkey's, verbatim.

use std::collections::BTreeMap;

use simian_sdk::Issue;

/// (check id, title, score) for one finding.
type Finding = (&'static str, &'static str, u32);

/// Export-grade ciphers (FREAK, CVE-2015-0204).
const EXPORT_CIPHERS: &[&str] = &[
    "EXP-EDH-RSA-DES-CBC-SHA",
    "EXP-EDH-DSS-DES-CBC-SHA",
    "EXP-ADH-DES-CBC-SHA",
    "EXP-DES-CBC-SHA",
    "EXP-RC2-CBC-MD5",
    "EXP-KRB5-RC2-CBC-SHA",
    "EXP-KRB5-DES-CBC-SHA",
    "EXP-KRB5-RC2-CBC-MD5",
    "EXP-KRB5-DES-CBC-MD5",
    "EXP-ADH-RC4-MD5",
    "EXP-RC4-MD5",
    "EXP-KRB5-RC4-SHA",
    "EXP-KRB5-RC4-MD5",
];

/// Ciphers AWS's security policy table lists as deprecated.
const DEPRECATED_CIPHERS: &[&str] = &[
    "RC2-CBC-MD5",
    "PSK-AES256-CBC-SHA",
    "PSK-3DES-EDE-CBC-SHA",
    "KRB5-DES-CBC3-SHA",
    "KRB5-DES-CBC3-MD5",
    "PSK-AES128-CBC-SHA",
    "PSK-RC4-SHA",
    "KRB5-RC4-SHA",
    "KRB5-RC4-MD5",
    "KRB5-DES-CBC-SHA",
    "KRB5-DES-CBC-MD5",
];

/// Ciphers not in ELBSecurityPolicy-2014-10, plus the RC4, DHE and 3DES ones removed later.
const NOT_RECOMMENDED_CIPHERS: &[&str] = &[
    "CAMELLIA128-SHA",
    "EDH-RSA-DES-CBC3-SHA",
    "ECDHE-ECDSA-RC4-SHA",
    "DHE-DSS-AES256-GCM-SHA384",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES256-SHA256",
    "DHE-DSS-AES256-SHA256",
    "DHE-RSA-AES256-SHA",
    "DHE-DSS-AES256-SHA",
    "DHE-RSA-CAMELLIA256-SHA",
    "DHE-DSS-CAMELLIA256-SHA",
    "CAMELLIA256-SHA",
    "EDH-DSS-DES-CBC3-SHA",
    "DHE-DSS-AES128-GCM-SHA256",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES128-SHA256",
    "DHE-DSS-AES128-SHA256",
    "DHE-RSA-CAMELLIA128-SHA",
    "DHE-DSS-CAMELLIA128-SHA",
    "ADH-AES128-GCM-SHA256",
    "ADH-AES128-SHA",
    "ADH-AES128-SHA256",
    "ADH-AES256-GCM-SHA384",
    "ADH-AES256-SHA",
    "ADH-AES256-SHA256",
    "ADH-CAMELLIA128-SHA",
    "ADH-CAMELLIA256-SHA",
    "ADH-DES-CBC3-SHA",
    "ADH-DES-CBC-SHA",
    "ADH-RC4-MD5",
    "ADH-SEED-SHA",
    "DES-CBC-SHA",
    "DHE-DSS-SEED-SHA",
    "DHE-RSA-SEED-SHA",
    "EDH-DSS-DES-CBC-SHA",
    "EDH-RSA-DES-CBC-SHA",
    "IDEA-CBC-SHA",
    "RC4-MD5",
    "SEED-SHA",
    "DES-CBC3-MD5",
    "DES-CBC-MD5",
    "RC4-SHA",
    "ECDHE-RSA-RC4-SHA",
    "DHE-DSS-AES128-SHA",
    "DES-CBC3-SHA",
];

/// Every check this module can raise, with a representative title, for `checks()`.
pub const CHECKS: &[(&str, &str, u32, &str)] = &[
    (
        "reference-deprecated",
        "ELBSecurityPolicy-2011-08 is vulnerable and deprecated",
        10,
        "The listener uses ELBSecurityPolicy-2011-08.",
    ),
    (
        "poodlebleed",
        "Reference policy is vulnerable to poodlebleed",
        10,
        "The reference policy still allows SSLv3 (2011-08, 2014-01).",
    ),
    (
        "no-server-order",
        "ELBSecurityPolicy-2011-08 lacks server order cipher preference.",
        10,
        "The reference policy lets the client pick the cipher.",
    ),
    (
        "rc4",
        "Reference policy contains RC4 ciphers that have been removed in newer policies.",
        10,
        "The reference policy enables RC4 (2011-08 to 2014-10).",
    ),
    (
        "sweet32",
        "Reference policy contains a weaker cipher (DES-CBC3-SHA).",
        5,
        "The reference policy enables 3DES (SWEET32, CVE-2016-2183); 0 where kept for Windows XP.",
    ),
    (
        "logjam",
        "Reference policy uses diffie-hellman. Vulnerable to LOGJAM CVE-2015-4000.",
        5,
        "The reference policy enables DHE-DSS (2014-01 to 2015-03).",
    ),
    (
        "windows-xp",
        "ELBSecurityPolicy-2015-02 is not compatible with Windows XP systems.",
        0,
        "Informational.",
    ),
    (
        "unknown-reference-policy",
        "Unknown reference policy.",
        10,
        "The listener names a reference policy Security Monkey's table does not know.",
    ),
    (
        "sslv2",
        "SSLv2 is enabled",
        10,
        "A custom policy enables SSLv2.",
    ),
    (
        "sslv3",
        "SSLv3 is enabled",
        10,
        "A custom policy enables SSLv3.",
    ),
    (
        "server-order-disabled",
        "Server Defined Cipher Order is Disabled.",
        10,
        "A custom policy lets the client pick the cipher.",
    ),
    (
        "export-cipher",
        "Export Grade Cipher Used. Vuln to FREAK attack.",
        10,
        "A custom policy enables an export-grade cipher.",
    ),
    (
        "deprecated-cipher",
        "Deprecated Cipher Used.",
        10,
        "A custom policy enables a deprecated cipher.",
    ),
    (
        "cipher-not-recommended",
        "Cipher Not Recommended.",
        10,
        "A custom policy enables a cipher AWS's current policies leave out.",
    ),
];

fn reference_findings(policy: &str) -> Option<Vec<Finding>> {
    Some(match policy {
        "ELBSecurityPolicy-2011-08" => vec![
            (
                "reference-deprecated",
                "ELBSecurityPolicy-2011-08 is vulnerable and deprecated",
                10,
            ),
            (
                "poodlebleed",
                "ELBSecurityPolicy-2011-08 is vulnerable to poodlebleed",
                10,
            ),
            (
                "no-server-order",
                "ELBSecurityPolicy-2011-08 lacks server order cipher preference.",
                10,
            ),
            (
                "rc4",
                "ELBSecurityPolicy-2011-08 contains RC4 ciphers (RC4-SHA) that have been removed in newer policies.",
                10,
            ),
            (
                "sweet32",
                "ELBSecurityPolicy-2011-08 contains a weaker cipher (DES-CBC3-SHA) for backwards compatibility with Windows XP systems. Vulnerable to SWEET32 CVE-2016-2183.",
                5,
            ),
        ],
        "ELBSecurityPolicy-2014-01" => vec![
            (
                "poodlebleed",
                "ELBSecurityPolicy-2014-01 is vulnerable to poodlebleed",
                10,
            ),
            (
                "logjam",
                "ELBSecurityPolicy-2014-01 uses diffie-hellman (DHE-DSS-AES1280SHA). Vulnerable to LOGJAM CVE-2015-4000.",
                5,
            ),
            (
                "rc4",
                "ELBSecurityPolicy-2014-01 contains RC4 ciphers (ECDHE-RSA-RC4-SHA and RC4-SHA) that have been removed in newer policies.",
                10,
            ),
        ],
        "ELBSecurityPolicy-2014-10" => vec![
            (
                "rc4",
                "ELBSecurityPolicy-2014-10 contains RC4 ciphers (ECDHE-RSA-RC4-SHA and RC4-SHA) that have been removed in newer policies.",
                10,
            ),
            (
                "logjam",
                "ELBSecurityPolicy-2014-10 uses diffie-hellman (DHE-DSS-AES1280SHA). Vulnerable to LOGJAM CVE-2015-4000.",
                5,
            ),
        ],
        "ELBSecurityPolicy-2015-02" => vec![
            (
                "windows-xp",
                "ELBSecurityPolicy-2015-02 is not compatible with Windows XP systems.",
                0,
            ),
            (
                "logjam",
                "ELBSecurityPolicy-2015-02 uses diffie-hellman (DHE-DSS-AES1280SHA). Vulnerable to LOGJAM CVE-2015-4000.",
                5,
            ),
        ],
        "ELBSecurityPolicy-2015-03" => vec![
            (
                "sweet32",
                "ELBSecurityPolicy-2015-03 contains a weaker cipher (DES-CBC3-SHA) for backwards compatibility with Windows XP systems. Vulnerable to SWEET32 CVE-2016-2183.",
                0,
            ),
            (
                "logjam",
                "ELBSecurityPolicy-2015-03 uses diffie-hellman (DHE-DSS-AES1280SHA). Vulnerable to LOGJAM CVE-2015-4000.",
                5,
            ),
        ],
        // Security Monkey's text names 2015-03 here too.
        "ELBSecurityPolicy-2015-05" => vec![(
            "sweet32",
            "ELBSecurityPolicy-2015-03 contains a weaker cipher (DES-CBC3-SHA) for backwards compatibility with Windows XP systems. Vulnerable to SWEET32 CVE-2016-2183",
            0,
        )],
        "ELBSecurityPolicy-2016-08"
        | "ELBSecurityPolicy-TLS-1-1-2017-01"
        | "ELBSecurityPolicy-TLS-1-2-2017-01" => Vec::new(),
        _ => return None,
    })
}

const FIX: &str =
    "Use a current AWS reference security policy (ELBSecurityPolicy-TLS13-…) on the listener.";

fn issue((id, title, score): Finding, notes: String) -> Issue {
    Issue::new(id, title, score).notes(notes).remediation(FIX)
}

/// The findings for one SSL negotiation policy (its attributes as AWS lists them) on
/// `listener` ("Policy: [name] Listener: [443]"). `None` for a custom policy's own check,
/// which the caller raises.
pub fn policy_findings(listener: &str, attributes: &BTreeMap<String, String>) -> Vec<Issue> {
    if let Some(reference) = attributes.get("Reference-Security-Policy") {
        return match reference_findings(reference) {
            Some(found) => found
                .into_iter()
                .map(|f| issue(f, listener.to_string()))
                .collect(),
            None => vec![issue(
                ("unknown-reference-policy", "Unknown reference policy.", 10),
                format!("{listener} Reference: [{reference}]"),
            )],
        };
    }
    let on = |name: &str| attributes.get(name).is_some_and(|v| v == "true");
    let mut issues = Vec::new();
    if on("Protocol-SSLv2") {
        issues.push(issue(
            ("sslv2", "SSLv2 is enabled", 10),
            listener.to_string(),
        ));
    }
    if on("Protocol-SSLv3") {
        issues.push(issue(
            ("sslv3", "SSLv3 is enabled", 10),
            listener.to_string(),
        ));
    }
    if attributes
        .get("Server-Defined-Cipher-Order")
        .is_some_and(|v| v == "false")
    {
        issues.push(issue(
            (
                "server-order-disabled",
                "Server Defined Cipher Order is Disabled.",
                10,
            ),
            listener.to_string(),
        ));
    }
    for (cipher, _) in attributes.iter().filter(|(_, v)| *v == "true") {
        let lists: [(&[&str], Finding); 3] = [
            (
                EXPORT_CIPHERS,
                (
                    "export-cipher",
                    "Export Grade Cipher Used. Vuln to FREAK attack.",
                    10,
                ),
            ),
            (
                DEPRECATED_CIPHERS,
                ("deprecated-cipher", "Deprecated Cipher Used.", 10),
            ),
            (
                NOT_RECOMMENDED_CIPHERS,
                ("cipher-not-recommended", "Cipher Not Recommended.", 10),
            ),
        ];
        for (list, finding) in lists {
            if list.contains(&cipher.as_str()) {
                issues.push(issue(finding, format!("{listener} Cipher: [{cipher}]")));
            }
        }
    }
    issues
}
