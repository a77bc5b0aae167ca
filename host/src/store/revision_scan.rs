//! Reading every stored revision in the order it was recorded, page by page, for replaying a
//! rule over history.
//!
//! Owns the keyset-paged scan over `revisions` joined to their items. It must never write, and
//! never load the whole history at once: a page is bounded.

use serde_json::Value;
use sqlx::{AssertSqlSafe, Row};

use super::{ChangeKind, Store, StoreError, q};
use simian_model::actor::Actor;

/// Which revisions a scan reads; every `None`/empty matches everything.
#[derive(Debug, Clone, Default)]
pub struct RevisionScan {
    /// Only items of these resource types (empty: every type).
    pub resource_types: Vec<String>,
    pub account_id: Option<String>,
    /// Only revisions captured at or after this time — plus, for each item, the revision in
    /// force at that moment, so a finding already present then starts at its true revision.
    pub since_ms: Option<i64>,
}

/// One revision with what identifies its item.
#[derive(Debug, Clone)]
pub struct ScannedRevision {
    pub id: i64,
    pub item_id: i64,
    pub kind: ChangeKind,
    pub captured_at_ms: i64,
    pub arn: String,
    pub document: Value,
    pub actor: Option<Actor>,
}

impl Store {
    /// Up to `limit` revisions with ids above `after_id`, in id order (the order they were
    /// recorded, which for one item is time order).
    pub async fn scan_revisions(
        &self,
        scan: &RevisionScan,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<ScannedRevision>, StoreError> {
        let what = "scanning revisions";
        // CROSS JOIN: SQLite then walks revisions in id order and looks each item up, instead
        // of starting from the items of a type and sorting all their revisions for every page.
        let mut sql = String::from(
            "SELECT r.id, r.item_id, r.kind, r.captured_at_ms, r.document, r.actor, i.arn
             FROM revisions r CROSS JOIN items i
             WHERE i.id = r.item_id AND r.id > $1",
        );
        let mut texts: Vec<&str> = Vec::new();
        let mut next = 2;
        if !scan.resource_types.is_empty() {
            let list: Vec<String> = (next..next + scan.resource_types.len())
                .map(|n| format!("${n}"))
                .collect();
            sql.push_str(&format!(" AND i.resource_type IN ({})", list.join(", ")));
            texts.extend(scan.resource_types.iter().map(String::as_str));
            next += scan.resource_types.len();
        }
        if let Some(account) = &scan.account_id {
            sql.push_str(&format!(" AND i.account_id = ${next}"));
            texts.push(account);
            next += 1;
        }
        if scan.since_ms.is_some() {
            sql.push_str(&format!(
                " AND (r.captured_at_ms >= ${next} OR r.id = (SELECT MAX(p.id) FROM revisions p
                      WHERE p.item_id = r.item_id AND p.captured_at_ms < ${next}))"
            ));
            next += 1;
        }
        sql.push_str(&format!(" ORDER BY r.id LIMIT ${next}"));
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(after_id);
        for t in texts {
            query = query.bind(t.to_string());
        }
        if let Some(since) = scan.since_ms {
            query = query.bind(since);
        }
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(q(what))?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id").map_err(q(what))?;
                let corrupt = |message: String| StoreError::Corrupt {
                    what: format!("revision {id}"),
                    message,
                };
                let kind: String = r.try_get("kind").map_err(q(what))?;
                let document: String = r.try_get("document").map_err(q(what))?;
                let actor: Option<String> = r.try_get("actor").map_err(q(what))?;
                Ok(ScannedRevision {
                    id,
                    item_id: r.try_get("item_id").map_err(q(what))?,
                    kind: ChangeKind::parse(&kind)?,
                    captured_at_ms: r.try_get("captured_at_ms").map_err(q(what))?,
                    arn: r.try_get("arn").map_err(q(what))?,
                    document: serde_json::from_str(&document)
                        .map_err(|e| corrupt(e.to_string()))?,
                    actor: actor
                        .map(|a| serde_json::from_str(&a).map_err(|e| corrupt(e.to_string())))
                        .transpose()?,
                })
            })
            .collect()
    }
}
