//! `simian user …` and `simian token …`: the console's users and API tokens. Passwords come
//! from a prompt (no echo) or standard input, never from the command line (it would land in
//! shell history and `ps`).

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::Format;
use super::output::table;
use crate::config::Config;
use crate::store::Store;
use crate::users::{self, Role};

async fn open(config: Option<&Path>) -> anyhow::Result<Store> {
    let config = Config::discover(config)?;
    Store::open_reader(&config.storage.url)
        .await
        .with_context(|| format!("cannot open the store at {}", config.storage.url))
}

/// From a terminal: asked twice without echo. Otherwise: the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = prompt_hidden("Password: ")?;
        let again = prompt_hidden("Again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        return Ok(first);
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    use std::io::Write;
    let fd = libc::STDIN_FILENO;
    // SAFETY: termios on our own stdin; restored before returning.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::tcgetattr(fd, &mut saved) } == 0;
    if got {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if got {
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    }
    eprintln!();
    read.context("cannot read the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn add(config: Option<&Path>, name: &str, role: &str) -> anyhow::Result<ExitCode> {
    users::check_name(name)?;
    let role: Role = role.parse()?;
    let password = read_password()?;
    let hash = users::hash_password(&password)?;
    let store = open(config).await?;
    let added = store.add_user(name, role.as_str(), Some(&hash)).await?;
    store.close().await;
    anyhow::ensure!(added, "a user named `{name}` exists already");
    println!("user {name} added ({role})");
    Ok(ExitCode::SUCCESS)
}

pub async fn passwd(config: Option<&Path>, name: &str) -> anyhow::Result<ExitCode> {
    let password = read_password()?;
    let hash = users::hash_password(&password)?;
    let store = open(config).await?;
    let found = store.set_user_password(name, &hash).await?;
    store.close().await;
    anyhow::ensure!(
        found,
        "no user named `{}`",
        crate::text::escape_controls(name)
    );
    println!("password of {name} changed");
    Ok(ExitCode::SUCCESS)
}

pub async fn list(config: Option<&Path>, format: Format) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let list = store.users().await?;
    store.close().await;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "users": list }))?
        ),
        Format::Table => {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|u| {
                    vec![
                        u.name.clone(),
                        u.role.clone(),
                        crate::when::rfc3339(u.created_ms),
                    ]
                })
                .collect();
            print!("{}", table(&["NAME", "ROLE", "CREATED"], &rows));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn remove(config: Option<&Path>, name: &str) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let found = store.remove_user(name).await?;
    store.close().await;
    anyhow::ensure!(
        found,
        "no user named `{}`",
        crate::text::escape_controls(name)
    );
    println!("user {name} removed, with their sessions and tokens");
    Ok(ExitCode::SUCCESS)
}

pub async fn set_role(config: Option<&Path>, name: &str, role: &str) -> anyhow::Result<ExitCode> {
    let role: Role = role.parse()?;
    let store = open(config).await?;
    let found = store.set_user_role(name, role.as_str()).await?;
    store.close().await;
    anyhow::ensure!(
        found,
        "no user named `{}`",
        crate::text::escape_controls(name)
    );
    println!("{name} is now {role}");
    Ok(ExitCode::SUCCESS)
}

pub async fn token_create(
    config: Option<&Path>,
    user: &str,
    expires: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let until = expires
        .map(crate::when::parse_expiry)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--expires {e}"))?;
    if until.is_some_and(|u| u <= crate::store::now_ms()) {
        anyhow::bail!("--expires is in the past");
    }
    let (token, hash) = users::new_secret(users::TOKEN_PREFIX)?;
    let store = open(config).await?;
    let id = store.add_token(user, &hash, until).await?;
    store.close().await;
    let Some(id) = id else {
        anyhow::bail!("no user named `{}`", crate::text::escape_controls(user));
    };
    eprintln!("token {id} for {user}; shown only now, keep it secret:");
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

pub async fn token_list(config: Option<&Path>, format: Format) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let list = store.tokens().await?;
    store.close().await;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "tokens": list }))?
        ),
        Format::Table => {
            let when = |t: Option<i64>| t.map_or("-".to_string(), crate::when::rfc3339);
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|t| {
                    vec![
                        t.id.to_string(),
                        t.user.clone(),
                        crate::when::rfc3339(t.created_ms),
                        when(t.expires_ms),
                        when(t.last_used_ms),
                        if t.revoked_ms.is_some() {
                            "revoked"
                        } else {
                            "live"
                        }
                        .to_string(),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &["ID", "USER", "CREATED", "EXPIRES", "LAST_USED", "STATE"],
                    &rows
                )
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token_revoke(config: Option<&Path>, id: i64) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let found = store.revoke_token(id).await?;
    store.close().await;
    anyhow::ensure!(found, "no live token with id {id}");
    println!("token {id} revoked");
    Ok(ExitCode::SUCCESS)
}
