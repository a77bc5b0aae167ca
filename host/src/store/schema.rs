//! The store's schema and its versioned migrations, for SQLite and PostgreSQL.
//!
//! Owns the DDL and bringing a database up to the current version, once, on open. It must
//! never change a migration that has shipped: add a new version instead. SQL differs per
//! backend only where the syntax does (row ids); everything else is shared text.

use sqlx::{AnyPool, Row};
use tracing::info;

use super::{Backend, StoreError, begin_write, now_ms};

/// One schema version: statements run in order, in one transaction.
struct Migration {
    version: i64,
    name: &'static str,
    statements: fn(Backend) -> Vec<String>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "items, revisions, sweeps, listing errors",
        statements: v1,
    },
    Migration {
        version: 2,
        name: "sweep owner",
        statements: v2,
    },
    Migration {
        version: 3,
        name: "issues",
        statements: v3,
    },
    Migration {
        version: 4,
        name: "justifications",
        statements: v4,
    },
    Migration {
        version: 5,
        name: "disabled issues",
        statements: v5,
    },
    Migration {
        version: 6,
        name: "notification outbox, retired issues",
        statements: v6,
    },
    Migration {
        version: 7,
        name: "console users, API tokens, sessions, issue audit trail",
        statements: v7,
    },
    Migration {
        version: 8,
        name: "event-driven refreshes, who made each change",
        statements: v8,
    },
    Migration {
        version: 9,
        name: "time travel: issue timeline",
        statements: v9,
    },
    Migration {
        version: 10,
        name: "shadow runs",
        statements: v10,
    },
];

pub const CURRENT_VERSION: i64 = 10;

/// What a candidate plugin version would change against the live version's open issues
/// (`simian plugin shadow`, `plugins/.shadow/<id>/`). `entries` is the diff as JSON, capped;
/// the counts are exact. A plugin has at most one current (ready or failed) run.
fn v10(backend: Backend) -> Vec<String> {
    let id = id_column(backend);
    vec![
        format!(
            "CREATE TABLE shadow_runs (
                {id},
                plugin TEXT NOT NULL,
                version TEXT NOT NULL,
                wasm_sha256 TEXT NOT NULL,
                live_version TEXT,
                via TEXT NOT NULL,
                started_ms BIGINT NOT NULL,
                finished_ms BIGINT NOT NULL,
                items BIGINT NOT NULL,
                would_open BIGINT NOT NULL,
                would_fix BIGINT NOT NULL,
                would_rescore BIGINT NOT NULL,
                unchanged BIGINT NOT NULL,
                failed BIGINT NOT NULL,
                state TEXT NOT NULL
                    CHECK (state IN ('ready', 'failed', 'promoted', 'discarded')),
                error TEXT,
                entries TEXT NOT NULL
            )"
        ),
        "CREATE INDEX shadow_runs_plugin ON shadow_runs (plugin, state)".into(),
    ]
}

/// Time travel. `issues` keeps only an issue's latest state, so "what was open at T, with what
/// score" needs the transitions themselves: `issue_events` is append-only, one row per
/// transition (new, fixed, regressed, rescored, retired) with the score it carried, written in
/// the same transaction as the change to `issues`. Existing issues are backfilled from what
/// their row still says: `new` at first seen with the current score, and `fixed` (or `retired`)
/// at fixed_ms for closed ones. Regressions and re-scores before this version are not
/// reconstructed (only their count survived), so an issue that regressed before v9 looks open
/// from its first sighting. `revisions_item_time` answers "the revision in force at T" per item
/// with one backward index seek.
fn v9(backend: Backend) -> Vec<String> {
    let id = id_column(backend);
    vec![
        format!(
            "CREATE TABLE issue_events (
                {id},
                issue_id BIGINT NOT NULL REFERENCES issues (id),
                at_ms BIGINT NOT NULL,
                event TEXT NOT NULL
                    CHECK (event IN ('new', 'fixed', 'regressed', 'rescored', 'retired')),
                score BIGINT NOT NULL
            )"
        ),
        "CREATE INDEX issue_events_issue ON issue_events (issue_id, at_ms)".into(),
        "INSERT INTO issue_events (issue_id, at_ms, event, score)
         SELECT id, first_seen_ms, 'new', score FROM issues ORDER BY id"
            .into(),
        "INSERT INTO issue_events (issue_id, at_ms, event, score)
         SELECT id, fixed_ms, CASE WHEN retired = 1 THEN 'retired' ELSE 'fixed' END, score
         FROM issues WHERE status = 'fixed' AND fixed_ms IS NOT NULL ORDER BY id"
            .into(),
        // `id` last: the tie-break of "latest at T", so PostgreSQL answers from the index
        // alone (SQLite appends the rowid to every index anyway).
        format!("CREATE INDEX {REVISIONS_AT_INDEX} ON revisions (item_id, captured_at_ms, id)"),
    ]
}

