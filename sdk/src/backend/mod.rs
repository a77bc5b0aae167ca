//! Where host calls go: the contract's imports inside a component, the installed
//! `testing::TestHost` natively. Both expose the same functions, so the
//! public wrappers and plugin code are identical on either target.

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::*;

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::*;
