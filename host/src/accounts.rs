//! Who is behind an account id, ARN, CIDR or S3 canonical id: the configured accounts and
//! networks handed to `simian-model`'s `AccountBook`, the one implementation of these rules
//! (the SDK's test host runs it too, so a plugin's tests and the host agree).
//!
//! Owns turning the configuration into that book. It must never call AWS.

use crate::config::{AccountConfig, NetworkConfig};
use simian_model::accounts::{Account, Network};
pub use simian_model::accounts::{AccountBook, Classification, Relation};
use simian_model::cidr::Cidr;

/// The book of the configured accounts and networks.
pub fn book(accounts: &[AccountConfig], networks: &[NetworkConfig]) -> AccountBook {
    let accounts: Vec<Account> = accounts
        .iter()
        .map(|a| Account {
            id: a.id.clone(),
            name: a.name.clone(),
            third_party: a.third_party,
            canonical_id: a.canonical_id.clone(),
        })
        .collect();
    let networks: Vec<Network> = networks
        .iter()
        .filter_map(|n| {
            // A parsed network always converts; the filter keeps this total.
            Cidr::new(n.cidr.network(), n.cidr.prefix_len())
                .ok()
                .map(|cidr| Network {
                    name: n.name.clone(),
                    cidr,
                    account: n.account.clone(),
                })
        })
        .collect();
    AccountBook::new(&accounts, &networks)
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
        super::book(
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