/// The index the revision-in-force query uses (the time-travel benchmark drops and re-creates
/// it to show what it buys).
pub const REVISIONS_AT_INDEX: &str = "revisions_item_time";

/// A CloudTrail event sets off a refresh: a small sweep with `via = 'event'` (so its revisions
/// reference a sweep like every other), each revision records how it was found and, when
/// known, who made the change (`actor`, JSON). `cloud_events` remembers every event id
/// processed, so a redelivered message is recognised and makes no second refresh.
fn v8(_backend: Backend) -> Vec<String> {
    vec![
        "ALTER TABLE sweeps ADD COLUMN via TEXT NOT NULL DEFAULT 'sweep'".into(),
        "ALTER TABLE revisions ADD COLUMN via TEXT NOT NULL DEFAULT 'sweep'".into(),
        "ALTER TABLE revisions ADD COLUMN actor TEXT".into(),
        "CREATE TABLE cloud_events (
            event_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            event_name TEXT NOT NULL,
            processed_ms BIGINT NOT NULL
        )"
        .into(),
        "CREATE INDEX sweeps_via ON sweeps (via, id)".into(),
    ]
}

/// Who may use the console and the API, and what they did. Passwords, tokens and session ids
/// are stored only as hashes (argon2 for passwords, SHA-256 for the random tokens), so a copy
/// of the database lets nobody in. `issue_actions` is the audit trail of every justification
/// change, whoever made it (CLI or web).
fn v7(backend: Backend) -> Vec<String> {
    let id = id_column(backend);
    vec![
        format!(
            "CREATE TABLE users (
                {id},
                name TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'justifier', 'admin')),
                password_hash TEXT,
                created_ms BIGINT NOT NULL
            )"
        ),
        format!(
            "CREATE TABLE api_tokens (
                {id},
                user_id BIGINT NOT NULL REFERENCES users (id),
                token_hash TEXT NOT NULL UNIQUE,
                created_ms BIGINT NOT NULL,
                expires_ms BIGINT,
                last_used_ms BIGINT,
                revoked_ms BIGINT
            )"
        ),
        "CREATE TABLE web_sessions (
            id_hash TEXT PRIMARY KEY,
            user_id BIGINT NOT NULL REFERENCES users (id),
            csrf TEXT NOT NULL,
            created_ms BIGINT NOT NULL,
            expires_ms BIGINT NOT NULL
        )"
        .into(),
        "CREATE INDEX web_sessions_user ON web_sessions (user_id)".into(),
        format!(
            "CREATE TABLE issue_actions (
                {id},
                issue_id BIGINT NOT NULL REFERENCES issues (id),
                action TEXT NOT NULL CHECK (action IN ('justify', 'unjustify')),
                actor TEXT NOT NULL,
                via TEXT NOT NULL,
                reason TEXT,
                until_ms BIGINT,
                at_ms BIGINT NOT NULL
            )"
        ),
        "CREATE INDEX issue_actions_issue ON issue_actions (issue_id, id)".into(),
        // The console counts live items per filter on every list page: from this index, not
        // the table.
        "CREATE INDEX items_live ON items (deleted, resource_type, account_id, region)".into(),
    ]
}

