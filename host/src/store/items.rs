//! Items and their revisions as recorded: current items by filter, by id, ARN or key, the
//! previous document of a revision, an item's history, and the store as the `items`
//! capability's source.

use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::apply::{ChangeKind, ItemKey};
use super::sweeps::SweepId;
use super::{Store, StoreError, q, u64_of};
use crate::item::Item;
use simian_model::actor::{Actor, Via};

/// Which current items to return; every `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub resource_type: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// Case-insensitive substring of the resource name.
    pub name_contains: Option<String>,
    /// Case-insensitive substring of the resource name or the ARN.
    pub text: Option<String>,
    /// Only items whose open, unjustified, enabled issues score at least this much.
    pub min_score: Option<u32>,
    /// Only items with at least one open issue (justified or not).
    pub has_open_issues: bool,
    pub include_deleted: bool,
    /// Keyset paging: only items with a larger id.
    pub after_id: Option<i64>,
    pub offset: u64,
    pub limit: Option<u64>,
}

/// A bind value for SQL assembled from a filter.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    Text(String),
    Int(i64),
}

/// `LIKE` pattern for a case-insensitive substring, with the wildcards in it escaped (use with
/// `ESCAPE '\'`).
pub(super) fn like_pattern(needle: &str) -> String {
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The score that counts for an item: its open, enabled issues not justified at `$now`.
///
/// Only `item_id` constrains the rows (the rest is inside the CASE) so every planner takes the
/// `issues_item` index: given `status = 'open'` as well, SQLite may pick `issues_status` and
/// scan every open issue once per item.
pub(super) fn score_subquery(now_param: usize) -> String {
    format!(
        "(SELECT COALESCE(SUM(CASE WHEN s.status = 'open' AND s.disabled = 0
            AND (s.justified_reason IS NULL
                 OR (s.justified_until_ms IS NOT NULL AND s.justified_until_ms <= ${now_param}))
            THEN s.score ELSE 0 END), 0) FROM issues s WHERE s.item_id = i.id)"
    )
}

/// How many open, enabled issues an item has (same index reasoning as [`score_subquery`]).
pub(super) const OPEN_ISSUES_SUBQUERY: &str =
    "(SELECT COUNT(CASE WHEN o.status = 'open' AND o.disabled = 0 THEN 1 END)
      FROM issues o WHERE o.item_id = i.id)";

impl ItemFilter {
    /// ` AND …` conditions on `items i` and their binds, numbered from `$first`.
    pub(super) fn conditions(&self, first: usize, now: i64) -> (String, Vec<Arg>) {
        let mut sql = String::new();
        let mut args: Vec<Arg> = Vec::new();
        let next = |args: &mut Vec<Arg>, a: Arg| {
            args.push(a);
            first + args.len() - 1
        };
        for (column, value) in [
            ("resource_type", &self.resource_type),
            ("account_id", &self.account_id),
            ("region", &self.region),
        ] {
            if let Some(v) = value {
                let n = next(&mut args, Arg::Text(v.clone()));
                sql.push_str(&format!(" AND i.{column} = ${n}"));
            }
        }
        if let Some(name) = &self.name_contains {
            let n = next(&mut args, Arg::Text(like_pattern(name)));
            sql.push_str(&format!(
                " AND LOWER(i.resource_name) LIKE ${n} ESCAPE '\\'"
            ));
        }
        if let Some(text) = &self.text {
            let n = next(&mut args, Arg::Text(like_pattern(text)));
            sql.push_str(&format!(
                " AND (LOWER(i.resource_name) LIKE ${n} ESCAPE '\\'
                       OR LOWER(i.arn) LIKE ${n} ESCAPE '\\')"
            ));
        }
        if let Some(min) = self.min_score {
            let now_n = next(&mut args, Arg::Int(now));
            let min_n = next(&mut args, Arg::Int(i64::from(min)));
            sql.push_str(&format!(" AND {} >= ${min_n}", score_subquery(now_n)));
        }
        if self.has_open_issues {
            sql.push_str(&format!(" AND {OPEN_ISSUES_SUBQUERY} > 0"));
        }
        if !self.include_deleted {
            sql.push_str(" AND i.deleted = 0");
        }
        if let Some(after) = self.after_id {
            let n = next(&mut args, Arg::Int(after));
            sql.push_str(&format!(" AND i.id > ${n}"));
        }
        (sql, args)
    }
}

