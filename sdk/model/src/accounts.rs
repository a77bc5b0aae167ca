//! Who is behind an account id, ARN, CIDR or S3 canonical id, against the operator's accounts
//! and networks: the heart of Security Monkey's cross-account checks.
//!
//! The one implementation of these rules: the host answers plugins' `accounts` calls with it,
//! and the SDK's test host runs it too.

use std::collections::HashMap;
use std::fmt;

use crate::ParseError;
use crate::arn::{Arn, is_account_id};
use crate::cidr::Cidr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The same account as the item being audited (or one of our own networks).
    Same,
    /// Another account of ours that is not marked third party.
    Friendly,
    /// An account configured as third party (a vendor we trust).
    ThirdParty,
    /// Nobody we know.
    Unknown,
}

impl Relation {
    /// `same`, `friendly`, `third-party` or `unknown`, as the contract spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Same => "same",
            Relation::Friendly => "friendly",
            Relation::ThirdParty => "third-party",
            Relation::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub relation: Relation,
    /// The account the subject belongs to, when it could be determined.
    pub account_id: Option<String>,
    /// The configured account or network name, when known.
    pub name: Option<String>,
}

impl Classification {
    fn unknown() -> Classification {
        Classification {
            relation: Relation::Unknown,
            account_id: None,
            name: None,
        }
    }
}

/// An account the operator configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub third_party: bool,
    /// Its S3 canonical user id, for ACL grantees.
    pub canonical_id: Option<String>,
}

/// A network the operator treats as ours, or (with `account`) as that account's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub name: String,
    pub cidr: Cidr,
    pub account: Option<String>,
}

/// The configured accounts and networks, indexed for classification.
#[derive(Debug, Default)]
pub struct AccountBook {
    by_id: HashMap<String, Account>,
    by_canonical: HashMap<String, String>,
    networks: Vec<Network>,
    /// Who owns the resources whose ARNs or ids carry no account.
    inventory: Inventory,
}

/// The recorded types whose ids identify an account's resource without naming the account.
pub const INVENTORY_TYPES: [&str; 5] = [
    "AWS::S3::Bucket",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCEndpoint",
    "AWS::IAM::User",
    "AWS::IAM::Role",
];

/// Which account owns each recorded bucket, VPC, VPC endpoint, IAM user and role, built from
/// the items the host has recorded (the SDK's test host builds it from its items the same
/// way). A bucket ARN, `aws:SourceVpc`, `aws:SourceVpce` and `aws:userid` carry no account:
/// without this, every condition naming one of our own would read as unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Bucket name (names are global) → account.
    buckets: HashMap<String, String>,
    /// `vpc-…` / `vpce-…` id → account.
    networks: HashMap<String, String>,
    /// IAM unique id (`AIDA…` users, `AROA…` roles; the items' resource ids) → account.
    unique_ids: HashMap<String, String>,
}

impl Inventory {
    /// Record one item; types outside [`INVENTORY_TYPES`] are ignored.
    pub fn add(&mut self, resource_type: &str, resource_id: &str, account_id: &str) {
        let map = match resource_type {
            "AWS::S3::Bucket" => &mut self.buckets,
            "AWS::EC2::VPC" | "AWS::EC2::VPCEndpoint" => &mut self.networks,
            "AWS::IAM::User" | "AWS::IAM::Role" => &mut self.unique_ids,
            _ => return,
        };
        map.insert(resource_id.to_string(), account_id.to_string());
    }

    /// The account owning the resource an account-less ARN names: `arn:aws:s3:::bucket/key`,
    /// `arn:aws:ec2:::vpc/vpc-1`, `arn:aws:ec2:::vpc-endpoint/vpce-1`, and
    /// `arn:aws:iam:::unique-id/AROA…` (simian's spelling for an `aws:userid` value).
    fn owner(&self, arn: &Arn) -> Option<&String> {
        match arn.service.as_str() {
            "s3" => self.buckets.get(arn.resource.split('/').next()?),
            "iam" => {
                let id = arn.resource.strip_prefix("unique-id/")?;
                self.unique_ids.get(id)
            }
            "ec2" => {
                let (kind, id) = arn.resource.split_once('/')?;
                matches!(kind, "vpc" | "vpc-endpoint")
                    .then(|| self.networks.get(id))
                    .flatten()
            }
            _ => None,
        }
    }
}

