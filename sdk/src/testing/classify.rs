//! Classification in the test host: the configured accounts and networks, and the owners of
//! the buckets, VPCs and endpoints among its items, handed to the very `AccountBook` the host
//! uses (`simian-model`).

use simian_model::accounts::{self as model, AccountBook};

use super::{Config, TestHost};
use crate::HostError;
use crate::accounts::Classification;

impl Config {
    /// The host's view of this configuration: a canonical id belongs to its account's entry
    /// (in simian.toml it is that account's `canonical_id`), so one given for an account that
    /// was never configured is ignored, as the host could not have it.
    fn book(&self) -> AccountBook {
        let accounts: Vec<model::Account> = self
            .accounts
            .iter()
            .map(|a| model::Account {
                id: a.id.clone(),
                name: a.name.clone(),
                third_party: a.third_party,
                canonical_id: self
                    .canonical_ids
                    .iter()
                    .rev()
                    .find(|(_, account)| *account == a.id)
                    .map(|(canonical, _)| canonical.clone()),
            })
            .collect();
        let networks: Vec<model::Network> = self
            .networks
            .iter()
            .map(|n| model::Network {
                name: n.name.clone(),
                cidr: n.cidr,
                account: n.account.clone(),
            })
            .collect();
        // Owners of buckets, VPCs and endpoints come from the items, as the host takes them
        // from the store.
        let mut inventory = model::Inventory::default();
        for item in &self.items {
            inventory.add(&item.resource_type, &item.resource_id, &item.account_id);
        }
        AccountBook::new(&accounts, &networks).with_inventory(inventory)
    }
}

impl TestHost {
    fn with_book<T>(
        &self,
        classify: impl FnOnce(&AccountBook) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        let config = self.inner.config.borrow();
        if config.accounts_denied {
            return Err(HostError::Denied(
                "the accounts capability is not granted".to_string(),
            ));
        }
        classify(&config.book())
    }

    pub(crate) fn classify_account(
        &self,
        own: &str,
        account_id: &str,
    ) -> Result<Classification, HostError> {
        self.with_book(|b| Ok(b.classify_account(own, account_id)))
    }

    pub(crate) fn classify_arn(&self, own: &str, arn: &str) -> Result<Classification, HostError> {
        self.with_book(|b| {
            b.classify_arn(own, arn)
                .map_err(|e| HostError::Invalid(e.to_string()))
        })
    }

    pub(crate) fn classify_cidr(&self, own: &str, cidr: &str) -> Result<Classification, HostError> {
        self.with_book(|b| {
            b.classify_cidr(own, cidr)
                .map_err(|e| HostError::Invalid(e.to_string()))
        })
    }

    pub(crate) fn classify_canonical_id(
        &self,
        own: &str,
        canonical_id: &str,
    ) -> Result<Classification, HostError> {
        self.with_book(|b| Ok(b.classify_canonical_id(own, canonical_id)))
    }
}

#[cfg(test)]
mod tests {
    use crate::HostError;
    use crate::accounts::{self, Relation};
    use crate::testing::TestHost;

    const OWN: &str = "111111111111";

    fn host() -> TestHost {
        TestHost::new()
            .account(OWN, "prod", false)
            .account("222222222222", "dev", false)
            .account("333333333333", "vendor", true)
            .canonical_id("222222222222", "canon-dev")
            .network("corp", "10.0.0.0/8")
            .account_network("vendor-vpn", "10.9.0.0/16", "333333333333")
    }

    #[test]
    fn accounts_follow_the_host_rules() {
        let _h = host().install();
        let relation = |id: &str| accounts::classify_account(OWN, id).map(|c| c.relation);
        assert_eq!(relation(OWN), Ok(Relation::Same));
        assert_eq!(relation("222222222222"), Ok(Relation::Friendly));
        assert_eq!(relation("333333333333"), Ok(Relation::ThirdParty));
        assert_eq!(relation("999999999999"), Ok(Relation::Unknown));
        let own = accounts::classify_account(OWN, OWN).expect("granted");
        assert_eq!(own.name.as_deref(), Some("prod"));
    }

    #[test]
    fn arns() {
        let _h = host().install();
        let c = accounts::classify_arn(OWN, "arn:aws:iam::222222222222:root").expect("valid");
        assert_eq!(
            (c.relation, c.name.as_deref()),
            (Relation::Friendly, Some("dev"))
        );
        let bucket = accounts::classify_arn(OWN, "arn:aws:s3:::bucket").expect("valid");
        assert_eq!(
            (bucket.relation, bucket.account_id),
            (Relation::Unknown, None)
        );
        assert!(matches!(
            accounts::classify_arn(OWN, "not-an-arn"),
            Err(HostError::Invalid(_))
        ));
        assert!(matches!(
            accounts::classify_arn(OWN, "arn:aws:iam::12:root"),
            Err(HostError::Invalid(_))
        ));
    }

    #[test]
    fn cidrs_prefer_the_most_specific_network() {
        let _h = host().install();
        let corp = accounts::classify_cidr(OWN, "10.1.2.0/24").expect("valid");
        assert_eq!(
            (corp.relation, corp.name.as_deref()),
            (Relation::Same, Some("corp"))
        );
        let vpn = accounts::classify_cidr(OWN, "10.9.1.1").expect("valid");
        assert_eq!(
            (vpn.relation, vpn.name.as_deref()),
            (Relation::ThirdParty, Some("vendor-vpn"))
        );
        let open = accounts::classify_cidr(OWN, "0.0.0.0/0").expect("valid");
        assert_eq!(open.relation, Relation::Unknown);
        assert_eq!(
            accounts::classify_cidr(OWN, "::/0").map(|c| c.relation),
            Ok(Relation::Unknown)
        );
        assert!(matches!(
            accounts::classify_cidr(OWN, "10.0.0/8"),
            Err(HostError::Invalid(_))
        ));
    }

    #[test]
    fn canonical_ids_are_case_insensitive() {
        let _h = host().install();
        let c = accounts::classify_canonical_id(OWN, "CANON-dev").expect("granted");
        assert_eq!(
            (c.relation, c.account_id.as_deref()),
            (Relation::Friendly, Some("222222222222"))
        );
        let nobody = accounts::classify_canonical_id(OWN, "nobody").expect("granted");
        assert_eq!(nobody.relation, Relation::Unknown);
    }

    #[test]
    fn denied_without_grant_or_host() {
        assert!(matches!(
            accounts::classify_account(OWN, OWN),
            Err(HostError::Denied(_))
        ));
        let _h = host().deny_accounts().install();
        assert!(matches!(
            accounts::classify_cidr(OWN, "10.0.0.0/8"),
            Err(HostError::Denied(_))
        ));
    }
}
