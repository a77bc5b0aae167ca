//! `simian plugin shadow | promote | discard`: try a new version of an auditor beside the live
//! one, see what it would change, then swap it in or drop it.
//!
//! A candidate is staged in `plugins/.shadow/<id>/`, where a running host also judges it. The
//! swap itself is the ordinary hot reload: promote writes the files into `plugins/<id>/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::Format;
use super::output::{clean, table};
use super::plugin_cmd::place;
use crate::config::Config;
use crate::plugin::candidate;
use crate::plugin::package::PluginFiles;
use crate::runtime::{Runtime, StoreAccess};
use crate::shadow::SHADOW_DIR;
use crate::store::{ShadowChange, ShadowRun, ShadowState, Store};

pub async fn shadow(
    target: &str,
    config: Option<&Path>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let runtime = Runtime::from_cli(config, StoreAccess::Writer).await?;
    let plugins_dir = runtime.plugins.plugins_dir().to_path_buf();
    let dir = candidate::locate(target, &plugins_dir)?;
    let max = runtime.config().plugins.max_file_bytes;
    let files = PluginFiles::read(&dir, dir.parent().unwrap_or(&dir), max)?;
    let id = files.manifest.id.clone();
    let stage = plugins_dir.join(SHADOW_DIR).join(&id);
    if same_dir(&dir, &plugins_dir.join(&id)) {
        anyhow::bail!(
            "{} is the live plugin `{id}`; shadow a new version from another directory",
            dir.display()
        );
    }
    if !same_dir(&dir, &stage) {
        stage_files(&files, &stage)?;
    }
    // The live version, to compare against: only this plugin's directory is loaded.
    let live_dir = plugins_dir.join(&id);
    if live_dir.is_dir() {
        runtime.plugins.sync_dir(&live_dir).await;
    }
    let store = runtime.store()?;
    let run = crate::shadow::run(store, &runtime.plugins, &stage, "cli").await?;
    store.close().await;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&run)?),
        Format::Table => print!("{}", render(&run)),
    }
    Ok(match run.state {
        ShadowState::Failed => ExitCode::FAILURE,
        _ if run.failed > 0 => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    })
}

