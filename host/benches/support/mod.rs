//! Shared by the benchmarks: where cargo puts things, and the example rule built as a component.

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

/// Build (if needed) and read the `sg-internet-accessible` component.
pub fn example_plugin_wasm() -> Vec<u8> {
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
                "simian-plugin-sg-internet-accessible",
            ])
            .status()
            .expect("run cargo");
    assert!(status.success(), "plugin build failed");
    std::fs::read(
        target_dir().join("wasm32-wasip2/plugin/simian_plugin_sg_internet_accessible.wasm"),
    )
    .expect("plugin wasm")
}
