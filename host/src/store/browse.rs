//! What the console and the REST API read: pages of items with their scores, an item's
//! revisions a page at a time, issues grouped by check, and the dashboard's aggregates.
//!
//! Owns these read-only queries, shaped for paging (keyset, never OFFSET over a large table)
//! so 100,000 items page as fast as 100. It must never write, and never decide who may read.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::issue_list::IssueFilter;
use super::items::{
    ItemFilter, OPEN_ISSUES_SUBQUERY, REVISION_COLUMNS, bind_all, revision, score_subquery,
};
use super::{Revision, Store, StoreError, now_ms, q};

/// One row of the items list: no documents, so a page costs the same whatever the items hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemSummary {
    pub id: i64,
    pub arn: String,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    pub account_id: String,
    pub region: String,
    pub deleted: bool,
    pub last_changed_ms: i64,
    /// Open, enabled, unjustified issues' scores.
    pub score: u32,
    pub open_issues: u32,
}

/// Issues of one check, for the grouped issues view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueGroup {
    pub plugin: String,
    pub check_id: String,
    pub title: String,
    pub issues: u64,
    /// Distinct items flagged.
    pub items: u64,
    pub worst_score: u32,
    /// When the oldest of them was first seen.
    pub failing_since_ms: i64,
    pub resource_types: Vec<String>,
}

/// Score and issue count per (account, resource type), for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreCell {
    pub account_id: String,
    pub resource_type: String,
    pub score: u64,
    pub issues: u64,
}

/// The last listing of one (account, resource type), and its last error if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeHealth {
    pub account_id: String,
    pub resource_type: String,
    /// Last time a listing was applied (complete or not).
    pub last_listed_ms: Option<i64>,
    /// Last time a complete listing was applied.
    pub last_complete_ms: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_ms: Option<i64>,
}

/// When one scope was last listed completely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListingAge {
    pub account_id: String,
    pub region: String,
    pub resource_type: String,
    pub last_complete_ms: Option<i64>,
}

/// One day of the dashboard's charts (UTC days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayPoint {
    /// Start of the day, unix ms.
    pub day_ms: i64,
    pub new: u64,
    pub fixed: u64,
    /// Open, enabled, unjustified score at the end of the day, per account.
    pub open_score: BTreeMap<String, u64>,
}

const DAY_MS: i64 = 86_400_000;

fn summary(r: &AnyRow) -> Result<ItemSummary, StoreError> {
    let what = "reading an item summary";
    let deleted: i64 = r.try_get("deleted").map_err(q(what))?;
    let score: i64 = r.try_get("score").map_err(q(what))?;
    let open: i64 = r.try_get("open_issues").map_err(q(what))?;
    Ok(ItemSummary {
        id: r.try_get("id").map_err(q(what))?,
        arn: r.try_get("arn").map_err(q(what))?,
        resource_type: r.try_get("resource_type").map_err(q(what))?,
        resource_id: r.try_get("resource_id").map_err(q(what))?,
        resource_name: r.try_get("resource_name").map_err(q(what))?,
        account_id: r.try_get("account_id").map_err(q(what))?,
        region: r.try_get("region").map_err(q(what))?,
        deleted: deleted != 0,
        last_changed_ms: r.try_get("last_changed_ms").map_err(q(what))?,
        score: u32::try_from(score).unwrap_or(u32::MAX),
        open_issues: u32::try_from(open).unwrap_or(u32::MAX),
    })
}

