//! The plugin contract stays what was released: every `wit/since_v*` directory hashes to the
//! digest pinned when it was released, the SDK carries an identical copy, `cargo package -p
//! simian-sdk` works, and the template builds against the packaged SDK outside the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

use simian_tests::{target_dir, workspace};

/// Released contract versions and the SHA-256 of their WIT files (`sha256sum` of each file,
/// in name order). A new version is pinned when it is released; a pinned one never changes.
const RELEASED: &[(&str, &[(&str, &str)])] = &[(
    "since_v0.1.0",
    &[(
        "plugin.wit",
        "7466fecde9231abb434d07bbf439264d2f8647592dcc447b78adc25bfcb144c3",
    )],
)];

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_string()
}

fn wit_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wit"))
        .collect();
    names.sort();
    names
}

#[test]
fn released_contracts_are_frozen_and_the_sdk_carries_them_unchanged() {
    let canonical = workspace().join("wit");
    let packaged = workspace().join("sdk/wit");
    let mut versions: Vec<String> = std::fs::read_dir(&canonical)
        .expect("wit/")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    versions.sort();
    let pinned: Vec<&str> = RELEASED.iter().map(|(v, _)| *v).collect();
    assert_eq!(
        versions, pinned,
        "every wit/since_v* directory is a released, pinned contract"
    );
    for (version, files) in RELEASED {
        for root in [&canonical, &packaged] {
            let dir = root.join(version);
            let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
            assert_eq!(wit_files(&dir), names, "{}", dir.display());
            for (name, digest) in *files {
                assert_eq!(
                    sha256(&dir.join(name)),
                    *digest,
                    "{} changed: released contracts are frozen (add a new version instead)",
                    dir.join(name).display()
                );
            }
        }
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_template_builds_against_the_packaged_sdk_outside_the_workspace() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let package_target = target_dir().join("sdk-package");
    // The SDK and the model crate it depends on are published together.
    run(Command::new(&cargo)
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", &package_target)
        .args([
            "package",
            "-p",
            "simian-model",
            "-p",
            "simian-sdk",
            "--allow-dirty",
            "--no-verify",
        ]));
    let version = env!("CARGO_PKG_VERSION");
    let scratch = tempfile::tempdir().expect("tempdir");
    for name in ["simian-model", "simian-sdk"] {
        let archive = package_target.join(format!("package/{name}-{version}.crate"));
        assert!(archive.exists(), "{} was not written", archive.display());
        run(Command::new("tar")
            .arg("xzf")
            .arg(&archive)
            .arg("-C")
            .arg(scratch.path()));
    }
    let sdk: PathBuf = scratch.path().join(format!("simian-sdk-{version}"));
    let model: PathBuf = scratch.path().join(format!("simian-model-{version}"));
    assert!(sdk.join("wit/since_v0.1.0/plugin.wit").exists());
    let packaged_manifest = std::fs::read_to_string(sdk.join("Cargo.toml")).expect("Cargo.toml");
    let model_dep = packaged_manifest
        .split("[dependencies.simian-model]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap_or_default();
    assert!(
        model_dep.contains("version") && !model_dep.contains("path"),
        "the packaged SDK must depend on simian-model by version: {packaged_manifest}"
    );

    // A plugin author's crate, outside the workspace, on the packaged SDK.
    let simian = simian_tests::simian_bin();
    let crate_dir = scratch.path().join("packaged-check");
    let templates = target_dir().join("template-plugins");
    run(Command::new(&simian)
        .env("CARGO_TARGET_DIR", &templates)
        .args([
            "plugin",
            "new",
            "packaged-check",
            "--kind",
            "auditor",
            "--dir",
        ])
        .arg(&crate_dir)
        .arg("--sdk")
        .arg(&sdk));
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains(&sdk.display().to_string()), "{manifest}");
    // Until they are on crates.io, the packaged model stands in for the published one.
    std::fs::write(
        crate_dir.join("Cargo.toml"),
        format!(
            "{manifest}\n[patch.crates-io]\nsimian-model = {{ path = {:?} }}\n",
            model.display().to_string()
        ),
    )
    .expect("patch");
    let out = scratch.path().join("out");
    run(Command::new(&simian)
        .env("CARGO_TARGET_DIR", &templates)
        .args(["plugin", "build"])
        .arg(&crate_dir)
        .arg("--out")
        .arg(&out));
    assert!(out.join("packaged-check.wasm").exists());
}
