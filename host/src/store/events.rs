//! What the event-driven refresh needs beyond applying a listing: which CloudTrail events were
//! already processed (a redelivered SQS message is a duplicate, not a second refresh), and
//! finding the stored items an event names, and attaching an actor found later (a CloudTrail lookup) to a revision a sweep recorded.
//!
//! It must never create or change revisions' documents: only `apply` writes history.

use std::collections::HashSet;

use sqlx::{AssertSqlSafe, Row};

use super::items::{ITEM_SELECT, StoredItem, stored_item};
use super::{Store, StoreError, q};
use simian_model::actor::Actor;

impl Store {
    /// The live items of one account and type that a reference (id, name or ARN, as an event
    /// names them) points at: what a refresh whose describe found nothing has lost.
    pub async fn live_items_named(
        &self,
        account_id: &str,
        resource_type: &str,
        refs: &[String],
    ) -> Result<Vec<StoredItem>, StoreError> {
        let mut out = Vec::new();
        for chunk in refs.chunks(100) {
            let list: Vec<String> = (3..3 + chunk.len()).map(|i| format!("${i}")).collect();
            let list = list.join(",");
            let sql = format!(
                "{ITEM_SELECT} AND i.deleted = 0 AND i.account_id = $1 AND i.resource_type = $2
                 AND (i.resource_id IN ({list}) OR i.resource_name IN ({list}) OR i.arn IN ({list}))
                 ORDER BY i.id"
            );
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(account_id)
                .bind(resource_type);
            for r in chunk {
                query = query.bind(r);
            }
            let rows = query
                .fetch_all(&self.pool)
                .await
                .map_err(q("looking up items an event names"))?;
            for row in &rows {
                out.push(stored_item(row)?);
            }
        }
        Ok(out)
    }

    /// The ids among `event_ids` already processed.
    pub async fn seen_events(&self, event_ids: &[String]) -> Result<HashSet<String>, StoreError> {
        let mut seen = HashSet::new();
        for chunk in event_ids.chunks(200) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT event_id FROM cloud_events WHERE event_id IN ({})",
                list.join(",")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id);
            }
            for row in query
                .fetch_all(&self.pool)
                .await
                .map_err(q("reading processed events"))?
            {
                seen.insert(
                    row.try_get("event_id")
                        .map_err(q("reading processed events"))?,
                );
            }
        }
        Ok(seen)
    }

    /// Record who made the change of revision `id`, unless it already names someone (an
    /// event's actor is first-hand; a lookup's only fills gaps).
    pub async fn attach_actor(&self, revision_id: i64, actor: &Actor) -> Result<bool, StoreError> {
        let json = serde_json::to_string(actor).map_err(|e| StoreError::Corrupt {
            what: "an actor".into(),
            message: e.to_string(),
        })?;
        let _guard = self.write_guard().await;
        let done = sqlx::query("UPDATE revisions SET actor = $1 WHERE id = $2 AND actor IS NULL")
            .bind(json)
            .bind(revision_id)
            .execute(&self.pool)
            .await
            .map_err(q("attaching an actor to a revision"))?;
        Ok(done.rows_affected() == 1)
    }
}
