//! One `AWS::::Account` item per watched account (AWS Config's type for account-level
//! evaluations), holding what is true of the account as a whole rather than of one resource:
//! the CloudTrail trails that record its activity in the home region, own or multi-region
//! shadows of other regions, so a rule can say "nothing logs this account at all".

use serde_json::json;

use super::WatchError;
use super::cloudtrail::{OPERATIONS, trails};
use super::doc::Envelope;
use super::session::AccountSession;
use crate::item::Item;

pub const ACCOUNT: &str = "AWS::::Account";

/// The account-level facts of each watched account, recorded once in region `global`.
pub struct AccountWatcher;

#[async_trait::async_trait]
impl super::Watcher for AccountWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[ACCOUNT]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::Global
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        OPERATIONS
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        // `region` is the home region a global listing is asked of.
        let trails = trails(session, region, true).await?;
        let id = session.account_id.clone();
        Ok(vec![
            Envelope {
                resource_type: ACCOUNT,
                resource_id: id.clone(),
                resource_name: id.clone(),
                // The account's root principal: the one ARN that names the account itself.
                arn: format!("arn:aws:iam::{id}:root"),
                account_id: &session.account_id,
                region: super::GLOBAL_REGION,
                configuration: json!({
                    "accountId": id,
                    "cloudTrail": {"region": region, "trails": trails},
                }),
                supplementary: json!({}),
                tags: Vec::new(),
            }
            .into_item(),
        ])
    }
}
