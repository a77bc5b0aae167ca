//! Listing issues across items: the filter (lifecycle state, score, plugin, check, account,
//! type, item) shared by the CLI, the console, the API and exports, with keyset paging.

use serde::Serialize;
use sqlx::Row;

use super::issues::{ISSUE_COLUMNS_I, StoredIssue, read_issue};
use super::items::{Arg, bind_all};
use super::{Store, StoreError, now_ms, q};

/// Which issues to list; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct IssueFilter {
    /// Some(true): open only; Some(false): fixed only.
    pub open: Option<bool>,
    /// A lifecycle state as the console names them; narrows `open`.
    pub state: Option<IssueState>,
    pub min_score: u32,
    pub account_id: Option<String>,
    pub resource_type: Option<String>,
    pub plugin: Option<String>,
    pub check_id: Option<String>,
    pub item_id: Option<i64>,
    /// Issues of checks the operator disabled are left out unless this is set.
    pub include_disabled: bool,
    /// Keyset paging in the listing order: after this (score, id).
    pub after: Option<(u32, i64)>,
    pub limit: Option<u64>,
}

/// Where an issue is in its life, as the console and API filter it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueState {
    /// Open, first seen at or after this time (e.g. the last sweep's start), never regressed.
    NewSince(i64),
    /// Open and not justified.
    Open,
    /// Open with a justification in force.
    Justified,
    /// Fixed (not closed because its plugin went away).
    Fixed,
    /// Open again after having been fixed.
    Regressed,
}

/// An issue with the item it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueRow {
    #[serde(flatten)]
    pub issue: StoredIssue,
    pub arn: String,
    pub resource_type: String,
    pub resource_name: String,
    pub account_id: String,
    pub region: String,
}

impl Store {
    /// Issues across items, highest score first.
    pub async fn issues(&self, filter: &IssueFilter) -> Result<Vec<IssueRow>, StoreError> {
        let (conditions, args) = filter.conditions(now_ms());
        let mut sql = format!(
            "SELECT {ISSUE_COLUMNS_I}, it.arn, it.resource_type, it.resource_name, it.account_id,
                it.region
             FROM issues i JOIN items it ON it.id = i.item_id WHERE 1 = 1{conditions}"
        );
        // Pages need the keyset order; whole listings keep the CLI's reading order.
        if filter.after.is_some() || filter.limit.is_some() {
            sql.push_str(" ORDER BY i.score DESC, i.id");
        } else {
            sql.push_str(" ORDER BY i.score DESC, it.arn, i.plugin, i.check_id, i.id");
        }
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {}", limit.min(i64::MAX as u64)));
        }
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args)
            .fetch_all(&self.pool)
            .await
            .map_err(q("listing issues"))?;
        rows.iter().map(issue_row).collect()
    }

    /// One issue with its item, by id.
    pub async fn issue(&self, id: i64) -> Result<Option<IssueRow>, StoreError> {
        let sql = format!(
            "SELECT {ISSUE_COLUMNS_I}, it.arn, it.resource_type, it.resource_name, it.account_id,
                it.region
             FROM issues i JOIN items it ON it.id = i.item_id WHERE i.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking an issue up"))?;
        row.as_ref().map(issue_row).transpose()
    }
}

impl IssueFilter {
    /// ` AND …` conditions on `issues i JOIN items it`, with binds from `$1`.
    pub(super) fn conditions(&self, now: i64) -> (String, Vec<Arg>) {
        let mut sql = String::new();
        let mut args: Vec<Arg> = Vec::new();
        let mut bind = |a: Arg| {
            args.push(a);
            args.len()
        };
        let n = bind(Arg::Int(i64::from(self.min_score)));
        sql.push_str(&format!(" AND i.score >= ${n}"));
        if let Some(open) = self.open {
            sql.push_str(if open {
                " AND i.status = 'open'"
            } else {
                " AND i.status = 'fixed' AND i.retired = 0"
            });
        }
        // In force: set, and without an expiry or expiring later.
        let justified = |n: usize| {
            format!(
                "(i.justified_reason IS NOT NULL
                  AND (i.justified_until_ms IS NULL OR i.justified_until_ms > ${n}))"
            )
        };
        match self.state {
            None => {}
            Some(IssueState::NewSince(since)) => {
                let n = bind(Arg::Int(since));
                sql.push_str(&format!(
                    " AND i.status = 'open' AND i.regressions = 0 AND i.first_seen_ms >= ${n}"
                ));
            }
            Some(IssueState::Open) => {
                let n = bind(Arg::Int(now));
                sql.push_str(&format!(" AND i.status = 'open' AND NOT {}", justified(n)));
            }
            Some(IssueState::Justified) => {
                let n = bind(Arg::Int(now));
                sql.push_str(&format!(" AND i.status = 'open' AND {}", justified(n)));
            }
            Some(IssueState::Fixed) => sql.push_str(" AND i.status = 'fixed' AND i.retired = 0"),
            Some(IssueState::Regressed) => {
                sql.push_str(" AND i.status = 'open' AND i.regressions > 0")
            }
        }
        if !self.include_disabled {
            sql.push_str(" AND i.disabled = 0");
        }
        for (column, value) in [
            ("it.account_id", &self.account_id),
            ("it.resource_type", &self.resource_type),
            ("i.plugin", &self.plugin),
            ("i.check_id", &self.check_id),
        ] {
            if let Some(v) = value {
                let n = bind(Arg::Text(v.clone()));
                sql.push_str(&format!(" AND {column} = ${n}"));
            }
        }
        if let Some(item) = self.item_id {
            let n = bind(Arg::Int(item));
            sql.push_str(&format!(" AND i.item_id = ${n}"));
        }
        if let Some((score, id)) = self.after {
            let s = bind(Arg::Int(i64::from(score)));
            let n = bind(Arg::Int(id));
            sql.push_str(&format!(
                " AND (i.score < ${s} OR (i.score = ${s} AND i.id > ${n}))"
            ));
        }
        (sql, args)
    }
}

pub(super) fn issue_row(r: &sqlx::any::AnyRow) -> Result<IssueRow, StoreError> {
    let what = "reading an issue's item";
    Ok(IssueRow {
        issue: read_issue(r)?,
        arn: r.try_get("arn").map_err(q(what))?,
        resource_type: r.try_get("resource_type").map_err(q(what))?,
        resource_name: r.try_get("resource_name").map_err(q(what))?,
        account_id: r.try_get("account_id").map_err(q(what))?,
        region: r.try_get("region").map_err(q(what))?,
    })
}
