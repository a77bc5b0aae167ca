//! The command line. Owns argument parsing, output formats and exit codes; every command is a
//! thin layer over the library. Exit codes: 0 success, 1 error, 2 usage, 3 an audit finished
//! but some plugin failed, 4 a sweep finished but some listing failed, 5 a drill ran but
//! missed its SLO (or could not undo its change), 130 a drill interrupted (and reverted).

mod at_cmd;
mod audit_cmd;
mod drill_cmd;
mod findings_cmd;
mod output;
mod plugin_assets;
mod plugin_cmd;
mod plugin_lang;
mod plugins_cmd;
mod replay_cmd;
mod run_cmd;
mod shadow_cmd;
mod store_cmds;
mod toolchain;
mod users_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

/// `simian plugin build`, for the benchmarks that time what it produces.
pub use plugin_cmd::build as build_plugin;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "simian",
    version,
    about = "Watch AWS configuration and judge it with sandboxed plugins"
)]
pub struct Cli {
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `simian=debug`.
    #[arg(long, global = true, env = "SIMIAN_LOG")]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the long-running host: load plugins, hot-reload them, answer `simian plugins` and
    /// `simian audit` on the control socket.
    Run {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// List plugins with their status and counters (from the running host if there is one).
    Plugins {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run every matching auditor over item documents and print the issues.
    Audit {
        /// A file with one item, a JSON array, or {"items": [...]}; `-` for standard input.
        #[arg(long)]
        item: String,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Create, build and check plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Sweep the watched accounts now and record what changed (exit 4 if any listing failed).
    Sweep {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Only this account.
        #[arg(long)]
        account: Option<String>,
        /// Only this resource type (repeatable), e.g. AWS::IAM::User.
        #[arg(long = "type")]
        types: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Game day: make a tagged risky change in a `[drill]` account, time every stage of the
    /// alarm chain against the SLO, revert (always, also on Ctrl-C) and report (exit 5: missed).
    Drill {
        #[arg(long)]
        config: Option<PathBuf>,
        /// A drill account (default: the first in `[drill] accounts`).
        #[arg(long)]
        account: Option<String>,
        #[arg(long, value_enum, default_value_t = crate::drill::Scenario::OpenSg)]
        scenario: crate::drill::Scenario,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run one auditor over every stored revision, in order: when each finding first
    /// appeared (and who made that change), when it was fixed, how long it was open. Reads
    /// only; the live issues never change (exit 3 if the plugin failed on some revision).
    Replay {
        /// A deployed plugin's id, a plugin directory, or a .wasm with plugin.toml beside it.
        plugin: String,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Only revisions from this moment on (YYYY-MM-DD, RFC 3339 or unix ms), plus the one
        /// in force then.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        account: Option<String>,
        /// Only this resource type (repeatable); the plugin must audit it.
        #[arg(long = "type")]
        types: Vec<String>,
        /// Concurrent plugin calls (default: the number of cores).
        #[arg(long)]
        workers: Option<usize>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the current item documents.
    Items {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long = "type")]
        resource_type: Option<String>,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        region: Option<String>,
        /// Substring of the resource name (case-insensitive).
        #[arg(long)]
        name: Option<String>,
        /// Include items that were deleted (with their last known document).
        #[arg(long)]
        include_deleted: bool,
        /// Answer as of this moment: unix ms, YYYY-MM-DD (start of that day, UTC) or RFC 3339.
        #[arg(long, value_parser = at_cmd::parse_at)]
        at: Option<i64>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Every revision of one item (by ARN or item id), optionally with diffs.
    History {
        key: String,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Show a structured diff between consecutive revisions.
        #[arg(long)]
        diff: bool,
        /// Only the revision in force at this moment (unix ms, YYYY-MM-DD or RFC 3339).
        #[arg(long, value_parser = at_cmd::parse_at)]
        at: Option<i64>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Print the least-privilege read-only IAM policy the watchers need.
    IamPolicy,
    /// List issues found by the auditors, highest score first.
    Issues {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = StatusArg::Open)]
        status: StatusArg,
        #[arg(long, default_value_t = 0)]
        min_score: u32,
        #[arg(long)]
        account: Option<String>,
        #[arg(long = "type")]
        resource_type: Option<String>,
        /// Also list issues of checks the operator disabled (kept, counted nowhere).
        #[arg(long)]
        disabled: bool,
        /// Issues as recorded at this moment: unix ms, YYYY-MM-DD (start of that day, UTC) or RFC 3339.
        #[arg(long, value_parser = at_cmd::parse_at)]
        at: Option<i64>,
        #[arg(long, value_enum, default_value_t = findings_cmd::IssuesFormat::Table)]
        format: findings_cmd::IssuesFormat,
    },
    /// Items by total score with their open issues (unjustified score first).
    Report {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The estate and its issues as recorded at this moment: unix ms, YYYY-MM-DD (start of that day, UTC) or RFC 3339.
        #[arg(long, value_parser = at_cmd::parse_at)]
        at: Option<i64>,
        #[arg(long, default_value_t = 0)]
        min_score: u32,
        #[arg(long)]
        account: Option<String>,
        #[arg(long = "type")]
        resource_type: Option<String>,
        #[arg(long, value_enum, default_value_t = findings_cmd::ReportFormat::Table)]
        format: findings_cmd::ReportFormat,
    },
    /// Excuse one issue; bound to its evidence (changed evidence is a new, unjustified issue).
    Justify {
        issue: i64,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        by: String,
        /// YYYY-MM-DD (end of day, UTC) or RFC 3339; the justification lapses then.
        #[arg(long)]
        expires: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Withdraw a justification.
    Unjustify {
        issue: i64,
        /// Who withdraws it, for the issue's audit trail (default: $USER).
        #[arg(long, env = "USER", default_value = "cli")]
        by: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Console users: add, list, remove, set-role, passwd.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens: create, list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Add a user; the password is read from a prompt, or from standard input.
    Add {
        name: String,
        /// viewer (reads), justifier (also justifies), admin (also users and tokens).
        #[arg(long)]
        role: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    List {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Remove a user with their sessions and tokens (their audit trail stays).
    Remove {
        name: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    SetRole {
        name: String,
        role: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Set a new password (prompt or standard input).
    Passwd {
        name: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create an API token for a user; printed once, stored only as a hash.
    Create {
        #[arg(long)]
        user: String,
        /// YYYY-MM-DD (end of day, UTC) or RFC 3339; never expires when absent.
        #[arg(long)]
        expires: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    List {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    Revoke {
        id: i64,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum StatusArg {
    Open,
    Fixed,
    All,
}

#[derive(Subcommand, Debug)]
enum PluginCommand {
    /// Write a new plugin from the SDK's template: a Rust crate, or a Python or JavaScript
    /// auditor (`--lang`), each with a passing test.
    New {
        /// Plugin id: lowercase letters, digits and dashes.
        name: String,
        #[arg(long, value_enum, default_value_t = KindArg::Auditor)]
        kind: KindArg,
        /// The language to write it in.
        #[arg(long, value_enum, default_value_t = plugin_lang::Lang::Rust)]
        lang: plugin_lang::Lang,
        /// Directory to create (default: ./<name>).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Path to the simian-sdk crate (default: the SDK this simian was built with).
        #[arg(long, env = "SIMIAN_SDK_PATH")]
        sdk: Option<PathBuf>,
    },
    /// Build a plugin into a component and place <id>.wasm and plugin.toml in the output
    /// directory: a Rust crate with cargo (wasm32-wasip2), a Python app with componentize-py,
    /// a JavaScript rule with componentize-js (both pinned, installed on first use).
    Build {
        /// The plugin's source directory.
        #[arg(value_name = "DIR")]
        crate_dir: PathBuf,
        /// Output directory (default: <crate-dir>/dist).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Pin the component in DIR (a plugin directory named after its id): writes
    /// `[plugin.<id>] sha256` into the configuration, so only that exact file is loaded.
    Trust {
        dir: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Try a new version of an auditor beside the live one: stage it in
    /// `plugins/.shadow/<id>/`, judge the current items, and show what it would open, fix and
    /// re-score against the live version's open issues. Records no issues.
    Shadow {
        /// A plugin directory, or a .wasm with plugin.toml beside it.
        candidate: String,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Swap the shadow candidate of plugin ID in as the live version (a running host
    /// hot-swaps it; a pinned plugin is re-pinned).
    Promote {
        id: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Drop the shadow candidate of plugin ID; the live version is untouched.
    Discard {
        id: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate a plugin file and print what it says about itself and what it needs.
    Check {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum KindArg {
    Auditor,
    Notifier,
}

fn init_logging(filter: Option<&str>, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter.unwrap_or(default))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

// Long because it is the one dispatch from subcommands to their functions.

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = match cli.command {
        Command::Run { .. } => "info",
        _ => "warn",
    };
    init_logging(cli.log.as_deref(), default_log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Run { config } => run_cmd::run(config.as_deref()).await,
            Command::Plugins { config, format } => {
                plugins_cmd::run(config.as_deref(), format).await
            }
            Command::Audit {
                item,
                config,
                format,
            } => audit_cmd::run(&item, config.as_deref(), format).await,
            Command::Plugin(PluginCommand::New {
                name,
                kind,
                lang,
                dir,
                sdk,
            }) => plugin_cmd::new(&name, kind, lang, dir, sdk),
            Command::Plugin(PluginCommand::Build { crate_dir, out }) => {
                plugin_cmd::build(&crate_dir, out).await
            }
            Command::Plugin(PluginCommand::Trust { dir, config }) => {
                plugin_cmd::trust(&dir, config.as_deref())
            }
            Command::Plugin(PluginCommand::Shadow {
                candidate,
                config,
                format,
            }) => shadow_cmd::shadow(&candidate, config.as_deref(), format).await,
            Command::Plugin(PluginCommand::Promote { id, config }) => {
                shadow_cmd::promote(&id, config.as_deref()).await
            }
            Command::Plugin(PluginCommand::Discard { id, config }) => {
                shadow_cmd::discard(&id, config.as_deref()).await
            }
            Command::Plugin(PluginCommand::Check { file, format }) => {
                plugin_cmd::check(&file, format).await
            }
            Command::Sweep {
                config,
                account,
                types,
                format,
            } => store_cmds::sweep(config.as_deref(), account, types, format).await,
            Command::Drill {
                config,
                account,
                scenario,
                format,
            } => drill_cmd::run(config.as_deref(), account.as_deref(), scenario, format).await,
            Command::Replay {
                plugin,
                config,
                since,
                account,
                types,
                workers,
                format,
            } => {
                let args = replay_cmd::Args {
                    target: plugin,
                    since,
                    account,
                    types,
                    workers,
                    format,
                };
                replay_cmd::run(config.as_deref(), args).await
            }
            Command::Items {
                config,
                resource_type,
                account,
                region,
                name,
                include_deleted,
                at,
                format,
            } => {
                let filter = crate::store::ItemFilter {
                    resource_type,
                    account_id: account,
                    region,
                    name_contains: name,
                    include_deleted,
                    ..Default::default()
                };
                store_cmds::items(config.as_deref(), filter, at, format).await
            }
            Command::History {
                key,
                config,
                diff,
                at,
                format,
            } => store_cmds::history(config.as_deref(), &key, diff, at, format).await,
            Command::IamPolicy => store_cmds::iam_policy(),
            Command::Issues {
                config,
                status,
                min_score,
                account,
                resource_type,
                disabled,
                at,
                format,
            } => {
                let filter = crate::store::IssueFilter {
                    open: match status {
                        StatusArg::Open => Some(true),
                        StatusArg::Fixed => Some(false),
                        StatusArg::All => None,
                    },
                    min_score,
                    account_id: account,
                    resource_type,
                    include_disabled: disabled,
                    ..Default::default()
                };
                findings_cmd::issues(config.as_deref(), filter, at, format).await
            }
            Command::Report {
                config,
                min_score,
                account,
                resource_type,
                at,
                format,
            } => {
                let filter = crate::store::IssueFilter {
                    open: Some(true),
                    min_score,
                    account_id: account,
                    resource_type,
                    include_disabled: false,
                    ..Default::default()
                };
                findings_cmd::report(config.as_deref(), filter, at, format).await
            }
            Command::Justify {
                issue,
                reason,
                by,
                expires,
                config,
            } => {
                store_cmds::justify(config.as_deref(), issue, &reason, &by, expires.as_deref())
                    .await
            }
            Command::Unjustify { issue, by, config } => {
                store_cmds::unjustify(config.as_deref(), issue, &by).await
            }
            Command::User(UserCommand::Add { name, role, config }) => {
                users_cmd::add(config.as_deref(), &name, &role).await
            }
            Command::User(UserCommand::List { config, format }) => {
                users_cmd::list(config.as_deref(), format).await
            }
            Command::User(UserCommand::Remove { name, config }) => {
                users_cmd::remove(config.as_deref(), &name).await
            }
            Command::User(UserCommand::SetRole { name, role, config }) => {
                users_cmd::set_role(config.as_deref(), &name, &role).await
            }
            Command::User(UserCommand::Passwd { name, config }) => {
                users_cmd::passwd(config.as_deref(), &name).await
            }
            Command::Token(TokenCommand::Create {
                user,
                expires,
                config,
            }) => users_cmd::token_create(config.as_deref(), &user, expires.as_deref()).await,
            Command::Token(TokenCommand::List { config, format }) => {
                users_cmd::token_list(config.as_deref(), format).await
            }
            Command::Token(TokenCommand::Revoke { id, config }) => {
                users_cmd::token_revoke(config.as_deref(), id).await
            }
        }
    });
    // Don't wait for plugin calls abandoned by a timeout.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
