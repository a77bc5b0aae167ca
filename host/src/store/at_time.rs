//! Time travel: the estate and its issues as they were recorded at a moment T — for each item
//! the revision in force at T (the latest captured at or before T), each issue as its
//! timeline (`issue_events`) stood at T, each justification as the audit trail
//! (`issue_actions`) stood at T.
//!
//! Owns reading those tables as of T. It must never write, and never re-judge: what an issue
//! was at T is what was recorded then, not what today's plugins would say. What the timeline
//! does not keep (an issue's title and disabled flag) is read as it is now.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use super::issue_list::{IssueFilter, IssueRow, IssueState};
use super::issues::{ISSUE_COLUMNS_I, Justification};
use super::items::{
    Arg, ItemFilter, REVISION_COLUMNS, Revision, StoredItem, bind_all, revision, stored_item,
};
use super::{Backend, Store, StoreError, q};

/// One transition of an issue, as `issue_events` recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueEvent {
    pub at_ms: i64,
    /// `new`, `fixed`, `regressed`, `rescored` or `retired`.
    pub event: String,
    /// The score the issue carried from then on.
    pub score: u32,
}

impl IssueEvent {
    /// Whether the issue was open after this event.
    pub fn opens(&self) -> bool {
        matches!(self.event.as_str(), "new" | "regressed" | "rescored")
    }
}

/// The id of the revision of item `i` in force at `$at` (binds `$at` once per use).
/// `filter`'s identity fields only: they read `items` (an item's account, region, type and id
/// never change), while liveness, scores and paging are decided as of the moment.
pub(super) fn identity_only(filter: &ItemFilter) -> ItemFilter {
    ItemFilter {
        include_deleted: true,
        min_score: None,
        has_open_issues: false,
        offset: 0,
        limit: None,
        ..filter.clone()
    }
}

pub(super) fn revision_in_force(at: usize) -> String {
    format!(
        "(SELECT r2.id FROM revisions r2 WHERE r2.item_id = i.id AND r2.captured_at_ms <= ${at}
          ORDER BY r2.captured_at_ms DESC, r2.id DESC LIMIT 1)"
    )
}

