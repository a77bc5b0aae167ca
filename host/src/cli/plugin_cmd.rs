//! `simian plugin new|build|check`: the plugin author's loop.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::Serialize;

use super::plugin_lang::{self, Lang};
use super::{Format, KindArg};
use crate::config::Config;
use crate::plugin::grants::Capability;
use crate::plugin::loaded::{self, Counters, LoadRequest, PluginFiles, summarize_imports};
use crate::plugin::manifest::{MANIFEST_FILE, Manifest, PluginKind, is_plugin_id};
use crate::services::HostServices;
use crate::services::items::MemoryItems;

const T_CARGO: &str = include_str!("../../../sdk/template/Cargo.toml.tmpl");
const T_README: &str = include_str!("../../../sdk/template/README.md.tmpl");
const T_AUDITOR_LIB: &str = include_str!("../../../sdk/template/auditor/lib.rs.tmpl");
const T_AUDITOR_MANIFEST: &str = include_str!("../../../sdk/template/plugin.toml.tmpl");
const T_NOTIFIER_LIB: &str = include_str!("../../../sdk/template/notifier/lib.rs.tmpl");
const T_NOTIFIER_MANIFEST: &str = include_str!("../../../sdk/template/notifier/plugin.toml.tmpl");

/// The SDK this binary was built from, when it is still there.
fn default_sdk() -> Option<PathBuf> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    std::fs::canonicalize(built).ok()
}