fn count(r: &AnyRow, column: &str) -> Result<u64, StoreError> {
    let n: i64 = r.try_get(column).map_err(q("reading a count"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

impl Store {
    /// Up to `limit` items matching `filter` (use `after_id` to page), in id order.
    pub async fn item_summaries(
        &self,
        filter: &ItemFilter,
        limit: u32,
    ) -> Result<Vec<ItemSummary>, StoreError> {
        let now = now_ms();
        // $1: now for the score; the filter's binds follow.
        let (conditions, args) = filter.conditions(2, now);
        let sql = format!(
            "SELECT i.id, i.arn, i.resource_type, i.resource_id, i.resource_name, i.account_id,
                i.region, i.deleted, i.last_changed_ms,
                CAST({score} AS BIGINT) AS score,
                CAST({OPEN_ISSUES_SUBQUERY} AS BIGINT) AS open_issues
             FROM items i WHERE 1 = 1{conditions} ORDER BY i.id LIMIT {limit}",
            score = score_subquery(1),
        );
        let query = sqlx::query(AssertSqlSafe(sql)).bind(now);
        let rows = bind_all(query, args)
            .fetch_all(&self.pool)
            .await
            .map_err(q("listing item summaries"))?;
        rows.iter().map(summary).collect()
    }

    /// How many items match `filter` (paging ignored).
    pub async fn count_items(&self, filter: &ItemFilter) -> Result<u64, StoreError> {
        let filter = ItemFilter {
            after_id: None,
            ..filter.clone()
        };
        let (conditions, args) = filter.conditions(1, now_ms());
        let sql =
            format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM items i WHERE 1 = 1{conditions}");
        let row = bind_all(sqlx::query(AssertSqlSafe(sql)), args)
            .fetch_one(&self.pool)
            .await
            .map_err(q("counting items"))?;
        count(&row, "n")
    }

    /// An item's revisions newest first, `limit` at a time: those older than `before_id`.
    pub async fn revisions_page(
        &self,
        item_id: i64,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REVISION_COLUMNS} FROM revisions r WHERE r.item_id = $1 AND r.id < $2
             ORDER BY r.id DESC LIMIT {limit}"
        )))
        .bind(item_id)
        .bind(before_id.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing an item's revisions"))?;
        rows.iter().map(revision).collect()
    }

    pub async fn revision(&self, id: i64) -> Result<Option<Revision>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REVISION_COLUMNS} FROM revisions r WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("reading a revision"))?;
        row.as_ref().map(revision).transpose()
    }

    pub async fn revision_count(&self, item_id: i64) -> Result<u64, StoreError> {
        let row =
            sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM revisions WHERE item_id = $1")
                .bind(item_id)
                .fetch_one(&self.pool)
                .await
                .map_err(q("counting revisions"))?;
        count(&row, "n")
    }

    /// Issues matching `filter`, one group per (plugin, check), worst first.
    pub async fn issue_groups(&self, filter: &IssueFilter) -> Result<Vec<IssueGroup>, StoreError> {
        let filter = IssueFilter {
            after: None,
            limit: None,
            ..filter.clone()
        };
        let (conditions, args) = filter.conditions(now_ms());
        let sql = format!(
            "SELECT i.plugin, i.check_id, MAX(i.title) AS title,
                CAST(COUNT(*) AS BIGINT) AS issues,
                CAST(COUNT(DISTINCT i.item_id) AS BIGINT) AS items,
                CAST(MAX(i.score) AS BIGINT) AS worst,
                CAST(MIN(i.first_seen_ms) AS BIGINT) AS since
             FROM issues i JOIN items it ON it.id = i.item_id WHERE 1 = 1{conditions}
             GROUP BY i.plugin, i.check_id
             ORDER BY worst DESC, issues DESC, i.plugin, i.check_id"
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql.clone())), args.clone())
            .fetch_all(&self.pool)
            .await
            .map_err(q("grouping issues"))?;
        let types_sql = format!(
            "SELECT DISTINCT i.plugin, i.check_id, it.resource_type
             FROM issues i JOIN items it ON it.id = i.item_id WHERE 1 = 1{conditions}
             ORDER BY it.resource_type"
        );
        let type_rows = bind_all(sqlx::query(AssertSqlSafe(types_sql)), args)
            .fetch_all(&self.pool)
            .await
            .map_err(q("grouping issues by type"))?;
        let what = "reading an issue group";
        let mut types: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for r in &type_rows {
            types
                .entry((
                    r.try_get("plugin").map_err(q(what))?,
                    r.try_get("check_id").map_err(q(what))?,
                ))
                .or_default()
                .push(r.try_get("resource_type").map_err(q(what))?);
        }
        rows.iter()
            .map(|r| {
                let plugin: String = r.try_get("plugin").map_err(q(what))?;
                let check_id: String = r.try_get("check_id").map_err(q(what))?;
                let worst: i64 = r.try_get("worst").map_err(q(what))?;
                Ok(IssueGroup {
                    resource_types: types
                        .get(&(plugin.clone(), check_id.clone()))
                        .cloned()
                        .unwrap_or_default(),
                    title: r.try_get("title").map_err(q(what))?,
                    issues: count(r, "issues")?,
                    items: count(r, "items")?,
                    worst_score: u32::try_from(worst).unwrap_or(0),
                    failing_since_ms: r.try_get("since").map_err(q(what))?,
                    plugin,
                    check_id,
                })
            })
            .collect()
    }

    /// Open, enabled, unjustified issues by score band: `[10+, 5–9, 1–4, 0]`.
    pub async fn score_bands(&self) -> Result<[u64; 4], StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN i.score >= 10 THEN 1 ELSE 0 END), 0) AS BIGINT) AS b10,
                CAST(COALESCE(SUM(CASE WHEN i.score BETWEEN 5 AND 9 THEN 1 ELSE 0 END), 0) AS BIGINT) AS b5,
                CAST(COALESCE(SUM(CASE WHEN i.score BETWEEN 1 AND 4 THEN 1 ELSE 0 END), 0) AS BIGINT) AS b1,
                CAST(COALESCE(SUM(CASE WHEN i.score = 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS b0
             FROM issues i WHERE i.status = 'open' AND i.disabled = 0
               AND (i.justified_reason IS NULL
                    OR (i.justified_until_ms IS NOT NULL AND i.justified_until_ms <= $1))",
        )
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(q("counting score bands"))?;
        Ok([
            count(&row, "b10")?,
            count(&row, "b5")?,
            count(&row, "b1")?,
            count(&row, "b0")?,
        ])
    }

    /// Issues that are new (first seen, never regressed), regressed (open again) and fixed
    /// since `since_ms`.
    pub async fn issue_news_since(&self, since_ms: i64) -> Result<(u64, u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT
                CAST(COALESCE(SUM(CASE WHEN status = 'open' AND regressions = 0
                    AND first_seen_ms >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS new,
                CAST(COALESCE(SUM(CASE WHEN status = 'open' AND regressions > 0
                    AND last_seen_ms >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS regressed,
                CAST(COALESCE(SUM(CASE WHEN status = 'fixed' AND retired = 0
                    AND fixed_ms >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS fixed
             FROM issues WHERE disabled = 0",
        )
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(q("counting news"))?;
        Ok((
            count(&row, "new")?,
            count(&row, "regressed")?,
            count(&row, "fixed")?,
        ))
    }

    /// Every revision of an item as (id, captured at), oldest first: no documents.
    pub async fn revision_times(&self, item_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows =
            sqlx::query("SELECT id, captured_at_ms FROM revisions WHERE item_id = $1 ORDER BY id")
                .bind(item_id)
                .fetch_all(&self.pool)
                .await
                .map_err(q("listing revision times"))?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id").map_err(q("reading revision times"))?,
                    r.try_get("captured_at_ms")
                        .map_err(q("reading revision times"))?,
                ))
            })
            .collect()
    }

    /// Live items per resource type ("X of Y items").
    pub async fn items_per_type(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT resource_type, CAST(COUNT(*) AS BIGINT) AS n FROM items WHERE deleted = 0
             GROUP BY resource_type",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("counting items per type"))?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("resource_type")
                        .map_err(q("reading items per type"))?,
                    count(r, "n")?,
                ))
            })
            .collect()
    }

    /// Open, enabled, unjustified score per (account, resource type).
    pub async fn scores_by_account_and_type(&self) -> Result<Vec<ScoreCell>, StoreError> {
        let rows = sqlx::query(
            "SELECT it.account_id, it.resource_type, CAST(SUM(i.score) AS BIGINT) AS score,
                CAST(COUNT(*) AS BIGINT) AS issues
             FROM issues i JOIN items it ON it.id = i.item_id
             WHERE i.status = 'open' AND i.disabled = 0
               AND (i.justified_reason IS NULL
                    OR (i.justified_until_ms IS NOT NULL AND i.justified_until_ms <= $1))
             GROUP BY it.account_id, it.resource_type
             ORDER BY it.account_id, it.resource_type",
        )
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await
        .map_err(q("scoring accounts"))?;
        let what = "reading a score cell";
        rows.iter()
            .map(|r| {
                Ok(ScoreCell {
                    account_id: r.try_get("account_id").map_err(q(what))?,
                    resource_type: r.try_get("resource_type").map_err(q(what))?,
                    score: count(r, "score")?,
                    issues: count(r, "issues")?,
                })
            })
            .collect()
    }

    /// The last listing and last error of every (account, resource type) ever listed.
    pub async fn scope_health(&self) -> Result<Vec<ScopeHealth>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id, resource_type,
                CAST(MAX(applied_ms) AS BIGINT) AS last_listed,
                CAST(MAX(CASE WHEN complete = 1 THEN applied_ms END) AS BIGINT) AS last_complete
             FROM sweep_scopes
             WHERE sweep_id IN (SELECT id FROM sweeps WHERE via = 'sweep')
             GROUP BY account_id, resource_type
             ORDER BY account_id, resource_type",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading listing health"))?;
        let errors = sqlx::query(
            "SELECT e.account_id, e.resource_type, e.error, e.at_ms FROM listing_errors e
             WHERE e.id = (SELECT MAX(x.id) FROM listing_errors x
                           WHERE x.account_id = e.account_id
                             AND x.resource_type = e.resource_type)",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading listing errors"))?;
        let what = "reading listing health";
        let mut out: BTreeMap<(String, String), ScopeHealth> = BTreeMap::new();
        for r in &rows {
            let key: (String, String) = (
                r.try_get("account_id").map_err(q(what))?,
                r.try_get("resource_type").map_err(q(what))?,
            );
            out.insert(
                key.clone(),
                ScopeHealth {
                    account_id: key.0,
                    resource_type: key.1,
                    last_listed_ms: r.try_get("last_listed").map_err(q(what))?,
                    last_complete_ms: r.try_get("last_complete").map_err(q(what))?,
                    last_error: None,
                    last_error_ms: None,
                },
            );
        }
        for r in &errors {
            let key: (String, String) = (
                r.try_get("account_id").map_err(q(what))?,
                r.try_get("resource_type").map_err(q(what))?,
            );
            let entry = out.entry(key.clone()).or_insert_with(|| ScopeHealth {
                account_id: key.0,
                resource_type: key.1,
                last_listed_ms: None,
                last_complete_ms: None,
                last_error: None,
                last_error_ms: None,
            });
            entry.last_error = r.try_get("error").map_err(q(what))?;
            entry.last_error_ms = r.try_get("at_ms").map_err(q(what))?;
        }
        Ok(out.into_values().collect())
    }

    /// The last complete listing of every (account, region, type) a sweep (not an event
    /// refresh, which lists nothing whole) ever recorded.
    pub async fn listing_ages(&self) -> Result<Vec<ListingAge>, StoreError> {
        let what = "reading listing ages";
        let rows = sqlx::query(
            "SELECT account_id, region, resource_type,
                CAST(MAX(CASE WHEN complete = 1 THEN applied_ms END) AS BIGINT) AS last_complete
             FROM sweep_scopes
             WHERE sweep_id IN (SELECT id FROM sweeps WHERE via = 'sweep')
             GROUP BY account_id, region, resource_type",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q(what))?;
        rows.iter()
            .map(|r| {
                Ok(ListingAge {
                    account_id: r.try_get("account_id").map_err(q(what))?,
                    region: r.try_get("region").map_err(q(what))?,
                    resource_type: r.try_get("resource_type").map_err(q(what))?,
                    last_complete_ms: r.try_get("last_complete").map_err(q(what))?,
                })
            })
            .collect()
    }

    /// New and fixed issues per UTC day, and the open unjustified score per account at each
    /// day's end, for the last `days` days (today included). Rebuilt from the issues' own
    /// first-seen, fixed and justified times; a justification counts from when it was made.
    pub async fn daily_series(&self, days: u32) -> Result<Vec<DayPoint>, StoreError> {
        let now = now_ms();
        let today = now - now.rem_euclid(DAY_MS);
        let first = today - DAY_MS * i64::from(days.saturating_sub(1));
        let rows = sqlx::query(
            "SELECT it.account_id, i.score, i.first_seen_ms, i.fixed_ms, i.status, i.retired,
                i.justified_ms, i.justified_until_ms
             FROM issues i JOIN items it ON it.id = i.item_id
             WHERE i.disabled = 0 AND (i.fixed_ms IS NULL OR i.fixed_ms >= $1)",
        )
        .bind(first)
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading issue times"))?;
        let mut points: Vec<DayPoint> = (0..days)
            .map(|d| DayPoint {
                day_ms: first + DAY_MS * i64::from(d),
                new: 0,
                fixed: 0,
                open_score: BTreeMap::new(),
            })
            .collect();
        let what = "reading issue times";
        for r in &rows {
            let account: String = r.try_get("account_id").map_err(q(what))?;
            let score: i64 = r.try_get("score").map_err(q(what))?;
            let seen: i64 = r.try_get("first_seen_ms").map_err(q(what))?;
            let fixed: Option<i64> = r.try_get("fixed_ms").map_err(q(what))?;
            let retired: i64 = r.try_get("retired").map_err(q(what))?;
            let justified: Option<i64> = r.try_get("justified_ms").map_err(q(what))?;
            let until: Option<i64> = r.try_get("justified_until_ms").map_err(q(what))?;
            for p in &mut points {
                let end = p.day_ms + DAY_MS;
                if (p.day_ms..end).contains(&seen) {
                    p.new += 1;
                }
                if let Some(f) = fixed
                    && retired == 0
                    && (p.day_ms..end).contains(&f)
                {
                    p.fixed += 1;
                }
                let open_then = seen < end && fixed.is_none_or(|f| f >= end);
                let excused = justified.is_some_and(|j| j < end) && until.is_none_or(|u| u >= end);
                if open_then && !excused {
                    *p.open_score.entry(account.clone()).or_default() +=
                        u64::try_from(score).unwrap_or(0);
                }
            }
        }
        Ok(points)
    }
}