fn u32_of(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

impl Store {
    /// The items in the estate at `at_ms`, ordered by id: for each item the latest revision
    /// captured at or before then. An item whose revision in force is a deletion, or that had
    /// no revision yet, is left out unless `filter.include_deleted` (then a deleted one comes
    /// with its last known document). `min_score` and `has_open_issues` are judged by the
    /// issues open at `at_ms`; the other fields of `filter` as [`Store::current_items`] does.
    pub async fn items_at(
        &self,
        at_ms: i64,
        filter: &ItemFilter,
    ) -> Result<Vec<StoredItem>, StoreError> {
        let (conditions, mut args) = identity_only(filter).conditions(2, super::now_ms());
        let at_n = 1;
        // One index seek per item either way, but spelled per backend (measured with the
        // timetravel benchmark): SQLite has no LATERAL and runs the correlated subquery per
        // item; PostgreSQL hashes a join on a subquery's result against a sequential scan of
        // every revision (~10× slower here), while LATERAL makes it a nested loop over
        // `revisions_item_time`.
        let from = match self.backend {
            Backend::Postgres => format!(
                "FROM items i CROSS JOIN LATERAL (SELECT r2.id, r2.kind, r2.captured_at_ms,
                    r2.document FROM revisions r2
                    WHERE r2.item_id = i.id AND r2.captured_at_ms <= ${at_n}
                    ORDER BY r2.captured_at_ms DESC, r2.id DESC LIMIT 1) r
                 WHERE 1 = 1{conditions}"
            ),
            Backend::Sqlite => format!(
                "FROM (SELECT i.id, {} AS rev FROM items i WHERE 1 = 1{conditions}) i
                 JOIN revisions r ON r.id = i.rev WHERE 1 = 1",
                revision_in_force(at_n)
            ),
        };
        let mut sql = format!(
            "SELECT i.id, r.id AS current_revision_id,
                CASE WHEN r.kind = 'deleted' THEN 1 ELSE 0 END AS deleted,
                r.captured_at_ms AS last_changed_ms, r.document {from}"
        );
        if !filter.include_deleted {
            sql.push_str(" AND r.kind <> 'deleted'");
        }
        sql.push_str(" ORDER BY i.id");
        let by_score = filter.min_score.is_some() || filter.has_open_issues;
        // Paging is pushed into SQL unless a score filter (judged below) must come first.
        let paged = !by_score && (filter.limit.is_some() || filter.offset > 0);
        if paged {
            sql.push_str(&format!(
                " LIMIT ${} OFFSET ${}",
                args.len() + 2,
                args.len() + 3
            ));
            args.push(Arg::Int(
                filter
                    .limit
                    .map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX)),
            ));
            args.push(Arg::Int(i64::try_from(filter.offset).unwrap_or(i64::MAX)));
        }
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)).bind(at_ms), args)
            .fetch_all(&self.pool)
            .await
            .map_err(q("listing items at a time"))?;
        let mut items = rows
            .iter()
            .map(stored_item)
            .collect::<Result<Vec<_>, _>>()?;
        if by_score {
            items = self.judged_at(at_ms, filter, items).await?;
        }
        Ok(items)
    }

    /// `filter`'s `min_score`, `has_open_issues`, `offset` and `limit` over items at `at_ms`,
    /// judged by the issues open then.
    async fn judged_at(
        &self,
        at_ms: i64,
        filter: &ItemFilter,
        mut items: Vec<StoredItem>,
    ) -> Result<Vec<StoredItem>, StoreError> {
        let open = self
            .issues_at(
                at_ms,
                &IssueFilter {
                    open: Some(true),
                    ..IssueFilter::default()
                },
            )
            .await?;
        // (open issues, unjustified score) per item, as the live filter counts them.
        let mut per_item: HashMap<i64, (u64, u64)> = HashMap::new();
        for r in &open {
            let e = per_item.entry(r.issue.item_id).or_default();
            e.0 += 1;
            if r.issue.justification.is_none() {
                e.1 += u64::from(r.issue.score);
            }
        }
        items.retain(|s| {
            let (count, score) = per_item.get(&s.id).copied().unwrap_or_default();
            (!filter.has_open_issues || count > 0)
                && filter.min_score.is_none_or(|m| score >= u64::from(m))
        });
        let skip = usize::try_from(filter.offset).unwrap_or(usize::MAX);
        let take = filter
            .limit
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        Ok(items.into_iter().skip(skip).take(take).collect())
    }

    /// The revision of an item in force at `at_ms` (`key` an item id or an ARN, as
    /// [`Store::history`] takes it): the latest captured at or before then, which may be a
    /// deletion. None if the item had no revision yet (or is unknown).
    pub async fn revision_at(&self, key: &str, at_ms: i64) -> Result<Option<Revision>, StoreError> {
        let base = format!("SELECT {REVISION_COLUMNS} FROM revisions r");
        let order = "AND r.captured_at_ms <= $2 ORDER BY r.captured_at_ms DESC, r.id DESC LIMIT 1";
        let row = if let Ok(id) = key.trim().parse::<i64>() {
            sqlx::query(AssertSqlSafe(format!(
                "{base} WHERE r.item_id = $1 {order}"
            )))
            .bind(id)
            .bind(at_ms)
            .fetch_optional(&self.pool)
            .await
        } else {
            sqlx::query(AssertSqlSafe(format!(
                "{base} WHERE r.item_id IN (SELECT id FROM items WHERE arn = $1) {order}"
            )))
            .bind(key)
            .bind(at_ms)
            .fetch_optional(&self.pool)
            .await
        }
        .map_err(q("reading the revision in force"))?;
        row.as_ref().map(revision).transpose()
    }

    /// Issues as recorded at `at_ms`, honouring `filter` as [`Store::issues`] does: open
    /// means open at `at_ms` (with the score it had then), fixed means closed then (and not
    /// retired), a justification counts if the audit trail had one in force then. Issues first
    /// recorded after `at_ms` are absent. Ordered like [`Store::issues`].
    pub async fn issues_at(
        &self,
        at_ms: i64,
        filter: &IssueFilter,
    ) -> Result<Vec<IssueRow>, StoreError> {
        // Only the identity filters go to SQL (binds from $2); state, score and paging are
        // judged on the state at T below.
        let identity = IssueFilter {
            open: None,
            state: None,
            min_score: 0,
            after: None,
            limit: None,
            ..filter.clone()
        };
        let (conditions, args) = identity.conditions(0);
        // `conditions` numbers binds from $1; shift them past `$1` (the time).
        let conditions = shift_binds(&conditions, 1);
        // Event and action ids per issue in a derived table, joined after: joined on the
        // subqueries themselves, PostgreSQL hashes whole tables (see `items_at`).
        // `x.*` keeps the issue columns first and in order, as `read_issue` expects.
        let sql = format!(
            "SELECT x.*, e.event AS at_event, e.score AS at_score, e.at_ms AS at_event_ms,
                a.action AS at_action, a.actor AS at_actor, a.reason AS at_reason,
                a.until_ms AS at_until_ms, a.at_ms AS at_action_ms
             FROM (SELECT {ISSUE_COLUMNS_I}, it.arn, it.resource_type, it.resource_name,
                    it.account_id, it.region,
                    (SELECT e2.id FROM issue_events e2 WHERE e2.issue_id = i.id AND e2.at_ms <= $1
                      ORDER BY e2.at_ms DESC, e2.id DESC LIMIT 1) AS event_id,
                    (SELECT a2.id FROM issue_actions a2 WHERE a2.issue_id = i.id AND a2.at_ms <= $1
                      ORDER BY a2.at_ms DESC, a2.id DESC LIMIT 1) AS action_id,
                    (SELECT CAST(COUNT(*) AS BIGINT) FROM issue_events g
                      WHERE g.issue_id = i.id AND g.event = 'regressed' AND g.at_ms <= $1)
                      AS at_regressions,
                    (SELECT CAST(COUNT(*) AS BIGINT) FROM issue_actions c
                      WHERE c.issue_id = i.id) AS actions
                 FROM issues i JOIN items it ON it.id = i.item_id
                 WHERE 1 = 1{conditions}) x
             JOIN issue_events e ON e.id = x.event_id
             LEFT JOIN issue_actions a ON a.id = x.action_id"
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)).bind(at_ms), args)
            .fetch_all(&self.pool)
            .await
            .map_err(q("listing issues at a time"))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let row = issue_at(r, at_ms)?;
            if keep(filter, &row) {
                out.push(row);
            }
        }
        // The live listing's orders: keyset order for pages, reading order otherwise.
        if filter.after.is_some() || filter.limit.is_some() {
            out.sort_by(|a, b| (b.issue.score, a.issue.id).cmp(&(a.issue.score, b.issue.id)));
        } else {
            out.sort_by(|a, b| {
                (
                    b.issue.score,
                    &a.arn,
                    &a.issue.plugin,
                    &a.issue.check_id,
                    a.issue.id,
                )
                    .cmp(&(
                        a.issue.score,
                        &b.arn,
                        &b.issue.plugin,
                        &b.issue.check_id,
                        b.issue.id,
                    ))
            });
        }
        if let Some(limit) = filter.limit {
            out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        Ok(out)
    }

    /// An issue's timeline, oldest first (empty for an unknown id). Issues recorded before
    /// schema v9 start with a backfilled `new` at first sighting and, if closed, their close.
    /// Which of `ids` had been re-scored by `at_ms` (a `rescored` event in their timeline).
    pub async fn rescored_issues(
        &self,
        ids: &[i64],
        at_ms: i64,
    ) -> Result<std::collections::HashSet<i64>, StoreError> {
        let mut found = std::collections::HashSet::new();
        for chunk in ids.chunks(super::items::ID_CHUNK) {
            let sql = format!(
                "SELECT DISTINCT issue_id FROM issue_events WHERE event = 'rescored'
                 AND at_ms <= $1 AND issue_id IN ({})",
                (2..chunk.len() + 2)
                    .map(|n| format!("${n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at_ms);
            for id in chunk {
                query = query.bind(*id);
            }
            let rows = query
                .fetch_all(&self.pool)
                .await
                .map_err(q("reading re-scored issues"))?;
            for r in rows {
                found.insert(
                    r.try_get::<i64, _>("issue_id")
                        .map_err(q("reading re-scored issues"))?,
                );
            }
        }
        Ok(found)
    }

    pub async fn issue_timeline(&self, issue_id: i64) -> Result<Vec<IssueEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT at_ms, event, score FROM issue_events WHERE issue_id = $1
             ORDER BY at_ms, id",
        )
        .bind(issue_id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading an issue's timeline"))?;
        let what = "reading an issue event";
        rows.iter()
            .map(|r| {
                Ok(IssueEvent {
                    at_ms: r.try_get("at_ms").map_err(q(what))?,
                    event: r.try_get("event").map_err(q(what))?,
                    score: u32_of(r.try_get("score").map_err(q(what))?),
                })
            })
            .collect()
    }
}

/// `$n` → `$(n + by)` in SQL built by a filter (its binds are plain `$` + digits).
fn shift_binds(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
            digits.push(d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&digits),
        }
    }
    out
}