pub async fn promote(id: &str, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config_path = config.map(Path::to_path_buf);
    let config = Config::discover(config)?;
    let stage = stage_of(&config, id)?;
    let files = PluginFiles::read(
        &stage,
        stage.parent().unwrap_or(&stage),
        config.plugins.max_file_bytes,
    )
    .with_context(|| {
        format!("no shadow candidate for `{id}` to promote (stage one with `simian plugin shadow`)")
    })?;
    if files.manifest.id != id {
        anyhow::bail!(
            "{} holds plugin `{}`, not `{id}`",
            stage.display(),
            clean(&files.manifest.id)
        );
    }
    let store = Store::open(&config.storage.url).await?;
    let current = store.current_shadow_runs(Some(id)).await?;
    if let Some(run) = current.iter().find(|r| r.state == ShadowState::Failed) {
        anyhow::bail!(
            "the shadow run of `{id}` failed: {}; fix the candidate or `simian plugin discard {id}`",
            clean(run.error.as_deref().unwrap_or("unknown error"))
        );
    }
    let live = config.plugins.dir.join(id);
    std::fs::create_dir_all(&live).with_context(|| format!("cannot create {}", live.display()))?;
    // Component first, manifest last: a watching host reloads once both are in place.
    let wasm_name = files.manifest.wasm_file();
    place(&live.join(&wasm_name), &files.wasm)?;
    let manifest = std::fs::read(stage.join(crate::plugin::manifest::MANIFEST_FILE))
        .with_context(|| format!("cannot read the manifest in {}", stage.display()))?;
    place(
        &live.join(crate::plugin::manifest::MANIFEST_FILE),
        &manifest,
    )?;
    // A pinned plugin is re-pinned after its files are in place, so the host never sees the
    // new pin with the old file (that would unload the live version).
    if config.operator(id).sha256.is_some() {
        super::plugin_cmd::trust(&live, config_path.as_deref())?;
    }
    std::fs::remove_dir_all(&stage)
        .with_context(|| format!("cannot remove {}", stage.display()))?;
    store.close_shadow_runs(id, ShadowState::Promoted).await?;
    store.close().await;
    let summary = current
        .first()
        .map(|r| {
            format!(
                " (shadow run {}: would open {}, fix {}, re-score {})",
                r.id, r.would_open, r.would_fix, r.would_rescore
            )
        })
        .unwrap_or_default();
    println!(
        "promoted `{id}` {} into {}{summary}; a running host swaps it in now",
        clean(&files.manifest.version),
        live.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn discard(id: &str, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = Config::discover(config)?;
    let stage = stage_of(&config, id)?;
    let had_files = stage.is_dir();
    if had_files {
        std::fs::remove_dir_all(&stage)
            .with_context(|| format!("cannot remove {}", stage.display()))?;
    }
    let closed = match Store::open(&config.storage.url).await {
        Ok(store) => {
            let n = store.close_shadow_runs(id, ShadowState::Discarded).await?;
            store.close().await;
            n
        }
        Err(_) if had_files => 0,
        Err(e) => return Err(e.into()),
    };
    if !had_files && closed == 0 {
        anyhow::bail!("no shadow candidate for `{id}`");
    }
    println!("discarded the shadow candidate of `{id}`; the live version is untouched");
    Ok(ExitCode::SUCCESS)
}

/// `plugins/.shadow/<id>`, for a well-formed id only: an id is a path component here.
fn stage_of(config: &Config, id: &str) -> anyhow::Result<PathBuf> {
    if !crate::scopes::is_plugin_id(id) {
        anyhow::bail!(
            "`{}` is not a plugin id (lowercase letters, digits and dashes, starting with a letter)",
            clean(crate::text::truncate(id, 64))
        );
    }
    Ok(config.plugins.dir.join(SHADOW_DIR).join(id))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn stage_files(files: &PluginFiles, stage: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(stage).with_context(|| format!("cannot create {}", stage.display()))?;
    // A candidate is one component and its manifest: anything else staged before goes.
    if let Ok(entries) = std::fs::read_dir(stage) {
        for entry in entries.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    place(&stage.join(files.manifest.wasm_file()), &files.wasm)?;
    let manifest_path = files.dir.join(crate::plugin::manifest::MANIFEST_FILE);
    let manifest = std::fs::read(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    place(
        &stage.join(crate::plugin::manifest::MANIFEST_FILE),
        &manifest,
    )
}

pub fn render(run: &ShadowRun) -> String {
    let against = match &run.live_version {
        Some(v) => format!("against live {}", clean(v)),
        None => "(no live version)".into(),
    };
    let mut out = format!(
        "shadow run {} of {} {} {against}: {} items judged\n",
        run.id,
        clean(&run.plugin),
        clean(&run.version),
        run.items
    );
    if let Some(e) = &run.error {
        out.push_str(&format!("FAILED: {}\n", clean(e)));
        return out;
    }
    out.push_str(&format!(
        "would open {}, would fix {}, would re-score {} (unchanged {}, failed {})\n",
        run.would_open, run.would_fix, run.would_rescore, run.unchanged, run.failed
    ));
    if !run.entries.is_empty() {
        let rows: Vec<Vec<String>> = run
            .entries
            .iter()
            .map(|e| {
                vec![
                    match e.change {
                        ShadowChange::Open => "open".into(),
                        ShadowChange::Fix => "fix".into(),
                        ShadowChange::Rescore => "re-score".into(),
                    },
                    e.arn.clone(),
                    e.check_id.clone(),
                    e.score.to_string(),
                    e.live_score
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "-".into()),
                    e.notes.clone(),
                ]
            })
            .collect();
        out.push_str(&table(
            &["CHANGE", "ITEM", "CHECK", "SCORE", "LIVE", "EVIDENCE"],
            &rows,
        ));
    }
    out.push_str(&format!(
        "promote with `simian plugin promote {0}`, or drop it with `simian plugin discard {0}`\n",
        clean(&run.plugin)
    ));
    out
}
