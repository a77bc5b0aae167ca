//! `simian plugin new --lang python|js` and `simian plugin build` for plugins written in Python
//! (componentize-py) and JavaScript (componentize-js): templates in, components out.
//!
//! Owns telling the languages apart and driving each toolchain against the staged contract.
//! It must never install a toolchain itself (that is `toolchain`) nor load the result (the
//! build ends with the same `plugin check` a Rust plugin gets).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ValueEnum;

use super::plugin_assets::{self, JS_TEMPLATE, PYTHON_TEMPLATE, STAGE};
use super::toolchain;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

/// The file that marks a plugin directory as written in each language.
const PYTHON_ENTRY: &str = "app.py";
const JS_ENTRY: &str = "rule.js";

impl Lang {
    /// What `dir` holds: a cargo package, a Python app or a JS rule.
    pub fn detect(dir: &Path) -> anyhow::Result<Lang> {
        if dir.join("Cargo.toml").exists() {
            Ok(Lang::Rust)
        } else if dir.join(PYTHON_ENTRY).exists() {
            Ok(Lang::Python)
        } else if dir.join(JS_ENTRY).exists() {
            Ok(Lang::Js)
        } else {
            bail!(
                "{} holds no plugin source: expected Cargo.toml (Rust), {PYTHON_ENTRY} (Python) or {JS_ENTRY} (JavaScript)",
                dir.display()
            )
        }
    }
}

/// Write a Python or JS auditor from its template into `dir`, with the SDK and the contract
/// staged in `.simian/` so its tests run offline (`pytest`, `node --test`).
pub fn new(lang: Lang, id: &str, dir: &Path, class_name: &str) -> anyhow::Result<()> {
    let template = match lang {
        Lang::Python => &PYTHON_TEMPLATE,
        Lang::Js => &JS_TEMPLATE,
        Lang::Rust => bail!("the Rust template is written by `new` itself"),
    };
    for file in template.files() {
        let rel = file.path();
        let name = rel
            .to_str()
            .and_then(|n| n.strip_suffix(".tmpl"))
            .with_context(|| format!("template file {} is not a .tmpl", rel.display()))?;
        let text = std::str::from_utf8(file.contents())
            .with_context(|| format!("template {} is not UTF-8", rel.display()))?
            .replace("{{id}}", id)
            .replace("{{class_name}}", class_name);
        // A dotfile in the source tree would be hidden from its reviewers.
        let name = if name == "gitignore" {
            ".gitignore"
        } else {
            name
        };
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    plugin_assets::stage(dir, lang)
}

/// Build the component of the Python or JS plugin in `dir` into `wasm_out`.
pub async fn build(lang: Lang, dir: &Path, wasm_out: &Path) -> anyhow::Result<()> {
    plugin_assets::stage(dir, lang)?;
    let dir =
        std::fs::canonicalize(dir).with_context(|| format!("{} does not exist", dir.display()))?;
    let wit = dir.join(STAGE).join("wit");
    match lang {
        Lang::Js => build_js(&dir, &wit, wasm_out).await,
        Lang::Python => build_python(&dir, &wit, wasm_out).await,
        Lang::Rust => bail!("Rust plugins are built with cargo"),
    }
}

/// Bundles the rule, checks it in Node, writes the entry module binding the contract's imports
/// and runs componentize-js without `wasi:http` (the host does not link it): all in the
/// staged `build.mjs`.
async fn build_js(dir: &Path, wit: &Path, wasm_out: &Path) -> anyhow::Result<()> {
    let toolchain = toolchain::componentize_js().await?;
    let script = dir.join(STAGE).join("js/build.mjs");
    let mut cmd = tokio::process::Command::new(node());
    cmd.arg(&script)
        .arg("--toolchain")
        .arg(&toolchain)
        .arg("--wit")
        .arg(wit)
        .arg("--out")
        .arg(absolute(wasm_out)?)
        .current_dir(dir);
    toolchain::run(&mut cmd, "the JavaScript build (componentize-js)").await
}

/// componentize-py against the shipped `auditor` world with its defaults, the plugin's own
/// directory and the staged SDK on the module path, `app` as the entry module.
async fn build_python(dir: &Path, wit: &Path, wasm_out: &Path) -> anyhow::Result<()> {
    let python = toolchain::componentize_py().await?;
    let mut cmd = tokio::process::Command::new(python);
    // The package has no `__main__`; this is what its console script runs.
    cmd.args([
        "-c",
        "import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())",
    ])
    .arg("-d")
    .arg(wit)
    .args(["-w", "auditor", "componentize", "-p"])
    .arg(dir)
    .arg("-p")
    .arg(dir.join(STAGE).join("python"))
    .arg(PYTHON_ENTRY.trim_end_matches(".py"))
    .arg("-o")
    .arg(absolute(wasm_out)?)
    .current_dir(dir)
    // An active virtualenv's packages would be bundled into the component.
    .env_remove("VIRTUAL_ENV");
    toolchain::run(&mut cmd, "the Python build (componentize-py)")
        .await
        .map_err(|e| {
            let text = format!("{e:#}");
            match text.split("called trapping stub: ").nth(1) {
                // The snapshot taken at build time ran module-level code that called the host.
                Some(rest) => anyhow::anyhow!(
                    "{PYTHON_ENTRY} (or a module it imports) calls the host at module level ({}), which runs at build time when there is no host: move the call into the auditor's __init__ or audit\n\n{text}",
                    rest.lines().next().unwrap_or_default().trim()
                ),
                None => e,
            }
        })
}

fn node() -> PathBuf {
    std::env::var_os("SIMIAN_NODE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("node"))
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(std::env::current_dir()
        .context("cannot read the working directory")?
        .join(path))
}
