//! IPv4 and IPv6 CIDR blocks, kept in canonical form (host bits cleared).
//!
//! The same code the host runs (`simian-model`); a parse failure converts into [`crate::Error`].

pub use simian_model::cidr::*;