fn camel(id: &str) -> String {
    id.split('-')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

pub fn new(
    name: &str,
    kind: KindArg,
    lang: Lang,
    dir: Option<PathBuf>,
    sdk: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    if !is_plugin_id(name) {
        bail!(
            "plugin name `{name}` must be lowercase letters, digits and dashes, starting with a letter"
        );
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{} already exists and is not empty", dir.display());
    }
    if lang != Lang::Rust {
        if kind != KindArg::Auditor {
            bail!("--lang {lang:?} writes auditors only; notifiers are written in Rust for now");
        }
        if sdk.is_some() {
            bail!("--sdk names the Rust SDK crate; the {lang:?} SDK is carried by simian itself");
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        plugin_lang::new(lang, name, &dir, &camel(name))?;
        let test = match lang {
            Lang::Python => "pytest",
            _ => "node --test",
        };
        println!(
            "created auditor plugin `{name}` in {}\nnext: cd {} && {test} && simian plugin build .",
            dir.display(),
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let sdk_dependency = match sdk.or_else(default_sdk) {
        Some(path) => {
            let path = std::fs::canonicalize(&path)
                .with_context(|| format!("SDK path {} does not exist", path.display()))?;
            if !path.join("Cargo.toml").exists() {
                bail!(
                    "{} is not the simian-sdk crate (no Cargo.toml)",
                    path.display()
                );
            }
            format!("simian-sdk = {{ path = {:?} }}", path.display().to_string())
        }
        None => format!("simian-sdk = \"{}\"", env!("CARGO_PKG_VERSION")),
    };
    let fill = |t: &str| {
        t.replace("{{id}}", name)
            .replace("{{crate_name}}", &format!("simian-plugin-{name}"))
            .replace("{{struct_name}}", &camel(name))
            .replace("{{sdk_dependency}}", &sdk_dependency)
    };
    let (lib, manifest) = match kind {
        KindArg::Auditor => (T_AUDITOR_LIB, T_AUDITOR_MANIFEST),
        KindArg::Notifier => (T_NOTIFIER_LIB, T_NOTIFIER_MANIFEST),
    };
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let files = [
        ("Cargo.toml", fill(T_CARGO)),
        ("src/lib.rs", fill(lib)),
        (MANIFEST_FILE, fill(manifest)),
        ("README.md", fill(T_README)),
        (".gitignore", "/target\n/dist\n".to_string()),
    ];
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "created {} plugin `{name}` in {}\nnext: cd {} && cargo test && simian plugin build .",
        match kind {
            KindArg::Auditor => "auditor",
            KindArg::Notifier => "notifier",
        },
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Write via a temporary name and rename, so a watching host never reads half a file.
pub(super) fn place(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("output path has no file name")?;
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub async fn build(crate_dir: &Path, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let manifest_path = crate_dir.join(MANIFEST_FILE);
    let manifest = Manifest::load(&manifest_path)?;
    let lang = Lang::detect(crate_dir)?;
    if lang != Lang::Rust {
        let out = out.unwrap_or_else(|| crate_dir.join("dist"));
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        // Built beside, then renamed into place: a watching host never reads half a file.
        let partial = out.join(format!(".{}.partial", manifest.wasm_file()));
        let started = std::time::Instant::now();
        plugin_lang::build(lang, crate_dir, &partial).await?;
        let size = std::fs::metadata(&partial)
            .with_context(|| format!("the build wrote no {}", partial.display()))?
            .len();
        let wasm_out = out.join(manifest.wasm_file());
        // The component first: a host that sees the new manifest then finds the matching code.
        std::fs::rename(&partial, &wasm_out)
            .with_context(|| format!("cannot write {}", wasm_out.display()))?;
        return finish_build(&manifest_path, &out, &wasm_out, size, started.elapsed()).await;
    }
    let cargo_toml = std::fs::canonicalize(crate_dir.join("Cargo.toml"))
        .with_context(|| format!("{} has no Cargo.toml", crate_dir.display()))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = std::time::Instant::now();
    let output = tokio::process::Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&cargo_toml)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .await
        .with_context(|| format!("cannot run {cargo}"))?;
    if !output.status.success() {
        bail!(
            "cargo build failed for {} (is the target installed? `rustup target add wasm32-wasip2`)",
            crate_dir.display()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut artifact = None;
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let same_crate = msg["manifest_path"]
            .as_str()
            .is_some_and(|p| Path::new(p) == cargo_toml);
        let cdylib = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "cdylib"));
        if same_crate
            && cdylib
            && let Some(files) = msg["filenames"].as_array()
        {
            artifact = files
                .iter()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".wasm"))
                .map(PathBuf::from);
        }
    }
    let artifact = artifact.with_context(|| {
        format!(
            "cargo built no .wasm for {}: is [lib] crate-type = [\"cdylib\", …] set?",
            cargo_toml.display()
        )
    })?;
    let out = out.unwrap_or_else(|| crate_dir.join("dist"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let wasm =
        std::fs::read(&artifact).with_context(|| format!("cannot read {}", artifact.display()))?;
    let wasm_out = out.join(manifest.wasm_file());
    // The component first: a host that sees the new manifest then finds the matching code.
    place(&wasm_out, &wasm)?;
    finish_build(
        &manifest_path,
        &out,
        &wasm_out,
        wasm.len() as u64,
        started.elapsed(),
    )
    .await
}

/// With the component placed in `out`, place its manifest beside it and check what was placed.
async fn finish_build(
    manifest_path: &Path,
    out: &Path,
    wasm_out: &Path,
    size: u64,
    took: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    let manifest_text = std::fs::read(manifest_path)?;
    place(&out.join(MANIFEST_FILE), &manifest_text)?;
    println!(
        "built {} ({size} bytes in {:.1} s)",
        wasm_out.display(),
        took.as_secs_f64()
    );
    check(wasm_out, Format::Table).await
}

#[derive(Serialize)]
struct CheckReport {
    file: PathBuf,
    valid: bool,
    problems: Vec<String>,
    contract: Option<String>,
    kind: Option<PluginKind>,
    describe: Option<crate::plugin::PluginInfo>,
    imports: Vec<String>,
    capabilities_needed: Vec<String>,
    manifest: Option<PathBuf>,
    /// What is worth knowing but does not stop it loading.
    notes: Vec<String>,
}

// Long because `plugin check` reports every problem it finds, stage by stage, rather than

// stopping at the first.

pub async fn check(file: &Path, format: Format) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let config = Arc::new(Config::parse(
        &format!("data_dir = {:?}", scratch.path().display().to_string()),
        None,
    )?);
    let engine = Arc::new(crate::plugin::engine::PluginEngine::new(
        crate::plugin::engine::EngineOptions {
            max_instances: 4,
            max_memory_bytes: config.plugins.max_memory_mib as usize * 1024 * 1024,
            cache_dir: None,
        },
    )?);
    let mut report = CheckReport {
        file: file.to_path_buf(),
        valid: false,
        problems: Vec::new(),
        contract: None,
        kind: None,
        describe: None,
        imports: Vec::new(),
        capabilities_needed: Vec::new(),
        manifest: None,
        notes: Vec::new(),
    };
    let component = {
        let engine = engine.clone();
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || engine.compile(&bytes)).await?
    };
    match component {
        Err(e) => report.problems.push(format!("{}: {e}", file.display())),
        Ok((component, _)) => {
            let summary = summarize_imports(&engine.engine, &component);
            report.imports = summary.imports.clone();
            report.capabilities_needed =
                summary.capabilities.iter().map(|c| c.to_string()).collect();
            report.contract = summary.contract.clone();
            for u in &summary.undeclared {
                report.problems.push(format!(
                    "imports `{u}`, which is neither part of the simian:plugin contract nor WASI"
                ));
            }
            let kind = if summary.exports.iter().any(|e| e == "audit") {
                Some(PluginKind::Auditor)
            } else if summary.exports.iter().any(|e| e == "notify") {
                Some(PluginKind::Notifier)
            } else {
                report.problems.push(format!(
                    "exports neither the auditor nor the notifier world (exports: {})",
                    summary.exports.join(", ")
                ));
                None
            };
            report.kind = kind;
            let manifest_path = dir.join(MANIFEST_FILE);
            let beside = Manifest::load(&manifest_path)
                .ok()
                .filter(|m| dir.join(m.wasm_file()) == file);
            if let (Some(kind), true) = (kind, summary.undeclared.is_empty()) {
                // Describe through a manifest: the one beside the file, or a provisional one.
                let manifest = match &beside {
                    Some(m) => {
                        report.manifest = Some(manifest_path.clone());
                        m.clone()
                    }
                    None => provisional_manifest(kind, summary.contract.as_deref(), file),
                };
                let files = PluginFiles {
                    dir: dir.to_path_buf(),
                    wasm_path: file.to_path_buf(),
                    wasm: bytes,
                    wasm_sha256: String::new(),
                    content_hash: String::new(),
                    manifest: manifest.clone(),
                };
                let services = Arc::new(
                    HostServices::from_config(&config, Arc::new(MemoryItems::default()))
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                );
                let operator = config.operator(&manifest.id);
                match loaded::load(
                    &engine,
                    LoadRequest {
                        files,
                        operator: &operator,
                        limits: config.effective_limits(&manifest.id, &manifest.limits),
                        services,
                        counters: Arc::new(Counters::default()),
                        generation: 1,
                        inspect_only: true,
                    },
                )
                .await
                {
                    Ok(plugin) => {
                        if beside.is_some() {
                            report
                                .problems
                                .extend(manifest_problems(&manifest, &plugin));
                            report.notes = undeclared_notes(&manifest, &summary.capabilities);
                        }
                        report.describe = Some(plugin.info.clone());
                    }
                    Err(e) => report.problems.push(e.to_string()),
                }
            }
        }
    }
    report.valid = report.problems.is_empty();
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => print!("{}", render_check(&report)),
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn provisional_manifest(kind: PluginKind, contract: Option<&str>, file: &Path) -> Manifest {
    Manifest {
        id: "unchecked".into(),
        version: "0".into(),
        kind,
        contract: contract.unwrap_or("0.1.0").into(),
        description: String::new(),
        resource_types: Vec::new(),
        wasm: file.file_name().and_then(|n| n.to_str()).map(String::from),
        capabilities: Default::default(),
        limits: Default::default(),
    }
}

fn manifest_problems(m: &Manifest, plugin: &crate::plugin::LoadedPlugin) -> Vec<String> {
    let info = &plugin.info;
    let mut problems = Vec::new();
    let mut differ = |field: &str, a: String, b: String| {
        if a != b {
            problems.push(format!(
                "plugin.toml says {field} = {a} but describe() says {b}"
            ));
        }
    };
    differ("id", m.id.clone(), info.id.clone());
    differ("version", m.version.clone(), info.version.clone());
    differ("kind", m.kind.to_string(), info.kind.to_string());
    let mut a = m.resource_types.clone();
    let mut b = info.resource_types.clone();
    a.sort();
    b.sort();
    differ("resource_types", format!("{a:?}"), format!("{b:?}"));
    problems
}

/// Imported capabilities plugin.toml does not declare: not a problem (toolchains such as
/// componentize-py import every interface of the world), but worth saying what their calls do.
fn undeclared_notes(m: &Manifest, imported: &[Capability]) -> Vec<String> {
    imported
        .iter()
        .filter(|cap| !m.capabilities.declares(**cap))
        .map(|cap| {
            format!(
                "imports capability `{cap}` without declaring it under [capabilities]: it loads, and every `{cap}` call answers `denied`"
            )
        })
        .collect()
}

fn render_check(r: &CheckReport) -> String {
    let mut out = format!(
        "{}: {}\n",
        r.file.display(),
        if r.valid { "valid" } else { "INVALID" }
    );
    if let Some(d) = &r.describe {
        out.push_str(&format!(
            "  plugin:       {} {} ({})\n  description:  {}\n  resources:    {}\n",
            d.id,
            d.version,
            d.kind,
            d.description,
            d.resource_types.join(", ")
        ));
        for c in &d.checks {
            out.push_str(&format!(
                "  check:        {} \"{}\" score {}\n",
                c.id, c.title, c.score
            ));
        }
    }
    if let Some(c) = &r.contract {
        out.push_str(&format!("  contract:     simian:plugin@{c}\n"));
    }
    out.push_str(&format!(
        "  capabilities: {}\n",
        if r.capabilities_needed.is_empty() {
            "none".to_string()
        } else {
            r.capabilities_needed.join(", ")
        }
    ));
    out.push_str(&format!("  imports:      {}\n", r.imports.len()));
    for i in &r.imports {
        out.push_str(&format!("    {i}\n"));
    }
    for n in &r.notes {
        out.push_str(&format!("  note:    {n}\n"));
    }
    for p in &r.problems {
        out.push_str(&format!("  problem: {p}\n"));
    }
    out
}

/// `simian plugin trust DIR`: pin the component now in DIR as the one the operator vetted, by
/// writing `[plugin.<id>] sha256 = "…"` into the configuration file.
pub fn trust(dir: &Path, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config_path = match config {
        Some(path) => path.to_path_buf(),
        None => Config::discover(None)?.source.context(
            "no configuration file to write the pin to: pass --config or set SIMIAN_CONFIG",
        )?,
    };
    let current = Config::load(&config_path)?;
    let root = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let files = PluginFiles::read(dir, root, current.plugins.max_file_bytes)?;
    let id = files.manifest.id.clone();
    let dir_name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
    if dir_name.as_deref() != Some(id.as_str()) {
        return Err(crate::plugin::LoadError::WrongDirectory {
            dir: dir.to_path_buf(),
            id: crate::text::escape_controls(&id).into_owned(),
        }
        .into());
    }
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("cannot edit {}", config_path.display()))?;
    let plugins = doc
        .entry("plugin")
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .with_context(|| format!("{}: `plugin` is not a table", config_path.display()))?;
    let section = plugins
        .entry(&id)
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
        .as_table_like_mut()
        .with_context(|| format!("{}: `plugin.{id}` is not a table", config_path.display()))?;
    section.insert("sha256", toml_edit::value(files.wasm_sha256.clone()));
    let edited = doc.to_string();
    // Never leave a file simian cannot read.
    Config::parse(&edited, Some(&config_path))?;
    place(&config_path, edited.as_bytes())?;
    println!(
        "pinned plugin `{id}` to {} (sha256 {}) in {}; simian refuses any other component for it",
        files.wasm_path.display(),
        files.wasm_sha256,
        config_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
