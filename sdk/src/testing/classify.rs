//! The host's classification rules, applied to the test host's configuration.

use super::{Config, TestHost};
use crate::HostError;
use crate::accounts::{Classification, Relation};
use crate::arn::is_account_id;
use crate::cidr::Cidr;

fn unknown() -> Classification {
    Classification {
        relation: Relation::Unknown,
        account_id: None,
        name: None,
    }
}

impl Config {
    fn classify_account(&self, own: &str, account_id: &str) -> Classification {
        let account_id = account_id.trim();
        // Later entries win, as when the host builds its map from the configured list.
        let configured = self.accounts.iter().rev().find(|a| a.id == account_id);
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
}

impl TestHost {
    fn accounts_config<T>(
        &self,
        classify: impl FnOnce(&Config) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        let config = self.inner.config.borrow();
        if config.accounts_denied {
            return Err(HostError::Denied(
                "the accounts capability is not granted".to_string(),
            ));
        }
        classify(&config)
    }

    pub(crate) fn classify_account(
        &self,
        own: &str,
        account_id: &str,
    ) -> Result<Classification, HostError> {
        self.accounts_config(|c| Ok(c.classify_account(own, account_id)))
    }

    /// An ARN without an account (S3 buckets) or with `*` is unknown; any other account
    /// field must be a 12-digit id.
    pub(crate) fn classify_arn(&self, own: &str, arn: &str) -> Result<Classification, HostError> {
        self.accounts_config(|c| {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            if parts.len() != 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2].is_empty() {
                return Err(HostError::Invalid(format!("`{arn}` is not an ARN")));
            }
            match parts[4] {
                "" | "*" | "aws" => Ok(unknown()),
                account if is_account_id(account) => Ok(c.classify_account(own, account)),
                account => Err(HostError::Invalid(format!(
                    "`{arn}` has account `{account}`, not a 12-digit id"
                ))),
            }
        })
    }

    /// Inside a configured network (most specific first): ours, or that network's account's.
    pub(crate) fn classify_cidr(&self, own: &str, cidr: &str) -> Result<Classification, HostError> {
        self.accounts_config(|c| {
            let subject = Cidr::parse(cidr).map_err(|e| HostError::Invalid(e.to_string()))?;
            let mut networks: Vec<_> = c.networks.iter().collect();
            networks.sort_by_key(|n| std::cmp::Reverse(n.cidr.prefix_len()));
            let Some(network) = networks.into_iter().find(|n| n.cidr.contains(&subject)) else {
                return Ok(unknown());
            };
            let mut classification = match &network.account {
                Some(account) => c.classify_account(own, account),
                None => Classification {
                    relation: Relation::Same,
                    account_id: None,
                    name: None,
                },
            };
            classification.name = Some(network.name.clone());
            Ok(classification)
        })
    }

    pub(crate) fn classify_canonical_id(
        &self,
        own: &str,
        canonical_id: &str,
    ) -> Result<Classification, HostError> {
        self.accounts_config(|c| {
            let wanted = canonical_id.trim();
            Ok(c.canonical_ids
                .iter()
                .rev()
                .find(|(canonical, _)| canonical.eq_ignore_ascii_case(wanted))
                .map_or_else(unknown, |(_, account)| c.classify_account(own, account)))
        })
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