/// An issue row as it stood at `at_ms`: lifecycle, score, regressions and justification from
/// the timeline and the audit trail; evidence and title as stored.
fn issue_at(r: &sqlx::any::AnyRow, at_ms: i64) -> Result<IssueRow, StoreError> {
    let what = "reading an issue at a time";
    let mut row = super::issue_list::issue_row(r)?;
    let event: String = r.try_get("at_event").map_err(q(what))?;
    let event_ms: i64 = r.try_get("at_event_ms").map_err(q(what))?;
    let issue = &mut row.issue;
    issue.open = matches!(event.as_str(), "new" | "regressed" | "rescored");
    issue.score = u32_of(r.try_get("at_score").map_err(q(what))?);
    issue.fixed_ms = (!issue.open).then_some(event_ms);
    issue.retired = event == "retired";
    issue.regressions = u32_of(r.try_get("at_regressions").map_err(q(what))?);
    issue.last_seen_ms = issue.last_seen_ms.min(at_ms);
    let action: Option<String> = r.try_get("at_action").map_err(q(what))?;
    let actions: i64 = r.try_get("actions").map_err(q(what))?;
    issue.justification = match action.as_deref() {
        Some("justify") => {
            let until: Option<i64> = r.try_get("at_until_ms").map_err(q(what))?;
            until
                .is_none_or(|u| u > at_ms)
                .then(|| -> Result<Justification, StoreError> {
                    Ok(Justification {
                        reason: r
                            .try_get::<Option<String>, _>("at_reason")
                            .map_err(q(what))?
                            .unwrap_or_default(),
                        by: r.try_get("at_actor").map_err(q(what))?,
                        at_ms: r.try_get("at_action_ms").map_err(q(what))?,
                        until_ms: until,
                    })
                })
                .transpose()?
        }
        Some(_) => None,
        // No audit trail at all: a justification from before the trail existed (schema v7)
        // counts from when it was made.
        None if actions == 0 => issue
            .justification
            .take()
            .filter(|j| j.at_ms <= at_ms && j.until_ms.is_none_or(|u| u > at_ms)),
        None => None,
    };
    Ok(row)
}

