//! Security Monkey's IAM SSL auditor, reading the certificate body (PEM) rather than trusting
//! IAM's `Expiration` field: expiry (the shared rule of `simian_sdk::expiry`), an issuer that
//! cannot be extracted, RSA keys under 1024 / 2048 bits, MD5 and SHA-1 signatures, and
//! certificates uploaded before the Heartbleed disclosure (2014-04-07), whose keys may have
//! leaked.

mod x509;

use serde::Deserialize;
use simian_sdk::expiry::ExpiryRule;
use simian_sdk::prelude::*;
use simian_sdk::time::{parse_rfc3339, rfc3339};

use crate::x509::Facts;

type Check = (&'static str, &'static str, u32, &'static str);

const NO_ISSUER: Check = (
    "no-issuer",
    "Could not extract valid certificate issuer.",
    10,
    "The certificate body does not parse, or names no issuer.",
);
const KEY_1024: Check = (
    "key-under-1024",
    "Cert size is less than 1024 bits.",
    10,
    "The RSA key is shorter than 1024 bits.",
);
const KEY_2048: Check = (
    "key-under-2048",
    "Cert size is less than 2048 bits.",
    3,
    "The RSA key is shorter than 2048 bits.",
);
const MD5: Check = (
    "md5-signature",
    "Cert uses an MD5 signature algorithm.",
    3,
    "The certificate is signed with MD5.",
);
const SHA1: Check = (
    "sha1-signature",
    "Cert uses an SHA1 signature algorithm.",
    1,
    "The certificate is signed with SHA-1.",
);
const HEARTBLEED: Check = (
    "heartbleed",
    "Cert may have been compromised by heartbleed.",
    10,
    "Uploaded before the Heartbleed disclosure (2014-04-07): the key may have leaked.",
);

/// The public disclosure of CVE-2014-0160.
const HEARTBLEED_DISCLOSED: &str = "2014-04-07T00:00:00Z";

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ServerCertificate {
    pub(crate) certificate_body: Option<String>,
    pub(crate) upload_date: Option<String>,
}

pub struct IamServerCertificate {
    pub(crate) expiry: ExpiryRule,
}

fn issue((id, title, score, _): Check, notes: String, remediation: &str) -> Issue {
    Issue::new(id, title, score)
        .notes(notes)
        .remediation(remediation)
}

impl Auditor for IamServerCertificate {
    fn new() -> Result<Self, Error> {
        Ok(IamServerCertificate {
            expiry: ExpiryRule::from_settings()?,
        })
    }

    fn checks() -> Vec<CheckInfo> {
        [NO_ISSUER, KEY_1024, KEY_2048, MD5, SHA1, HEARTBLEED]
            .into_iter()
            .fold(
                ExpiryRule::checks(Checks::new()),
                |c, (id, title, score, d)| c.check(id, title, score, d),
            )
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let cert: ServerCertificate = item.configuration()?;
        let now = simian_sdk::time::now()?;
        Ok(self.judge(&cert, now, &item.label()))
    }
}

impl IamServerCertificate {
    fn judge(&self, cert: &ServerCertificate, now: i64, label: &str) -> Vec<Issue> {
        let replace = "Upload a new certificate with a fresh key and move its users to it.";
        let mut issues = Vec::new();
        let facts = cert.certificate_body.as_deref().map(x509::facts);
        match facts {
            Some(Ok(Facts {
                issuer,
                not_after,
                rsa_bits,
                signature,
            })) => {
                if issuer.trim().is_empty() {
                    issues.push(issue(NO_ISSUER, "Issuer: [empty]".into(), replace));
                }
                issues.extend(self.expiry.judge(&rfc3339(not_after), not_after, now));
                if let Some(bits) = rsa_bits {
                    let check = if bits < 1024 {
                        Some(KEY_1024)
                    } else if bits < 2048 {
                        Some(KEY_2048)
                    } else {
                        None
                    };
                    if let Some(check) = check {
                        issues.push(issue(check, format!("Key: [RSA {bits} bits]"), replace));
                    }
                }
                let lower = signature.to_ascii_lowercase();
                let check = if lower.contains("md5") {
                    Some(MD5)
                } else if lower.contains("sha1") || lower.contains("sha-1") {
                    Some(SHA1)
                } else {
                    None
                };
                if let Some(check) = check {
                    issues.push(issue(check, format!("Signature: [{signature}]"), replace));
                }
            }
            Some(Err(e)) => {
                log::warn(format!("{label}: certificate body: {e}"));
                issues.push(issue(
                    NO_ISSUER,
                    format!("Certificate: [unreadable: {e}]"),
                    replace,
                ));
            }
            None => issues.push(issue(NO_ISSUER, "Certificate: [no body]".into(), replace)),
        }
        if let Some(uploaded) = cert.upload_date.as_deref().filter(|u| !u.is_empty())
            && let (Ok(at), Ok(disclosed)) =
                (parse_rfc3339(uploaded), parse_rfc3339(HEARTBLEED_DISCLOSED))
            && at < disclosed
        {
            issues.push(issue(
                HEARTBLEED,
                format!("Uploaded: [{uploaded}]"),
                replace,
            ));
        }
        issues
    }
}

register_auditor!(IamServerCertificate);

#[cfg(test)]
mod tests;