/// Notifications waiting for (or done with) delivery: one row per (notifier, account, batch),
/// kept after delivery as a record. Issues of an unloaded plugin are `retired`: closed, but
/// not "fixed" (nobody checked), and a later reappearance is new, not a regression.
fn v6(backend: Backend) -> Vec<String> {
    let id = id_column(backend);
    vec![
        format!(
            "CREATE TABLE outbox (
                {id},
                plugin TEXT NOT NULL,
                account_id TEXT NOT NULL,
                origin TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                next_attempt_ms BIGINT NOT NULL,
                last_error TEXT,
                last_attempt_ms BIGINT,
                delivered_ms BIGINT
            )"
        ),
        "CREATE INDEX outbox_due ON outbox (delivered_ms, next_attempt_ms)".into(),
        "CREATE INDEX outbox_plugin ON outbox (plugin, delivered_ms)".into(),
        "ALTER TABLE issues ADD COLUMN retired INTEGER NOT NULL DEFAULT 0".into(),
    ]
}

/// Issues of checks the operator disabled are kept but count towards no score.
fn v5(_backend: Backend) -> Vec<String> {
    vec!["ALTER TABLE issues ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0".to_string()]
}

/// A justification belongs to one issue, and so to its evidence: changed evidence is another
/// issue, which starts unjustified.
fn v4(_backend: Backend) -> Vec<String> {
    [
        "ALTER TABLE issues ADD COLUMN justified_reason TEXT",
        "ALTER TABLE issues ADD COLUMN justified_by TEXT",
        "ALTER TABLE issues ADD COLUMN justified_ms BIGINT",
        "ALTER TABLE issues ADD COLUMN justified_until_ms BIGINT",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// Issues and their lifecycle. Identity is (item, plugin, check, evidence) — never the score,
/// so a re-scored check keeps its history; the evidence is keyed by its hash because notes can
/// be long.
fn v3(backend: Backend) -> Vec<String> {
    let id = id_column(backend);
    vec![
        format!(
            "CREATE TABLE issues (
                {id},
                item_id BIGINT NOT NULL REFERENCES items (id),
                plugin TEXT NOT NULL,
                check_id TEXT NOT NULL,
                notes_hash TEXT NOT NULL,
                notes TEXT NOT NULL,
                title TEXT NOT NULL,
                score BIGINT NOT NULL,
                remediation TEXT,
                status TEXT NOT NULL CHECK (status IN ('open', 'fixed')),
                first_seen_ms BIGINT NOT NULL,
                last_seen_ms BIGINT NOT NULL,
                fixed_ms BIGINT,
                regressions BIGINT NOT NULL DEFAULT 0,
                plugin_version TEXT NOT NULL,
                plugin_generation BIGINT NOT NULL,
                UNIQUE (item_id, plugin, check_id, notes_hash)
            )"
        ),
        "CREATE INDEX issues_item ON issues (item_id, plugin)".into(),
        "CREATE INDEX issues_status ON issues (status, score)".into(),
    ]
}

/// Which process runs a sweep (`host:pid`), so opening the store aborts only sweeps whose
/// process is gone, never one a live `simian run` has in flight.
fn v2(_backend: Backend) -> Vec<String> {
    vec!["ALTER TABLE sweeps ADD COLUMN owner TEXT".to_string()]
}

/// `INTEGER PRIMARY KEY` is SQLite's rowid alias; AUTOINCREMENT keeps ids of deleted rows
/// from being reused, which history references rely on.
fn id_column(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "id BIGSERIAL PRIMARY KEY",
    }
}