impl AccountBook {
    /// A later account with the same id or canonical id wins over an earlier one.
    pub fn new(accounts: &[Account], networks: &[Network]) -> AccountBook {
        let mut networks = networks.to_vec();
        // Most specific network first, so a /24 inside a /8 names the /24. Stable: among
        // equally specific networks, the first configured wins.
        networks.sort_by_key(|n| std::cmp::Reverse(n.cidr.prefix_len()));
        AccountBook {
            by_id: accounts.iter().map(|a| (a.id.clone(), a.clone())).collect(),
            by_canonical: accounts
                .iter()
                .filter_map(|a| {
                    a.canonical_id
                        .as_ref()
                        .map(|c| (c.trim().to_ascii_lowercase(), a.id.clone()))
                })
                .collect(),
            networks,
            inventory: Inventory::default(),
        }
    }

    /// The same book, placing account-less ARNs through `inventory`.
    pub fn with_inventory(mut self, inventory: Inventory) -> AccountBook {
        self.inventory = inventory;
        self
    }

    /// `own` is the account of the item under audit.
    pub fn classify_account(&self, own: &str, account_id: &str) -> Classification {
        let account_id = account_id.trim();
        let configured = self.by_id.get(account_id);
        let relation = match configured {
            _ if account_id == own => Relation::Same,
            Some(a) if a.third_party => Relation::ThirdParty,
            Some(_) => Relation::Friendly,
            None => Relation::Unknown,
        };
        Classification {
            relation,
            account_id: Some(account_id.to_string()),
            name: configured.map(|a| a.name.clone()),
        }
    }

    /// An S3 ARN, or an EC2 ARN of a VPC or VPC endpoint, without an account belongs to the
    /// account the [`Inventory`] records as its owner; any other ARN without an account, with
    /// `*`, or owned by `aws` (managed policies) is unknown; any other account field must be
    /// a 12-digit id.
    pub fn classify_arn(&self, own: &str, arn: &str) -> Result<Classification, ParseError> {
        let parsed = Arn::parse(arn.trim())?;
        match parsed.account.as_str() {
            "" if matches!(parsed.service.as_str(), "s3" | "ec2" | "iam") => {
                Ok(match self.inventory.owner(&parsed) {
                    Some(owner) => self.classify_account(own, owner),
                    None => Classification::unknown(),
                })
            }
            "" | "*" | "aws" => Ok(Classification::unknown()),
            account if is_account_id(account) => Ok(self.classify_account(own, account)),
            account => Err(ParseError::new(format!(
                "`{arn}` has account `{account}`, not a 12-digit id"
            ))),
        }
    }

    /// A CIDR (or bare address) inside a configured network is ours, or that network's
    /// account's, named after the most specific such network; anything else is unknown.
    pub fn classify_cidr(&self, own: &str, cidr: &str) -> Result<Classification, ParseError> {
        let subject = Cidr::parse(cidr.trim())?;
        let Some(network) = self.networks.iter().find(|n| n.cidr.contains(&subject)) else {
            return Ok(Classification::unknown());
        };
        let mut classification = match &network.account {
            Some(account) => self.classify_account(own, account),
            None => Classification {
                relation: Relation::Same,
                account_id: None,
                name: None,
            },
        };
        classification.name = Some(network.name.clone());
        Ok(classification)
    }