pub(super) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for a in args {
        query = match a {
            Arg::Text(t) => query.bind(t),
            Arg::Int(n) => query.bind(n),
        };
    }
    query
}

/// An item as last recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: i64,
    /// Parsed back from the current revision's document (the last known one if deleted).
    pub item: Item,
    pub revision_id: i64,
    pub deleted: bool,
    pub last_changed_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub id: i64,
    pub item_id: i64,
    pub kind: ChangeKind,
    pub captured_at_ms: i64,
    pub sweep_id: SweepId,
    pub durable_hash: String,
    pub complete_hash: String,
    pub document: Value,
    /// Found by a sweep or set off by an event.
    pub via: Via,
    /// Who made the change, when CloudTrail said.
    pub actor: Option<Actor>,
}

impl Store {
    /// Current items matching `filter`, ordered by item id.
    pub async fn current_items(&self, filter: &ItemFilter) -> Result<Vec<StoredItem>, StoreError> {
        let (conditions, args) = filter.conditions(1, super::now_ms());
        let mut sql = format!("{ITEM_SELECT}{conditions} ORDER BY i.id");
        let paged = filter.limit.is_some() || filter.offset > 0;
        if paged {
            sql.push_str(&format!(
                " LIMIT ${} OFFSET ${}",
                args.len() + 1,
                args.len() + 2
            ));
        }
        let mut query = bind_all(sqlx::query(AssertSqlSafe(sql)), args);
        if paged {
            // No portable "no limit" keyword: SQLite wants -1, PostgreSQL ALL.
            let limit = filter
                .limit
                .map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
            query = query
                .bind(limit)
                .bind(i64::try_from(filter.offset).unwrap_or(i64::MAX));
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(q("listing current items"))?;
        rows.iter().map(stored_item).collect()
    }

    /// Every current item `filter` selects, in id order, sent down `pages` `page` at a time as
    /// the rows arrive: one query, read while the receiver works on the page before. Stops at
    /// the first error (sent too) or when the receiver has gone.
    pub async fn send_current_items(
        &self,
        filter: &ItemFilter,
        page: usize,
        pages: &tokio::sync::mpsc::Sender<Result<Vec<StoredItem>, StoreError>>,
    ) {
        use futures::TryStreamExt;
        let (conditions, args) = filter.conditions(1, super::now_ms());
        let sql = format!("{ITEM_SELECT}{conditions} ORDER BY i.id");
        let query = bind_all(sqlx::query(AssertSqlSafe(sql)), args);
        let mut rows = query.fetch(&self.pool);
        let mut current = Vec::with_capacity(page);
        loop {
            let row = match rows.try_next().await {
                Ok(row) => row,
                Err(e) => {
                    let _ = pages.send(Err(q("listing current items")(e))).await;
                    return;
                }
            };
            let Some(row) = row else { break };
            match stored_item(&row) {
                Ok(item) => current.push(item),
                Err(e) => {
                    let _ = pages.send(Err(e)).await;
                    return;
                }
            }
            if current.len() == page
                && pages
                    .send(Ok(std::mem::replace(
                        &mut current,
                        Vec::with_capacity(page),
                    )))
                    .await
                    .is_err()
            {
                return;
            }
        }
        if !current.is_empty() {
            let _ = pages.send(Ok(current)).await;
        }
    }

    /// The item with this ARN: the live one if any, else the most recently changed.
    pub async fn item_by_arn(&self, arn: &str) -> Result<Option<StoredItem>, StoreError> {
        let sql = format!(
            "{ITEM_SELECT} AND i.arn = $1 ORDER BY i.deleted, i.last_changed_ms DESC, i.id DESC LIMIT 1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(arn)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking an item up by ARN"))?;
        row.as_ref().map(stored_item).transpose()
    }

