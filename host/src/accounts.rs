//! Who is behind an account id, ARN, CIDR or S3 canonical id.
//!
//! Owns the classification rules against the configured accounts and networks (the heart of
//! Security Monkey's cross-account checks). It must never call AWS: it knows only the config.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::config::{AccountConfig, NetworkConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    Same,
    Friendly,
    ThirdParty,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    pub relation: Relation,
    pub account_id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Default)]
pub struct AccountBook {
    by_id: HashMap<String, AccountConfig>,
    by_canonical: HashMap<String, String>,
    networks: Vec<NetworkConfig>,
}

impl AccountBook {
    pub fn new(accounts: &[AccountConfig], networks: &[NetworkConfig]) -> AccountBook {
        let mut networks = networks.to_vec();
        // Most specific network first, so a /24 inside a /8 names the /24.
        networks.sort_by_key(|n| std::cmp::Reverse(n.cidr.prefix_len()));
        AccountBook {
            by_id: accounts.iter().map(|a| (a.id.clone(), a.clone())).collect(),
            by_canonical: accounts
                .iter()
                .filter_map(|a| {
                    a.canonical_id
                        .clone()
                        .map(|c| (c.to_ascii_lowercase(), a.id.clone()))
                })
                .collect(),
            networks,
        }
    }

    pub fn classify_account(&self, own: &str, account_id: &str) -> Classification {
        let account_id = account_id.trim();
        let (relation, name) = if account_id == own {
            (
                Relation::Same,
                self.by_id.get(account_id).map(|a| a.name.clone()),
            )
        } else {
            match self.by_id.get(account_id) {
                Some(a) if a.third_party => (Relation::ThirdParty, Some(a.name.clone())),
                Some(a) => (Relation::Friendly, Some(a.name.clone())),
                None => (Relation::Unknown, None),
            }
        };
        Classification {
            relation,
            account_id: Some(account_id.to_string()),
            name,
        }
    }

    /// `arn:partition:service:region:account:resource`. An ARN without an account (S3
    /// buckets) or with `*` is unknown.
    pub fn classify_arn(&self, own: &str, arn: &str) -> Result<Classification, String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2].is_empty() {
            return Err(format!("`{arn}` is not an ARN"));
        }
        let account = parts[4];
        // `aws` owns AWS-managed policies; `*` and empty (S3) name no account.
        if account.is_empty() || account == "*" || account == "aws" {
            return Ok(Classification {
                relation: Relation::Unknown,
                account_id: None,
                name: None,
            });
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "`{arn}` has account `{account}`, not a 12-digit id"
            ));
        }
        Ok(self.classify_account(own, account))
    }

    /// A CIDR inside a configured network is ours (or that network's account's); anything else
    /// is unknown.
    pub fn classify_cidr(&self, own: &str, cidr: &str) -> Result<Classification, String> {
        let net: ipnet::IpNet = cidr
            .parse()
            .or_else(|_| cidr.parse::<IpAddr>().map(ipnet::IpNet::from))
            .map_err(|e| format!("`{cidr}` is not a CIDR: {e}"))?;
        let net = net.trunc();
        for known in &self.networks {
            if known.cidr.contains(&net) {
                return Ok(match &known.account {
                    Some(account) => {
                        let mut c = self.classify_account(own, account);
                        c.name = Some(known.name.clone());
                        c
                    }
                    None => Classification {
                        relation: Relation::Same,
                        account_id: None,
                        name: Some(known.name.clone()),
                    },
                });
            }
        }
        Ok(Classification {
            relation: Relation::Unknown,
            account_id: None,
            name: None,
        })
    }

    pub fn classify_canonical_id(&self, own: &str, canonical: &str) -> Classification {
        match self
            .by_canonical
            .get(&canonical.trim().to_ascii_lowercase())
        {
            Some(account) => self.classify_account(own, account),
            None => Classification {
                relation: Relation::Unknown,
                account_id: None,
                name: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> AccountBook {
        let acct = |id: &str, name: &str, third_party: bool| AccountConfig {
            id: id.into(),
            name: name.into(),
            third_party,
            active: true,
            role_arn: None,
            external_id: None,
            regions: vec![],
            canonical_id: Some(format!("canon-{name}")),
        };
        AccountBook::new(
            &[
                acct("111111111111", "prod", false),
                acct("222222222222", "dev", false),
                acct("333333333333", "vendor", true),
            ],
            &[
                NetworkConfig {
                    name: "corp".into(),
                    cidr: "10.0.0.0/8".parse().expect("cidr"),
                    account: None,
                },
                NetworkConfig {
                    name: "vendor-vpn".into(),
                    cidr: "10.9.0.0/16".parse().expect("cidr"),
                    account: Some("333333333333".into()),
                },
            ],
        )
    }

    #[test]
    fn accounts() {
        let b = book();
        assert_eq!(
            b.classify_account("111111111111", "111111111111").relation,
            Relation::Same
        );
        assert_eq!(
            b.classify_account("111111111111", "222222222222").relation,
            Relation::Friendly
        );
        assert_eq!(
            b.classify_account("111111111111", "333333333333").relation,
            Relation::ThirdParty
        );
        assert_eq!(
            b.classify_account("111111111111", "999999999999").relation,
            Relation::Unknown
        );
    }

    #[test]
    fn arns() {
        let b = book();
        let c = b
            .classify_arn("111111111111", "arn:aws:iam::222222222222:root")
            .expect("arn");
        assert_eq!(
            (c.relation, c.name.as_deref()),
            (Relation::Friendly, Some("dev"))
        );
        let c = b
            .classify_arn("111111111111", "arn:aws:s3:::bucket")
            .expect("arn");
        assert_eq!(c.relation, Relation::Unknown);
        let c = b
            .classify_arn("111111111111", "arn:aws:iam::aws:policy/ReadOnlyAccess")
            .expect("managed policy arn");
        assert_eq!((c.relation, c.account_id), (Relation::Unknown, None));
        assert!(b.classify_arn("111111111111", "not-an-arn").is_err());
        assert!(
            b.classify_arn("111111111111", "arn:aws:iam::12:root")
                .is_err()
        );
    }

    #[test]
    fn cidrs() {
        let b = book();
        assert_eq!(
            b.classify_cidr("1", "10.1.2.0/24").expect("ok").relation,
            Relation::Same
        );
        let c = b.classify_cidr("1", "10.9.1.1/32").expect("ok");
        assert_eq!(
            (c.relation, c.name.as_deref()),
            (Relation::ThirdParty, Some("vendor-vpn"))
        );
        assert_eq!(
            b.classify_cidr("1", "0.0.0.0/0").expect("ok").relation,
            Relation::Unknown
        );
        assert_eq!(
            b.classify_cidr("1", "::/0").expect("ok").relation,
            Relation::Unknown
        );
        assert!(b.classify_cidr("1", "10.0.0/8").is_err());
    }

    #[test]
    fn canonical_ids() {
        let b = book();
        assert_eq!(
            b.classify_canonical_id("111111111111", "CANON-dev")
                .relation,
            Relation::Friendly
        );
        assert_eq!(
            b.classify_canonical_id("111111111111", "nobody").relation,
            Relation::Unknown
        );
    }
}
