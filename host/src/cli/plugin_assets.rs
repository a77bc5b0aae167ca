//! What this binary carries for Python and JavaScript plugin authors: the contract's WIT, the
//! Python and JS SDKs, their templates and the JS toolchain's lockfile, all compiled in, so
//! `simian plugin new|build` work from an installed binary with no source tree beside it.
//!
//! Owns staging those files into a plugin's `.simian/` directory. It must never write outside
//! the plugin directory it is given.

use std::path::Path;

use anyhow::Context;
use include_dir::{Dir, DirEntry, include_dir};

use super::plugin_lang::Lang;

static WIT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../wit/since_v0.1.0");
static JS_SDK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk/js");
static PYTHON_SDK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk/python/simian_sdk");
pub static JS_TEMPLATE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk/template/js");
pub static PYTHON_TEMPLATE: Dir<'static> =
    include_dir!("$CARGO_MANIFEST_DIR/../sdk/template/python");
pub static JS_TOOLCHAIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk/js/toolchain");

/// The directory inside a plugin that `new` and `build` own and refresh.
pub const STAGE: &str = ".simian";

/// The JS SDK's runtime files: not its own tests (`node --test` in a plugin would run them),
/// toolchain or docs.
fn js_runtime(path: &Path) -> bool {
    let top = path
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str());
    match top {
        Some("test" | "toolchain" | "node_modules") => false,
        _ => {
            path.extension().is_some_and(|e| e == "js" || e == "mjs")
                || path == Path::new("package.json")
        }
    }
}

fn python_runtime(path: &Path) -> bool {
    !path.components().any(|c| c.as_os_str() == "__pycache__")
        && path.extension().is_some_and(|e| e == "py" || e == "typed")
}

/// Write `<plugin>/.simian/wit/` and the language's SDK (`.simian/js/` or
/// `.simian/python/simian_sdk/`), replacing what an older simian staged there.
pub fn stage(plugin_dir: &Path, lang: Lang) -> anyhow::Result<()> {
    let stage = plugin_dir.join(STAGE);
    let (sdk, into, keep): (&Dir, &str, fn(&Path) -> bool) = match lang {
        Lang::Js => (&JS_SDK, "js", js_runtime),
        Lang::Python => (&PYTHON_SDK, "python/simian_sdk", python_runtime),
        Lang::Rust => return Ok(()),
    };
    replace_tree(&WIT, &stage.join("wit"), |_| true)?;
    replace_tree(sdk, &stage.join(into), keep)
}

fn replace_tree(dir: &Dir, target: &Path, keep: fn(&Path) -> bool) -> anyhow::Result<()> {
    if target.exists() {
        std::fs::remove_dir_all(target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
    }
    write_tree(dir, target, keep)
}

/// Write every file of `dir` that `keep` accepts under `target`, keeping its relative path.
pub fn write_tree(dir: &Dir, target: &Path, keep: fn(&Path) -> bool) -> anyhow::Result<()> {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => write_tree(sub, target, keep)?,
            DirEntry::File(file) => {
                // Paths inside an include_dir tree are relative to its root.
                let rel = file.path();
                if !keep(rel) {
                    continue;
                }
                let path = target.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                std::fs::write(&path, file.contents())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    Ok(())
}