    /// The document of the revision before `revision_id` of an item: what a modification
    /// changed from.
    pub async fn previous_document(
        &self,
        item_id: i64,
        revision_id: i64,
    ) -> Result<Option<Value>, StoreError> {
        let row = sqlx::query(
            "SELECT document FROM revisions WHERE item_id = $1 AND id < $2
             ORDER BY id DESC LIMIT 1",
        )
        .bind(item_id)
        .bind(revision_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("reading the previous revision"))?;
        let Some(row) = row else { return Ok(None) };
        let text: String = row
            .try_get("document")
            .map_err(q("reading the previous revision"))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                what: format!("previous revision of item {item_id}"),
                message: e.to_string(),
            })
    }

    /// Many items by store id (live or deleted), in id order; ids that do not exist are
    /// skipped. One query per [`ID_CHUNK`] ids rather than one per item.
    pub async fn items_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredItem>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in sorted_unique(ids).chunks(ID_CHUNK) {
            let sql = format!(
                "{ITEM_SELECT} AND i.id IN ({}) ORDER BY i.id",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            let rows = query
                .fetch_all(&self.pool)
                .await
                .map_err(q("looking items up by id"))?;
            for row in &rows {
                out.push(stored_item(row)?);
            }
        }
        Ok(out)
    }

    pub async fn item_by_id(&self, id: i64) -> Result<Option<StoredItem>, StoreError> {
        let sql = format!("{ITEM_SELECT} AND i.id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking an item up by id"))?;
        row.as_ref().map(stored_item).transpose()
    }

    /// The live item with this identity.
    pub async fn item_by_key(&self, key: &ItemKey) -> Result<Option<StoredItem>, StoreError> {
        let sql = format!(
            "{ITEM_SELECT} AND i.account_id = $1 AND i.region = $2 AND i.resource_type = $3
             AND i.resource_id = $4"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&key.account_id)
            .bind(&key.region)
            .bind(&key.resource_type)
            .bind(&key.resource_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking an item up by key"))?;
        row.as_ref().map(stored_item).transpose()
    }

    /// Every revision of an item, oldest first. `key` is a numeric item id or an ARN (an ARN
    /// covers every item that had it, e.g. an IAM user deleted and re-created under a new
    /// id). Unknown keys give an empty list.
    pub async fn history(&self, key: &str) -> Result<Vec<Revision>, StoreError> {
        let what = "reading item history";
        let base = format!("SELECT {REVISION_COLUMNS} FROM revisions r");
        let rows = if let Ok(id) = key.trim().parse::<i64>() {
            sqlx::query(AssertSqlSafe(format!(
                "{base} WHERE r.item_id = $1 ORDER BY r.id"
            )))
            .bind(id)
            .fetch_all(&self.pool)
            .await
        } else {
            sqlx::query(AssertSqlSafe(format!(
                "{base} WHERE r.item_id IN (SELECT id FROM items WHERE arn = $1) ORDER BY r.id"
            )))
            .bind(key)
            .fetch_all(&self.pool)
            .await
        }
        .map_err(q(what))?;
        rows.iter().map(revision).collect()
    }

    /// Number of stored items and revisions (figures for benchmarks and status output).
    pub async fn counts(&self) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM items) AS items,
                    (SELECT CAST(COUNT(*) AS BIGINT) FROM revisions) AS revisions",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(q("counting rows"))?;
        let items: i64 = row.try_get("items").map_err(q("counting rows"))?;
        let revisions: i64 = row.try_get("revisions").map_err(q("counting rows"))?;
        Ok((u64_of(items), u64_of(revisions)))
    }
}

/// Items joined to their current revision; callers append `AND …` conditions.
/// Ids bound per `IN (...)` query: well under SQLite's and PostgreSQL's parameter limits.
pub(super) const ID_CHUNK: usize = 500;

