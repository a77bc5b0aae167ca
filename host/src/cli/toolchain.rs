//! The pinned toolchains that turn Python and JavaScript plugins into components:
//! componentize-py from PyPI (in a venv) and componentize-js from npm, installed once per
//! version under the user's cache directory.
//!
//! Owns where they live, which versions, and installing them so that concurrent builds never
//! see half an install. It must never run a plugin build itself (that is `plugin_build`).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use sha2::Digest;

use super::plugin_assets::JS_TOOLCHAIN;

/// componentize-py from PyPI; bump only with a measured note in docs/plugins.md.
pub const COMPONENTIZE_PY: &str = "0.25.1";
/// `@bytecodealliance/componentize-js` from npm.
pub const COMPONENTIZE_JS: &str = "0.23.0";

/// `$SIMIAN_TOOLCHAINS`, else `$XDG_CACHE_HOME/simian/toolchains`, else
/// `~/.cache/simian/toolchains`.
pub fn root() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SIMIAN_TOOLCHAINS").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("simian/toolchains"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("cannot place the plugin toolchains: set SIMIAN_TOOLCHAINS or HOME")?;
    Ok(PathBuf::from(home).join(".cache/simian/toolchains"))
}

/// The Python interpreter of the componentize-py venv, installing it first if needed.
pub async fn componentize_py() -> anyhow::Result<PathBuf> {
    let dir = root()?.join(format!("componentize-py-{COMPONENTIZE_PY}"));
    let stamp = format!("componentize-py=={COMPONENTIZE_PY}");
    install(&dir, &stamp, |tmp| async move {
        let base = std::env::var("SIMIAN_PYTHON").unwrap_or_else(|_| "python3".into());
        run(
            tokio::process::Command::new(&base)
                .args(["-m", "venv"])
                .arg(&tmp),
            &format!("{base} -m venv (is Python 3 with venv installed?)"),
        )
        .await?;
        run(
            tokio::process::Command::new(tmp.join("bin/python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .arg(format!("componentize-py=={COMPONENTIZE_PY}")),
            &format!("pip install componentize-py=={COMPONENTIZE_PY}"),
        )
        .await
    })
    .await?;
    // Through the interpreter, not the venv's console script: its shebang names the
    // directory it was installed in, before the rename.
    Ok(dir.join("bin/python"))
}

/// The componentize-js toolchain directory (componentize-js, its runtime shim and the rolldown
/// bundler, exactly as the embedded lockfile pins them), installing it first if needed.
pub async fn componentize_js() -> anyhow::Result<PathBuf> {
    let dir = root()?.join(format!("componentize-js-{COMPONENTIZE_JS}"));
    let lock = JS_TOOLCHAIN
        .get_file("package-lock.json")
        .context("the JS toolchain lockfile is missing from this build")?;
    let stamp = hex::encode(sha2::Sha256::digest(lock.contents()));
    install(&dir, &stamp, |tmp| async move {
        std::fs::create_dir_all(&tmp)?;
        super::plugin_assets::write_tree(&JS_TOOLCHAIN, &tmp, |p| {
            p == Path::new("package.json") || p == Path::new("package-lock.json")
        })?;
        run(
            tokio::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
                .arg(&tmp),
            &format!(
                "npm ci of componentize-js {COMPONENTIZE_JS} (is Node.js 20.19 or later with npm installed?)"
            ),
        )
        .await
    })
    .await?;
    Ok(dir)
}

/// The file whose content says which install a toolchain directory holds; written last.
const STAMP: &str = ".simian-stamp";

/// Install into a fresh sibling directory, then rename it into place: a build running beside
/// this one sees either the old toolchain or the whole new one. Losing the race to another
/// installer is fine; its copy is as good.
async fn install<F, Fut>(dir: &Path, stamp: &str, fill: F) -> anyhow::Result<()>
where
    F: FnOnce(PathBuf) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let ready = |d: &Path| std::fs::read_to_string(d.join(STAMP)).is_ok_and(|s| s == stamp);
    if ready(dir) {
        return Ok(());
    }
    let parent = dir.parent().context("toolchain directory has no parent")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("toolchain directory has no name")?;
    let tmp = parent.join(format!(".{name}.{}.partial", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!("installing {name} into {} (once)", dir.display());
    if let Err(e) = fill(tmp.clone()).await {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    std::fs::write(tmp.join(STAMP), stamp)?;
    if ready(dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Ok(());
    }
    // An older or half-made install would block the rename.
    let _ = std::fs::remove_dir_all(dir);
    if let Err(e) = std::fs::rename(&tmp, dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        if !ready(dir) {
            bail!("cannot move the toolchain into {}: {e}", dir.display());
        }
    }
    Ok(())
}

/// Run a command to completion; on failure, its own output is the error.
pub async fn run(cmd: &mut tokio::process::Command, what: &str) -> anyhow::Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