fn v1(backend: Backend) -> Vec<String> {
    let id = id_column(backend);
    vec![
        format!(
            "CREATE TABLE sweeps (
                {id},
                started_ms BIGINT NOT NULL,
                finished_ms BIGINT,
                status TEXT NOT NULL
                    CHECK (status IN ('running', 'complete', 'partial', 'aborted')),
                created BIGINT NOT NULL DEFAULT 0,
                modified BIGINT NOT NULL DEFAULT 0,
                deleted BIGINT NOT NULL DEFAULT 0,
                unchanged BIGINT NOT NULL DEFAULT 0,
                ephemeral_updates BIGINT NOT NULL DEFAULT 0,
                errors BIGINT NOT NULL DEFAULT 0
            )"
        ),
        "CREATE INDEX sweeps_running ON sweeps (status)".into(),
        // current_revision_id has no foreign key: items and revisions point at each other
        // and the item row must exist before its first revision.
        format!(
            "CREATE TABLE items (
                {id},
                account_id TEXT NOT NULL,
                region TEXT NOT NULL,
                resource_type TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                arn TEXT NOT NULL,
                resource_name TEXT NOT NULL,
                current_revision_id BIGINT,
                durable_hash TEXT NOT NULL,
                complete_hash TEXT NOT NULL,
                deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
                first_seen_ms BIGINT NOT NULL,
                last_changed_ms BIGINT NOT NULL,
                UNIQUE (account_id, region, resource_type, resource_id)
            )"
        ),
        "CREATE INDEX items_arn ON items (arn)".into(),
        "CREATE INDEX items_type ON items (resource_type, account_id)".into(),
        format!(
            "CREATE TABLE revisions (
                {id},
                item_id BIGINT NOT NULL REFERENCES items (id),
                sweep_id BIGINT NOT NULL REFERENCES sweeps (id),
                kind TEXT NOT NULL CHECK (kind IN ('created', 'modified', 'deleted')),
                captured_at_ms BIGINT NOT NULL,
                durable_hash TEXT NOT NULL,
                complete_hash TEXT NOT NULL,
                document TEXT NOT NULL
            )"
        ),
        "CREATE INDEX revisions_item ON revisions (item_id, id)".into(),
        "CREATE INDEX revisions_sweep ON revisions (sweep_id)".into(),
        // What each applied listing contributed; finish_sweep adds these up. One row per
        // apply (no shared counter row) so concurrent scopes never contend.
        format!(
            "CREATE TABLE sweep_scopes (
                {id},
                sweep_id BIGINT NOT NULL REFERENCES sweeps (id),
                account_id TEXT NOT NULL,
                region TEXT NOT NULL,
                resource_type TEXT NOT NULL,
                complete INTEGER NOT NULL CHECK (complete IN (0, 1)),
                created BIGINT NOT NULL,
                modified BIGINT NOT NULL,
                deleted BIGINT NOT NULL,
                unchanged BIGINT NOT NULL,
                ephemeral_updates BIGINT NOT NULL,
                applied_ms BIGINT NOT NULL
            )"
        ),
        "CREATE INDEX sweep_scopes_sweep ON sweep_scopes (sweep_id)".into(),
        format!(
            "CREATE TABLE listing_errors (
                {id},
                sweep_id BIGINT NOT NULL REFERENCES sweeps (id),
                account_id TEXT NOT NULL,
                region TEXT NOT NULL,
                resource_type TEXT NOT NULL,
                error TEXT NOT NULL,
                retries BIGINT NOT NULL,
                at_ms BIGINT NOT NULL
            )"
        ),
        "CREATE INDEX listing_errors_sweep ON listing_errors (sweep_id)".into(),
    ]
}

/// Bring the database to [`CURRENT_VERSION`]. Safe to run from several processes at once.
pub async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let fail = |version: i64| move |source| StoreError::Migrate { version, source };
    let mut tx = begin_write(pool, backend).await.map_err(fail(0))?;
    if backend == Backend::Postgres {
        // Serialises concurrent openers; released at commit. Wrapped in a SELECT because the
        // Any driver cannot decode `void`.
        sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(7405183920117)) AS l")
            .execute(&mut *tx)
            .await
            .map_err(fail(0))?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_ms BIGINT NOT NULL
        )",
    )
    .execute(&mut *tx)
    .await
    .map_err(fail(0))?;
    let row = sqlx::query(
        "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS version FROM schema_version",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(fail(0))?;
    let found: i64 = row.try_get("version").map_err(fail(0))?;
    if found > CURRENT_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            known: CURRENT_VERSION,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        for statement in (m.statements)(backend) {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await
                .map_err(fail(m.version))?;
        }
        sqlx::query("INSERT INTO schema_version (version, name, applied_ms) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(fail(m.version))?;
        info!(version = m.version, name = m.name, "store schema migrated");
    }
    tx.commit().await.map_err(fail(CURRENT_VERSION))
}