pub(super) fn sorted_unique(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// `$1, $2, …, $n`.
pub(super) fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) const ITEM_SELECT: &str =
    "SELECT i.id, i.current_revision_id, i.deleted, i.last_changed_ms, r.document
     FROM items i JOIN revisions r ON r.id = i.current_revision_id
     WHERE 1 = 1";

pub(super) fn stored_item(r: &AnyRow) -> Result<StoredItem, StoreError> {
    let what = "reading an item row";
    let id: i64 = r.try_get("id").map_err(q(what))?;
    let document: String = r.try_get("document").map_err(q(what))?;
    let corrupt = |message: String| StoreError::Corrupt {
        what: format!("document of item {id}"),
        message,
    };
    let item = Item::from_document(&document)
        .map_err(|e| corrupt(format!("{}: {}", e.field, e.message)))?;
    let deleted: i64 = r.try_get("deleted").map_err(q(what))?;
    Ok(StoredItem {
        id,
        item,
        revision_id: r.try_get("current_revision_id").map_err(q(what))?,
        deleted: deleted != 0,
        last_changed_ms: r.try_get("last_changed_ms").map_err(q(what))?,
    })
}

#[async_trait::async_trait]
impl crate::services::items::ItemSource for Store {
    async fn get_by_arn(&self, arn: &str) -> Result<Option<Item>, String> {
        Ok(self
            .item_by_arn(arn)
            .await
            .map_err(|e| e.to_string())?
            .filter(|s| !s.deleted)
            .map(|s| s.item))
    }

    async fn get(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Option<Item>, String> {
        let key = ItemKey {
            account_id: account_id.into(),
            region: region.into(),
            resource_type: resource_type.into(),
            resource_id: resource_id.into(),
        };
        Ok(self
            .item_by_key(&key)
            .await
            .map_err(|e| e.to_string())?
            .filter(|s| !s.deleted)
            .map(|s| s.item))
    }

    async fn list(
        &self,
        resource_type: &str,
        account_id: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<Item>, String> {
        let filter = ItemFilter {
            resource_type: Some(resource_type.into()),
            account_id: account_id.map(str::to_string),
            offset: u64::from(offset),
            limit: Some(u64::from(simian_model::items::page_limit(limit))),
            ..ItemFilter::default()
        };
        Ok(self
            .current_items(&filter)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|s| s.item)
            .collect())
    }
}

pub(super) const REVISION_COLUMNS: &str = "r.id, r.item_id, r.kind, r.captured_at_ms, r.sweep_id,
    r.durable_hash, r.complete_hash, r.document, r.via, r.actor";

pub(super) fn revision(r: &AnyRow) -> Result<Revision, StoreError> {
    let what = "reading a revision";
    let id: i64 = r.try_get("id").map_err(q(what))?;
    let kind: String = r.try_get("kind").map_err(q(what))?;
    let document: String = r.try_get("document").map_err(q(what))?;
    Ok(Revision {
        id,
        item_id: r.try_get("item_id").map_err(q(what))?,
        kind: ChangeKind::parse(&kind)?,
        captured_at_ms: r.try_get("captured_at_ms").map_err(q(what))?,
        sweep_id: SweepId(r.try_get("sweep_id").map_err(q(what))?),
        durable_hash: r.try_get("durable_hash").map_err(q(what))?,
        complete_hash: r.try_get("complete_hash").map_err(q(what))?,
        document: serde_json::from_str(&document).map_err(|e| StoreError::Corrupt {
            what: format!("revision {id}"),
            message: e.to_string(),
        })?,
        via: Via::parse(&r.try_get::<String, _>("via").map_err(q(what))?).unwrap_or(Via::Sweep),
        actor: r
            .try_get::<Option<String>, _>("actor")
            .map_err(q(what))?
            .map(|a| {
                serde_json::from_str(&a).map_err(|e| StoreError::Corrupt {
                    what: format!("revision {id}'s actor"),
                    message: e.to_string(),
                })
            })
            .transpose()?,
    })
}
