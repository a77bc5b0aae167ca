//! Console users, API tokens and web sessions as rows: who exists, with which role, and
//! which hashed secret proves it.
//!
//! Owns these tables' queries. It must never see a plain password, token or session id: the
//! caller (`crate::users`) hashes them first. Nothing here decides what a role may do.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, begin_write, now_ms, q};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    /// `viewer`, `justifier` or `admin` (checked by the schema).
    pub role: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub user: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// A live session: its user and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user: UserRow,
    pub csrf: String,
    pub expires_ms: i64,
}

fn user(r: &AnyRow) -> Result<UserRow, StoreError> {
    let what = "reading a user row";
    Ok(UserRow {
        id: r.try_get("id").map_err(q(what))?,
        name: r.try_get("name").map_err(q(what))?,
        role: r.try_get("role").map_err(q(what))?,
        password_hash: r.try_get("password_hash").map_err(q(what))?,
        created_ms: r.try_get("created_ms").map_err(q(what))?,
    })
}

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.password_hash, u.created_ms";

impl Store {
    /// Ok(false) if a user of that name exists already.
    pub async fn add_user(
        &self,
        name: &str,
        role: &str,
        password_hash: Option<&str>,
    ) -> Result<bool, StoreError> {
        let _guard = self.write_guard().await;
        if self.user(name).await?.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO users (name, role, password_hash, created_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(name)
        .bind(role)
        .bind(password_hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(q("adding a user"))?;
        Ok(true)
    }

    pub async fn user(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking a user up"))?;
        row.as_ref().map(user).transpose()
    }

    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(q("listing users"))?;
        rows.iter().map(user).collect()
    }

    /// Ok(false) if there is no such user.
    pub async fn set_user_role(&self, name: &str, role: &str) -> Result<bool, StoreError> {
        let _guard = self.write_guard().await;
        let done = sqlx::query("UPDATE users SET role = $1 WHERE name = $2")
            .bind(role)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(q("setting a user's role"))?;
        Ok(done.rows_affected() == 1)
    }

    /// A new password also ends the user's sessions (a stolen one must not outlive it).
    pub async fn set_user_password(&self, name: &str, hash: &str) -> Result<bool, StoreError> {
        let _guard = self.write_guard().await;
        let mut tx = begin_write(&self.pool, self.backend)
            .await
            .map_err(q("begin setting a password"))?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
            .bind(hash)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(q("setting a user's password"))?;
        sqlx::query(
            "DELETE FROM web_sessions WHERE user_id IN (SELECT id FROM users WHERE name = $1)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(q("ending a user's sessions"))?;
        tx.commit().await.map_err(q("commit setting a password"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Remove a user with their sessions and tokens, in one transaction. Ok(false) if there
    /// is no such user. Their past actions stay in the audit trail under their name.
    pub async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        let _guard = self.write_guard().await;
        let mut tx = begin_write(&self.pool, self.backend)
            .await
            .map_err(q("begin removing a user"))?;
        for sql in [
            "DELETE FROM web_sessions WHERE user_id IN (SELECT id FROM users WHERE name = $1)",
            "DELETE FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE name = $1)",
        ] {
            sqlx::query(sql)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(q("removing a user's sessions and tokens"))?;
        }
        let done = sqlx::query("DELETE FROM users WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(q("removing a user"))?;
        tx.commit().await.map_err(q("commit removing a user"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Record a token (by its hash) for a user; returns its id, or None if there is no such
    /// user.
    pub async fn add_token(
        &self,
        user_name: &str,
        token_hash: &str,
        expires_ms: Option<i64>,
    ) -> Result<Option<i64>, StoreError> {
        let _guard = self.write_guard().await;
        let Some(owner) = self.user(user_name).await? else {
            return Ok(None);
        };
        let row = sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, created_ms, expires_ms)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(owner.id)
        .bind(token_hash)
        .bind(now_ms())
        .bind(expires_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(q("adding a token"))?;
        Ok(Some(row.try_get("id").map_err(q("reading a token id"))?))
    }

    /// Ok(false) if there is no such token or it was revoked already.
    pub async fn revoke_token(&self, id: i64) -> Result<bool, StoreError> {
        let _guard = self.write_guard().await;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(q("revoking a token"))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, u.name, t.created_ms, t.expires_ms, t.last_used_ms, t.revoked_ms
             FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("listing tokens"))?;
        let what = "reading a token row";
        rows.iter()
            .map(|r| {
                Ok(TokenRow {
                    id: r.try_get("id").map_err(q(what))?,
                    user: r.try_get("name").map_err(q(what))?,
                    created_ms: r.try_get("created_ms").map_err(q(what))?,
                    expires_ms: r.try_get("expires_ms").map_err(q(what))?,
                    last_used_ms: r.try_get("last_used_ms").map_err(q(what))?,
                    revoked_ms: r.try_get("revoked_ms").map_err(q(what))?,
                })
            })
            .collect()
    }

    /// The user a live (unexpired, unrevoked) token belongs to, recording its use.
    pub async fn user_by_token(&self, token_hash: &str) -> Result<Option<UserRow>, StoreError> {
        let now = now_ms();
        let sql = format!(
            "SELECT {USER_COLUMNS}, t.id AS token_id FROM api_tokens t
             JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_ms IS NULL
               AND (t.expires_ms IS NULL OR t.expires_ms > $2)"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking a token up"))?
        else {
            return Ok(None);
        };
        let token_id: i64 = row.try_get("token_id").map_err(q("reading a token id"))?;
        // Last use to the minute is enough, and spares a write per request.
        let _guard = self.write_guard().await;
        sqlx::query(
            "UPDATE api_tokens SET last_used_ms = $1
             WHERE id = $2 AND (last_used_ms IS NULL OR last_used_ms < $3)",
        )
        .bind(now)
        .bind(token_id)
        .bind(now - 60_000)
        .execute(&self.pool)
        .await
        .map_err(q("recording a token's use"))?;
        user(&row).map(Some)
    }

    pub async fn add_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let now = now_ms();
        // Expired sessions go whenever a new one comes.
        sqlx::query("DELETE FROM web_sessions WHERE expires_ms <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(q("pruning sessions"))?;
        sqlx::query(
            "INSERT INTO web_sessions (id_hash, user_id, csrf, created_ms, expires_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(expires_ms)
        .execute(&self.pool)
        .await
        .map_err(q("adding a session"))?;
        Ok(())
    }

    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf, s.expires_ms FROM web_sessions s
             JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_ms > $2"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id_hash)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await
            .map_err(q("looking a session up"))?
        else {
            return Ok(None);
        };
        let what = "reading a session row";
        Ok(Some(SessionRow {
            user: user(&row)?,
            csrf: row.try_get("csrf").map_err(q(what))?,
            expires_ms: row.try_get("expires_ms").map_err(q(what))?,
        }))
    }

    pub async fn remove_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(q("removing a session"))?;
        Ok(())
    }
}
