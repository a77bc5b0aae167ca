//! What changed between two JSON configurations, for notifiers to show: the very diff the
//! host's history shows (`simian-model`'s), plus reading the two texts a [`Change`] carries.
//!
//! ```
//! use serde_json::json;
//! use simian_sdk::diff;
//!
//! let old = json!({"ipPermissions": [{"fromPort": 22}], "description": "web"});
//! let new = json!({"ipPermissions": [{"fromPort": 2222}], "vpcId": "vpc-1"});
//! let entries = diff::diff(&old, &new);
//! assert_eq!(
//!     diff::render(&entries, 10),
//!     "- description: \"web\"\n\
//!      ~ ipPermissions[0].fromPort: 22 → 2222\n\
//!      + vpcId: \"vpc-1\""
//! );
//! ```
//!
//! [`Change`]: crate::Change

use serde_json::Value;
pub use simian_model::diff::{DiffEntry, DiffOp, ROOT, diff, render, render_lines};

use crate::Error;

/// The kind of one entry (added, removed, changed); the same type as [`DiffOp`].
pub type DiffKind = DiffOp;

/// [`diff`] of two JSON texts, e.g. `Change::previous_configuration` and
/// `Item::configuration`; the error says which side is not JSON.
pub fn diff_json(old: &str, new: &str) -> Result<Vec<DiffEntry>, Error> {
    let parse = |text: &str, which: &str| {
        serde_json::from_str::<Value>(text).map_err(|e| Error::from(e).context(which))
    };
    Ok(diff(
        &parse(old, "previous configuration")?,
        &parse(new, "configuration")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_json_names_the_bad_side() {
        assert_eq!(
            diff_json(r#"{"a":1}"#, r#"{"a":2}"#).map(|e| e.len()),
            Ok(1)
        );
        let e = diff_json("{", "{}").expect_err("bad old");
        assert!(e.message().starts_with("previous configuration: "), "{e}");
        let e = diff_json("{}", "nope").expect_err("bad new");
        assert!(e.message().starts_with("configuration: "), "{e}");
    }
}
