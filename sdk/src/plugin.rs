//! The traits a plugin implements, and the calling conventions shared by the wasm exports
//! and the native test harness (so both behave the same).

use crate::{Change, CheckInfo, Error, Issue, Item};

/// A plugin that judges items. Register it with [`register_auditor!`](crate::register_auditor).
///
/// Its id, version, kind and resource types are stated once, in `plugin.toml`: the host reads
/// them from there.
///
/// `new` runs once per plugin instance, on the first batch; the instance then serves every
/// later batch, so expensive setup (reading settings, compiling patterns) belongs there.
pub trait Auditor: Sized {
    fn new() -> Result<Self, Error>;

    /// The checks it can raise, for listings and operator overrides.
    fn checks() -> Vec<CheckInfo> {
        Vec::new()
    }

    /// The issues found on one item, or why it could not be audited.
    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error>;

    /// One result per item, in order. Override to share work across a batch.
    fn audit_batch(&self, items: &[Item]) -> Vec<Result<Vec<Issue>, Error>> {
        items.iter().map(|item| self.audit(item)).collect()
    }
}

/// A plugin that delivers news of changes. Register it with
/// [`register_notifier!`](crate::register_notifier).
///
/// Its id, version and kind are stated once, in `plugin.toml`.
pub trait Notifier: Sized {
    fn new() -> Result<Self, Error>;

    fn notify(&self, changes: &[Change]) -> Result<(), Error>;
}

/// Audit a batch with an instance that may have failed to start: then every item gets that
/// error. A wrong result count from `audit_batch` would make the host misattribute issues,
/// so it becomes an error on every item instead.
pub(crate) fn run_audit<A: Auditor>(
    instance: &Result<A, Error>,
    items: &[Item],
) -> Vec<Result<Vec<Issue>, Error>> {
    let auditor = match instance {
        Ok(auditor) => auditor,
        Err(e) => {
            let e = e.clone().context("plugin failed to start");
            return items.iter().map(|_| Err(e.clone())).collect();
        }
    };
    let results = auditor.audit_batch(items);
    if results.len() == items.len() {
        return results;
    }
    let e = Error::new(format!(
        "audit_batch returned {} results for {} items",
        results.len(),
        items.len()
    ));
    items.iter().map(|_| Err(e.clone())).collect()
}

pub(crate) fn run_notify<N: Notifier>(
    instance: &Result<N, Error>,
    changes: &[Change],
) -> Result<(), Error> {
    match instance {
        Ok(notifier) => notifier.notify(changes),
        Err(e) => Err(e.clone().context("plugin failed to start")),
    }
}
