//! `--at TIME` for `simian items`, `issues`, `report` and `history`: parsing the moment and
//! the few lines the commands share when they answer as of it.
//!
//! Owns only that; the reads themselves are the store's (`items_at`, `issues_at`,
//! `revision_at`). It must never write to the store.

use serde_json::Value;

use crate::store::{Revision, Store};

/// clap's parser for `--at`: a bad moment is a usage error that names the flag.
pub fn parse_at(text: &str) -> Result<i64, String> {
    crate::when::parse_instant(text).map_err(|e| e.to_string())
}

/// Add `"at"` (unix ms) to a command's JSON object when answering as of a moment.
pub fn mark(mut doc: Value, at: Option<i64>) -> Value {
    if let (Some(at), Some(map)) = (at, doc.as_object_mut()) {
        map.insert("at".into(), Value::from(at));
    }
    doc
}

/// The line tables print first when answering as of a moment.
pub fn banner(at: Option<i64>) {
    if let Some(at) = at {
        println!("as of {} ({at})", crate::when::rfc3339(at));
    }
}

/// `history --at`: the revision in force (a list of at most one) and, for `--diff`, the
/// document before it. Unknown keys are an error; a known item with nothing yet at `at` is
/// an empty list (it did not exist then).
pub async fn revision_at(
    store: &Store,
    key: &str,
    at: i64,
    with_diff: bool,
) -> anyhow::Result<(Vec<Revision>, Option<Value>)> {
    let Some(rev) = store.revision_at(key, at).await? else {
        if store.history(key).await?.is_empty() {
            anyhow::bail!(
                "no item with ARN or id `{}` in the store",
                crate::text::escape_controls(key)
            );
        }
        return Ok((Vec::new(), None));
    };
    let before = if with_diff {
        store.previous_document(rev.item_id, rev.id).await?
    } else {
        None
    };
    Ok((vec![rev], before))
}
