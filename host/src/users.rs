//! Who may use the console and the REST API: roles, password hashing and API tokens.
//!
//! Owns turning secrets into what the store keeps (argon2 hashes for passwords, SHA-256 of
//! random tokens and session ids) and what each role may do. It must never log or return a
//! secret except the one time a new token is shown to the admin who made it, and never
//! speak HTTP (that is `web`).

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// What a user may do; each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also justifies and unjustifies issues.
    Justifier,
    /// Also manages users and tokens.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Justifier => "justifier",
            Role::Admin => "admin",
        }
    }

    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("unknown role `{0}`: expected viewer, justifier or admin")]
    UnknownRole(String),
    #[error("user name `{0}` must be 1–64 characters of letters, digits, `.`, `_`, `-` or `@`")]
    BadName(String),
    #[error("the password must be at least {MIN_PASSWORD} characters")]
    ShortPassword,
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error("the system's random source failed: {0}")]
    Random(String),
}

impl FromStr for Role {
    type Err = UserError;

    fn from_str(s: &str) -> Result<Role, UserError> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "justifier" => Ok(Role::Justifier),
            "admin" => Ok(Role::Admin),
            other => Err(UserError::UnknownRole(other.to_string())),
        }
    }
}

pub const MIN_PASSWORD: usize = 8;

/// Names are shown in the console and recorded in the audit trail: keep them plain.
pub fn check_name(name: &str) -> Result<(), UserError> {
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(UserError::BadName(name.to_string()))
    }
}

/// An argon2id hash (PHC string) of a new password.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(UserError::ShortPassword);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| UserError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| UserError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` matches a stored hash; an unreadable hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Some work comparable to [`verify_password`], so a login for an unknown user takes as long
/// as one with a wrong password.
pub fn burn_password_check(password: &str) {
    let _ = verify_password(password, DECOY);
}

/// A fixed, valid hash of a password nobody knows.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2ltaWFuZGVjb3lzYWx0$\
    3sD3AHtSkk/3lSvIcWOEoC+qmYjy1S62zn3LlQpwDZ8";

/// A new random secret (API token or session id), and the hash the store keeps of it.
pub fn new_secret(prefix: &str) -> Result<(String, String), UserError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| UserError::Random(e.to_string()))?;
    let secret = format!("{prefix}{}", hex::encode(bytes));
    let hash = secret_hash(&secret);
    Ok((secret, hash))
}

/// What the store keeps of a token or session id. The secrets are 256 random bits, so a fast
/// hash is enough (unlike passwords).
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The prefix of API tokens, so they are recognisable in secret scanners and logs.
pub const TOKEN_PREFIX: &str = "simian_";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_parsed() {
        assert!(Role::Admin.allows(Role::Justifier));
        assert!(Role::Justifier.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Justifier));
        assert!(!Role::Justifier.allows(Role::Admin));
        assert_eq!("justifier".parse::<Role>().expect("role"), Role::Justifier);
        let e = "root".parse::<Role>().expect_err("unknown");
        assert!(e.to_string().contains("`root`"), "{e}");
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(matches!(
            hash_password("short"),
            Err(UserError::ShortPassword)
        ));
        assert!(
            PasswordHash::new(DECOY).is_ok(),
            "the decoy must cost a real check"
        );
        // Two hashes of one password differ (salted).
        assert_ne!(hash, hash_password("correct horse").expect("hash"));
    }

    #[test]
    fn secrets_are_random_and_only_their_hash_is_kept() {
        let (a, ha) = new_secret(TOKEN_PREFIX).expect("secret");
        let (b, _) = new_secret(TOKEN_PREFIX).expect("secret");
        assert_ne!(a, b);
        assert!(a.starts_with("simian_") && a.len() == 7 + 64, "{a}");
        assert_eq!(secret_hash(&a), ha);
        assert!(!ha.contains(&a[7..]));
    }

    #[test]
    fn names_are_plain() {
        assert!(check_name("alice@example.com").is_ok());
        for bad in ["", "a b", "<script>", "x\u{1b}[31m", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
