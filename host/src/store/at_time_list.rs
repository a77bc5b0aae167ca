//! Time travel for listings: which items were in the estate at a moment, by identity only.
//!
//! Owns the query `simian items --at` prints as a table: the identity columns live on `items`
//! and never change, so answering "which items, which revision" needs no document at all —
//! reading and parsing 100k documents is most of what `items_at` costs. It must never write,
//! and never judge (no score filters here; `items_at` has those).

use sqlx::{AssertSqlSafe, Row};

use super::at_time::{identity_only, revision_in_force};
use super::items::{ItemFilter, bind_all};
use super::{Backend, Store, StoreError, q};

/// An item as it stood at a moment: who it is and which revision was in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAt {
    pub id: i64,
    pub revision_id: i64,
    pub deleted: bool,
    pub captured_at_ms: i64,
    pub account_id: String,
    pub region: String,
    pub resource_type: String,
    pub resource_name: String,
    pub arn: String,
}

impl Store {
    /// The items in the estate at `at_ms` (as [`Store::items_at`] decides it), ordered by id,
    /// without their documents. `filter`'s score fields are not applied.
    pub async fn item_identities_at(
        &self,
        at_ms: i64,
        filter: &ItemFilter,
    ) -> Result<Vec<ItemAt>, StoreError> {
        let what = "listing items at a time";
        let (conditions, args) = identity_only(filter).conditions(2, super::now_ms());
        let columns = "i.id, i.account_id, i.region, i.resource_type, i.resource_name, i.arn";
        // Per backend for the reason `items_at` gives; here every column comes from an index
        // or `items`, never a document.
        let sql = match self.backend {
            Backend::Postgres => format!(
                "SELECT {columns}, r.id AS revision_id, r.kind, r.captured_at_ms
                 FROM items i CROSS JOIN LATERAL (SELECT r2.id, r2.kind, r2.captured_at_ms
                    FROM revisions r2 WHERE r2.item_id = i.id AND r2.captured_at_ms <= $1
                    ORDER BY r2.captured_at_ms DESC, r2.id DESC LIMIT 1) r
                 WHERE 1 = 1{conditions} ORDER BY i.id"
            ),
            Backend::Sqlite => format!(
                "SELECT i.id, i.account_id, i.region, i.resource_type, i.resource_name, i.arn,
                    r.id AS revision_id, r.kind, r.captured_at_ms
                 FROM (SELECT {columns}, {} AS rev FROM items i WHERE 1 = 1{conditions}) i
                 JOIN revisions r ON r.id = i.rev ORDER BY i.id",
                revision_in_force(1)
            ),
        };
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)).bind(at_ms), args)
            .fetch_all(&self.pool)
            .await
            .map_err(q(what))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let kind: String = r.try_get("kind").map_err(q(what))?;
            let deleted = kind == "deleted";
            if deleted && !filter.include_deleted {
                continue;
            }
            out.push(ItemAt {
                id: r.try_get("id").map_err(q(what))?,
                revision_id: r.try_get("revision_id").map_err(q(what))?,
                deleted,
                captured_at_ms: r.try_get("captured_at_ms").map_err(q(what))?,
                account_id: r.try_get("account_id").map_err(q(what))?,
                region: r.try_get("region").map_err(q(what))?,
                resource_type: r.try_get("resource_type").map_err(q(what))?,
                resource_name: r.try_get("resource_name").map_err(q(what))?,
                arn: r.try_get("arn").map_err(q(what))?,
            });
        }
        Ok(out)
    }
}
