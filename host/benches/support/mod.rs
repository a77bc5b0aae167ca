//! Shared by the benchmarks: where cargo puts things, and the shipped plugins built as components.

use std::path::{Path, PathBuf};

pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("exe");
    exe.ancestors()
        .nth(3)
        .expect("<target>/<profile>/deps/bench")
        .to_path_buf()
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Build (if needed) and read the shipped plugin `id` (package `simian-plugin-<id>`, e.g.
/// `sg-internet-accessible`) as a component.
pub fn plugin_wasm(id: &str) -> Vec<u8> {
    let package = format!("simian-plugin-{id}");
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(workspace())
            .env("CARGO_TARGET_DIR", target_dir())
            .args([
                "build",
                "-q",
                "--target",
                "wasm32-wasip2",
                "--profile",
                "plugin",
                "-p",
                package.as_str(),
            ])
            .status()
            .expect("run cargo");
    assert!(status.success(), "{package}: plugin build failed");
    let file = format!("{}.wasm", package.replace('-', "_"));
    std::fs::read(target_dir().join("wasm32-wasip2/plugin").join(&file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}
