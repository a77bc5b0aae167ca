//! Justifications: excusing issues (one, or many in one transaction) and withdrawing that,
//! each change recorded in the issue's audit trail with who made it and how.
//!
//! Owns the justification columns of `issues` and the `issue_actions` table. It must never
//! change an issue's lifecycle (open, fixed) or its evidence.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, begin_write, now_ms, q};

/// Who changed a justification, and through what (`cli`, `web`, `api`).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub via: &'a str,
}

/// One entry of an issue's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueAction {
    /// `justify` or `unjustify`.
    pub action: String,
    pub actor: String,
    pub via: String,
    pub reason: Option<String>,
    pub until_ms: Option<i64>,
    pub at_ms: i64,
}

impl Store {
    /// Excuse one issue (and only its evidence), optionally until a time. Ok(false) if there is
    /// no such issue.
    pub async fn justify(
        &self,
        issue_id: i64,
        reason: &str,
        by: &str,
        until_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let actor = Actor {
            name: by,
            via: "cli",
        };
        Ok(self
            .justify_issues(&[issue_id], reason, actor, until_ms)
            .await?
            == 1)
    }

    /// Withdraw one issue's justification (recorded as by `cli`). Ok(false) if there is no
    /// such issue.
    pub async fn unjustify(&self, issue_id: i64) -> Result<bool, StoreError> {
        let actor = Actor {
            name: "cli",
            via: "cli",
        };
        Ok(self.unjustify_issues(&[issue_id], actor).await? == 1)
    }

    /// Justify every existing issue of `ids` in one transaction, each change recorded in the
    /// audit trail with its actor. Returns how many issues there were.
    pub async fn justify_issues(
        &self,
        ids: &[i64],
        reason: &str,
        actor: Actor<'_>,
        until_ms: Option<i64>,
    ) -> Result<u64, StoreError> {
        let now = now_ms();
        self.change_justifications(ids, actor, Some((reason, until_ms)), now)
            .await
    }

    /// Withdraw the justifications of `ids` in one transaction (recorded like
    /// [`Store::justify_issues`]). Returns how many issues there were.
    pub async fn unjustify_issues(&self, ids: &[i64], actor: Actor<'_>) -> Result<u64, StoreError> {
        self.change_justifications(ids, actor, None, now_ms()).await
    }

    async fn change_justifications(
        &self,
        ids: &[i64],
        actor: Actor<'_>,
        justify: Option<(&str, Option<i64>)>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let _guard = self.write_guard().await;
        let mut tx = begin_write(&self.pool, self.backend)
            .await
            .map_err(q("begin changing justifications"))?;
        let mut changed = 0;
        for id in ids {
            let done = match justify {
                Some((reason, until)) => sqlx::query(
                    "UPDATE issues SET justified_reason = $1, justified_by = $2,
                        justified_ms = $3, justified_until_ms = $4 WHERE id = $5",
                )
                .bind(reason)
                .bind(actor.name)
                .bind(now)
                .bind(until)
                .bind(id),
                None => sqlx::query(
                    "UPDATE issues SET justified_reason = NULL, justified_by = NULL,
                        justified_ms = NULL, justified_until_ms = NULL WHERE id = $1",
                )
                .bind(id),
            }
            .execute(&mut *tx)
            .await
            .map_err(q("changing a justification"))?;
            if done.rows_affected() == 0 {
                continue;
            }
            changed += 1;
            sqlx::query(
                "INSERT INTO issue_actions (issue_id, action, actor, via, reason, until_ms, at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(if justify.is_some() {
                "justify"
            } else {
                "unjustify"
            })
            .bind(actor.name)
            .bind(actor.via)
            .bind(justify.map(|(reason, _)| reason))
            .bind(justify.and_then(|(_, until)| until))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(q("recording a justification change"))?;
        }
        tx.commit()
            .await
            .map_err(q("commit changing justifications"))?;
        Ok(changed)
    }

    /// The audit trail of one issue, oldest first.
    pub async fn issue_actions(&self, issue_id: i64) -> Result<Vec<IssueAction>, StoreError> {
        let rows = sqlx::query(
            "SELECT action, actor, via, reason, until_ms, at_ms FROM issue_actions
             WHERE issue_id = $1 ORDER BY id",
        )
        .bind(issue_id)
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing an issue's actions"))?;
        let what = "reading an issue action";
        rows.iter()
            .map(|r| {
                Ok(IssueAction {
                    action: r.try_get("action").map_err(q(what))?,
                    actor: r.try_get("actor").map_err(q(what))?,
                    via: r.try_get("via").map_err(q(what))?,
                    reason: r.try_get("reason").map_err(q(what))?,
                    until_ms: r.try_get("until_ms").map_err(q(what))?,
                    at_ms: r.try_get("at_ms").map_err(q(what))?,
                })
            })
            .collect()
    }
}