    /// Canonical ids compare case-insensitively.
    pub fn classify_canonical_id(&self, own: &str, canonical_id: &str) -> Classification {
        match self
            .by_canonical
            .get(&canonical_id.trim().to_ascii_lowercase())
        {
            Some(account) => self.classify_account(own, account),
            None => Classification::unknown(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> AccountBook {
        let acct = |id: &str, name: &str, third_party: bool| Account {
            id: id.into(),
            name: name.into(),
            third_party,
            canonical_id: Some(format!("canon-{name}")),
        };
        let net = |name: &str, cidr: &str, account: Option<&str>| Network {
            name: name.into(),
            cidr: Cidr::parse(cidr).expect("cidr"),
            account: account.map(String::from),
        };
        AccountBook::new(
            &[
                acct("111111111111", "prod", false),
                acct("222222222222", "dev", false),
                acct("333333333333", "vendor", true),
            ],
            &[
                net("corp", "10.0.0.0/8", None),
                net("vendor-vpn", "10.9.0.0/16", Some("333333333333")),
            ],
        )
    }

    #[test]
    fn accounts() {
        let b = book();
        let rel = |id: &str| b.classify_account("111111111111", id).relation;
        assert_eq!(rel("111111111111"), Relation::Same);
        assert_eq!(rel("222222222222"), Relation::Friendly);
        assert_eq!(rel("333333333333"), Relation::ThirdParty);
        assert_eq!(rel("999999999999"), Relation::Unknown);
        assert_eq!(
            b.classify_account("111111111111", "111111111111")
                .name
                .as_deref(),
            Some("prod")
        );
    }

    #[test]
    fn the_host_loads_every_type_the_inventory_records() {
        // The host loads exactly INVENTORY_TYPES from the store; `add` must use each of them.
        for t in INVENTORY_TYPES {
            let mut inventory = Inventory::default();
            inventory.add(t, "x-1", "111111111111");
            assert_ne!(inventory, Inventory::default(), "{t}");
        }
        let mut other = Inventory::default();
        other.add("AWS::Lambda::Function", "f", "111111111111");
        assert_eq!(other, Inventory::default());
    }

    #[test]
    fn account_less_arns_belong_to_the_recorded_owner() {
        let mut inventory = Inventory::default();
        inventory.add("AWS::S3::Bucket", "ours", "111111111111");
        inventory.add("AWS::S3::Bucket", "devs", "222222222222");
        inventory.add("AWS::EC2::VPC", "vpc-1", "111111111111");
        inventory.add("AWS::EC2::VPCEndpoint", "vpce-2", "222222222222");
        inventory.add("AWS::IAM::Role", "AROA1", "111111111111");
        inventory.add("AWS::IAM::User", "AIDA2", "222222222222");
        inventory.add("AWS::Lambda::Function", "f", "222222222222");
        let b = book().with_inventory(inventory);
        let rel = |arn: &str| {
            b.classify_arn("111111111111", arn)
                .expect("parses")
                .relation
        };
        assert_eq!(rel("arn:aws:s3:::ours"), Relation::Same);
        assert_eq!(rel("arn:aws:s3:::ours/uploads/*"), Relation::Same);
        assert_eq!(rel("arn:aws:s3:::devs"), Relation::Friendly);
        assert_eq!(rel("arn:aws:s3:::somebody-elses"), Relation::Unknown);
        assert_eq!(rel("arn:aws:ec2:::vpc/vpc-1"), Relation::Same);
        assert_eq!(rel("arn:aws:ec2:::vpc-endpoint/vpce-2"), Relation::Friendly);
        assert_eq!(rel("arn:aws:ec2:::vpc-endpoint/vpce-9"), Relation::Unknown);
        assert_eq!(rel("arn:aws:ec2:::instance/vpc-1"), Relation::Unknown);
        assert_eq!(rel("arn:aws:iam:::unique-id/AROA1"), Relation::Same);
        assert_eq!(rel("arn:aws:iam:::unique-id/AIDA2"), Relation::Friendly);
        assert_eq!(rel("arn:aws:iam:::unique-id/AIDA9"), Relation::Unknown);
        // Without the inventory a bucket ARN stays unknown.
        assert_eq!(
            book()
                .classify_arn("111111111111", "arn:aws:s3:::ours")
                .expect("parses")
                .relation,
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
        let bucket = b
            .classify_arn("111111111111", "arn:aws:s3:::bucket")
            .expect("arn");
        assert_eq!(
            (bucket.relation, bucket.account_id),
            (Relation::Unknown, None)
        );
        let managed = b
            .classify_arn("111111111111", "arn:aws:iam::aws:policy/ReadOnlyAccess")
            .expect("managed policy");
        assert_eq!(managed.relation, Relation::Unknown);
        assert!(b.classify_arn("111111111111", "not-an-arn").is_err());
        assert!(
            b.classify_arn("111111111111", "arn:aws:iam::12:root")
                .is_err()
        );
    }

    #[test]
    fn cidrs_prefer_the_most_specific_network() {
        let b = book();
        let corp = b.classify_cidr("1", "10.1.2.0/24").expect("ok");
        assert_eq!(
            (corp.relation, corp.name.as_deref()),
            (Relation::Same, Some("corp"))
        );
        let vpn = b.classify_cidr("1", "10.9.1.1").expect("ok");
        assert_eq!(
            (vpn.relation, vpn.name.as_deref()),
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
    fn canonical_ids_are_case_insensitive() {
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
