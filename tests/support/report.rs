//! Reading the `simian` CLI's JSON answers in end-to-end tests.

use std::process::Output;

use serde_json::Value;

/// The JSON a successful command printed; a failure panics with its exit code and output.
pub fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "simian failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// The scope of `resource_type` in a `simian sweep --format json` report (one account, one
/// region).
pub fn scope<'a>(report: &'a Value, resource_type: &str) -> &'a Value {
    report["scopes"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["resource_type"] == resource_type))
        .unwrap_or_else(|| panic!("no {resource_type} scope in {report}"))
}