/// Whether an issue as it stood at T passes the state part of `filter`.
fn keep(filter: &IssueFilter, row: &IssueRow) -> bool {
    let i = &row.issue;
    if i.score < filter.min_score {
        return false;
    }
    let fixed = !i.open && !i.retired;
    match filter.open {
        Some(true) if !i.open => return false,
        Some(false) if !fixed => return false,
        _ => {}
    }
    let state_ok = match filter.state {
        None => true,
        Some(IssueState::NewSince(since)) => {
            i.open && i.regressions == 0 && i.first_seen_ms >= since
        }
        Some(IssueState::Open) => i.open && i.justification.is_none(),
        Some(IssueState::Justified) => i.open && i.justification.is_some(),
        Some(IssueState::Fixed) => fixed,
        Some(IssueState::Regressed) => i.open && i.regressions > 0,
    };
    if !state_ok {
        return false;
    }
    filter
        .after
        .is_none_or(|(score, id)| i.score < score || (i.score == score && i.id > id))
}

#[cfg(test)]
mod tests {
    use super::shift_binds;

    #[test]
    fn binds_shift_past_the_time() {
        assert_eq!(
            shift_binds(" AND i.score >= $1 AND (a = $2 OR b = $12)", 1),
            " AND i.score >= $2 AND (a = $3 OR b = $13)"
        );
    }
}
