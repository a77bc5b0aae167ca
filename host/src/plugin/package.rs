//! A plugin package on disk: one directory under the plugins dir, named after the plugin's id,
//! holding `plugin.toml` and the component.
//!
//! Owns reading it safely and exactly once: regular files only (a FIFO, device or socket is
//! refused without blocking), no symlinks leading out of the plugins directory, a size cap
//! checked before reading. It must never compile or run what it reads.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::manifest::{MANIFEST_FILE, Manifest, ManifestError};

/// A manifest larger than this is not a manifest.
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PackageError {
    pub path: PathBuf,
    pub message: String,
}

/// The files of a plugin directory, read once so what is validated is what runs.
pub struct PluginFiles {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub wasm_path: PathBuf,
    pub wasm: Vec<u8>,
    /// SHA-256 of the component alone (what `sha256sum` prints): the operator's pin.
    pub wasm_sha256: String,
    /// Hash of manifest and wasm together: a reload with the same hash is a no-op.
    pub content_hash: String,
}

impl PluginFiles {
    /// Read `dir` (a direct child of `root`, the plugins directory), refusing any file over
    /// `max_bytes`.
    pub fn read(dir: &Path, root: &Path, max_bytes: u64) -> Result<PluginFiles, ReadError> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest_bytes = read_regular(&manifest_path, root, max_bytes.min(MAX_MANIFEST_BYTES))?;
        let manifest_text = String::from_utf8(manifest_bytes).map_err(|_| PackageError {
            path: manifest_path.clone(),
            message: "is not UTF-8 text".into(),
        })?;
        let manifest = Manifest::parse(&manifest_text, &manifest_path)?;
        let wasm_path = dir.join(manifest.wasm_file());
        let wasm = read_regular(&wasm_path, root, max_bytes)?;
        let wasm_sha256 = hex::encode(Sha256::digest(&wasm));
        let mut h = Sha256::new();
        h.update(manifest_text.as_bytes());
        h.update([0u8]);
        h.update(&wasm);
        Ok(PluginFiles {
            dir: dir.to_path_buf(),
            manifest,
            wasm_path,
            wasm,
            wasm_sha256,
            content_hash: hex::encode(h.finalize()),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Package(#[from] PackageError),
}

/// The bytes of `path`, which must be a regular file no larger than `max_bytes`, inside `root`
/// once symlinks are resolved.
pub fn read_regular(path: &Path, root: &Path, max_bytes: u64) -> Result<Vec<u8>, PackageError> {
    let fail = |message: String| PackageError {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::symlink_metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let real = if meta.file_type().is_symlink() {
        let real = std::fs::canonicalize(path)
            .map_err(|e| fail(format!("is a symlink that does not resolve: {e}")))?;
        let root = std::fs::canonicalize(root)
            .map_err(|e| fail(format!("plugins directory {}: {e}", root.display())))?;
        if !real.starts_with(&root) {
            return Err(fail(format!(
                "is a symlink to {}, outside the plugins directory; plugin files must be inside it",
                real.display()
            )));
        }
        real
    } else {
        path.to_path_buf()
    };
    // Non-blocking and not following a link swapped in since: opening a FIFO must not wait for
    // a writer, and the type is checked on what was actually opened.
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(&real)
        .map_err(|e| fail(format!("cannot open: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(fail(format!(
            "is not a regular file ({}); plugin files must be regular files",
            file_kind(&meta.file_type())
        )));
    }
    if meta.len() > max_bytes {
        return Err(too_large(path, max_bytes));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&mut file)
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    // It may have grown since the size was checked.
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(path, max_bytes));
    }
    Ok(bytes)
}

fn too_large(path: &Path, max_bytes: u64) -> PackageError {
    PackageError {
        path: path.to_path_buf(),
        message: format!(
            "is larger than {} MiB, the most simian reads (plugins.max_file_mib)",
            (max_bytes as f64 / (1024.0 * 1024.0)).ceil()
        ),
    }
}

fn file_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_special_files_symlinks_out_and_oversized_files() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("p");
        std::fs::create_dir(&dir).expect("dir");
        let ok = dir.join("ok.wasm");
        std::fs::write(&ok, b"12345").expect("write");
        assert_eq!(read_regular(&ok, root.path(), 5).expect("fits"), b"12345");
        let e = read_regular(&ok, root.path(), 4).expect_err("too large");
        assert!(e.to_string().contains("larger than"), "{e}");

        // A link inside the plugins dir is fine; one leading out of it (to /dev/zero) is not.
        let inside = dir.join("inside.wasm");
        std::os::unix::fs::symlink(&ok, &inside).expect("symlink");
        assert_eq!(
            read_regular(&inside, root.path(), 5).expect("inside"),
            b"12345"
        );
        let zero = dir.join("zero.wasm");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        let e = read_regular(&zero, root.path(), 64 << 20).expect_err("outside");
        assert!(
            e.to_string().contains("outside the plugins directory"),
            "{e}"
        );

        // A FIFO is refused at once instead of waiting for a writer.
        let fifo = dir.join("plugin.toml");
        let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("c path");
        // SAFETY: mkfifo only reads the NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_regular(&fifo, root.path(), 1024).expect_err("fifo");
        assert!(e.to_string().contains("FIFO"), "{e}");
    }
}
