//! The `files` grant's guard: a plugin opens only regular files and directories inside the
//! directories the operator granted.
//!
//! WASI's `open-at` runs the host `open(2)` on a blocking thread; opening a FIFO (or a device)
//! waits for a writer forever, so every call that tried would leak a thread until the runtime
//! starved. This module shadows that one function in the linker: it looks at what the path
//! names first (within the same sandbox, without opening it) and refuses anything else, then
//! hands over to wasmtime-wasi. It must never widen what wasmtime-wasi allows.

use std::path::Path;

use cap_primitives::fs::FollowSymlinks;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self as fs, DescriptorFlags, ErrorCode, HostDescriptor, OpenFlags, PathFlags,
};

/// The `wasi:filesystem` version wasmtime-wasi defines its instance under.
const TYPES_INSTANCE: &str = "wasi:filesystem/types@0.2.12";

/// Replace `[method]descriptor.open-at` with the guarded one. Call after WASI is linked.
pub fn guard_open_at<T: WasiFilesystemView + 'static>(
    linker: &mut Linker<T>,
) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker
        .instance(TYPES_INSTANCE)
        .map_err(|e| anyhow::anyhow!("{TYPES_INSTANCE}: {e}"))?;
    types
        .func_wrap_async(
            "[method]descriptor.open-at",
            |mut store: wasmtime::StoreContextMut<'_, T>,
             (fd, path_flags, path, oflags, flags): (
                Resource<Descriptor>,
                PathFlags,
                String,
                OpenFlags,
                DescriptorFlags,
            )| {
                Box::new(async move {
                    let mut view = store.data_mut().filesystem();
                    if let Err(code) = refuse_special(&view, &fd, path_flags, &path) {
                        return Ok((Err(code),));
                    }
                    match HostDescriptor::open_at(&mut view, fd, path_flags, path, oflags, flags)
                        .await
                    {
                        Ok(opened) => Ok((Ok(opened),)),
                        Err(e) => Ok((Err(fs::Host::convert_error_code(&mut view, e)?),)),
                    }
                })
            },
        )
        .map_err(|e| anyhow::anyhow!("guarding open-at: {e}"))?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Refuse opening anything but a regular file or a directory. A path that cannot be looked up
/// is left to `open-at` itself, which then gives the right error.
fn refuse_special(
    view: &wasmtime_wasi::filesystem::WasiFilesystemCtxView<'_>,
    fd: &Resource<Descriptor>,
    path_flags: PathFlags,
    path: &str,
) -> Result<(), ErrorCode> {
    let Ok(Descriptor::Dir(dir)) = view.table.get(fd) else {
        return Ok(());
    };
    let follow = if path_flags.contains(PathFlags::SYMLINK_FOLLOW) {
        FollowSymlinks::Yes
    } else {
        FollowSymlinks::No
    };
    // `stat` resolves the path inside the directory the same way the open would (no `..` or
    // symlink out of it) and does not open the file, so it never blocks on a FIFO.
    let Ok(meta) = cap_primitives::fs::stat(&dir.dir, Path::new(path), follow) else {
        return Ok(());
    };
    let kind = meta.file_type();
    if kind.is_file() || kind.is_dir() || kind.is_symlink() {
        Ok(())
    } else {
        Err(ErrorCode::Access)
    }
}
