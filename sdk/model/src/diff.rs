//! What changed between two JSON documents: one algorithm for `simian history --diff`, the
//! console and the notifiers, so every place describes one change the same way.
//!
//! Objects are compared key by key (keys sorted). Arrays holding only scalars are compared as
//! multisets: a member that came or went is one entry at `path[]`, and an order change alone
//! is one `changed` entry for the whole array (the hash saw it, so the history must too).
//! Other arrays are aligned on their unchanged elements first (a longest common subsequence,
//! within a budget), so inserting a rule at the front is one added element rather than every
//! later element changed; elements replaced in place are compared field by field.
//!
//! ```
//! use serde_json::json;
//! use simian_model::diff;
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

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

/// Beyond this many element comparisons an array is compared by position instead of by
/// longest common subsequence, so a huge list cannot stall a notifier or the console.
const LCS_BUDGET: usize = 250_000;

/// Rendered values longer than this are cut, so one policy document cannot fill a mail.
const VALUE_CHARS: usize = 120;

/// The path of the document itself.
pub const ROOT: &str = "$";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffOp {
    Added,
    Removed,
    Changed,
}

impl DiffOp {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffOp::Added => "added",
            DiffOp::Removed => "removed",
            DiffOp::Changed => "changed",
        }
    }
}

/// One difference: the value at `path` before (`old`) and after (`new`); `None` where the path
/// did not exist. A whole added or removed object or array is one entry, not one per leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffEntry {
    /// e.g. `configuration.ipPermissions[0].fromPort`; keys that are not plain identifiers are
    /// quoted (`tags["aws:cloudformation:stack-name"]`); a member of a scalar array is
    /// `path[]`; the document itself is [`ROOT`].
    pub path: String,
    pub op: DiffOp,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

impl DiffEntry {
    pub fn kind(&self) -> DiffOp {
        self.op
    }

    /// `~ path: old → new`, `+ path: new` or `- path: old`, values as compact JSON (long ones
    /// cut with `…`); the root reads `(configuration)`.
    pub fn render(&self) -> String {
        let path = if self.path == ROOT {
            "(configuration)"
        } else {
            &self.path
        };
        let show = |v: &Option<Value>| v.as_ref().map_or_else(|| "-".to_string(), short);
        match self.op {
            DiffOp::Changed => format!("~ {path}: {} → {}", show(&self.old), show(&self.new)),
            DiffOp::Added => format!("+ {path}: {}", show(&self.new)),
            DiffOp::Removed => format!("- {path}: {}", show(&self.old)),
        }
    }
}

/// Every difference from `old` to `new`, in document order.
pub fn diff(old: &Value, new: &Value) -> Vec<DiffEntry> {
    let mut out = Vec::new();
    walk(&mut String::new(), old, new, &mut out);
    out
}

/// One line per entry; more than `max_lines` entries end in `… and N more changes` so the
/// whole stays within `max_lines` lines. Empty for no entries (or `max_lines == 0`).
pub fn render(entries: &[DiffEntry], max_lines: usize) -> String {
    render_lines(entries, max_lines).join("\n")
}

/// [`render`] as separate lines, for formats that lay lines out themselves.
pub fn render_lines(entries: &[DiffEntry], max_lines: usize) -> Vec<String> {
    if max_lines == 0 {
        return Vec::new();
    }
    if entries.len() <= max_lines {
        return entries.iter().map(DiffEntry::render).collect();
    }
    let shown = max_lines - 1;
    let mut lines: Vec<String> = entries[..shown].iter().map(DiffEntry::render).collect();
    let more = entries.len() - shown;
    lines.push(format!(
        "… and {more} more change{}",
        if more == 1 { "" } else { "s" }
    ));
    lines
}

fn walk(path: &mut String, old: &Value, new: &Value, out: &mut Vec<DiffEntry>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => walk_object(path, a, b, out),
        (Value::Array(a), Value::Array(b))
            if a.iter().all(is_scalar) && b.iter().all(is_scalar) =>
        {
            scalar_sets(path, a, b, out)
        }
        (Value::Array(a), Value::Array(b)) => walk_array(path, a, b, out),
        _ if old == new => {}
        _ => out.push(entry(path, Some(old), Some(new))),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn walk_object(
    path: &mut String,
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    out: &mut Vec<DiffEntry>,
) {
    // Sorted explicitly: serde_json keeps insertion order when another crate in the build
    // enables `preserve_order`.
    let mut keys: Vec<&String> = a
        .keys()
        .chain(b.keys().filter(|k| !a.contains_key(*k)))
        .collect();
    keys.sort();
    for key in keys {
        let len = path.len();
        push_key(path, key);
        match (a.get(key), b.get(key)) {
            (Some(old), Some(new)) => walk(path, old, new, out),
            (old, new) => out.push(entry(path, old, new)),
        }
        path.truncate(len);
    }
}

fn scalar_sets(path: &mut String, a: &[Value], b: &[Value], out: &mut Vec<DiffEntry>) {
    if a == b {
        return;
    }
    // Multisets keyed by canonical text so 1 and "1" stay distinct and output is sorted.
    fn count(list: &[Value]) -> BTreeMap<String, (usize, &Value)> {
        let mut m = BTreeMap::new();
        for v in list {
            m.entry(v.to_string()).or_insert((0, v)).0 += 1;
        }
        m
    }
    let (ca, cb) = (count(a), count(b));
    let len = path.len();
    path.push_str("[]");
    let before = out.len();
    for (k, (n, v)) in &ca {
        let kept = cb.get(k).map_or(0, |e| e.0);
        for _ in kept..*n {
            out.push(entry(path, Some(v), None));
        }
    }
    for (k, (n, v)) in &cb {
        let kept = ca.get(k).map_or(0, |e| e.0);
        for _ in kept..*n {
            out.push(entry(path, None, Some(v)));
        }
    }
    path.truncate(len);
    if out.len() == before {
        // Same members, different order.
        out.push(entry(
            path,
            Some(&Value::Array(a.to_vec())),
            Some(&Value::Array(b.to_vec())),
        ));
    }
}

fn walk_array(path: &mut String, a: &[Value], b: &[Value], out: &mut Vec<DiffEntry>) {
    // Runs of unmatched elements between anchors: (old range, new range).
    let mut gaps = Vec::new();
    let (mut i, mut j) = (0, 0);
    for (ai, bj) in anchors(a, b) {
        gaps.push((i..ai, j..bj));
        (i, j) = (ai + 1, bj + 1);
    }
    gaps.push((i..a.len(), j..b.len()));
    for (old, new) in gaps {
        // Elements replaced in place pair up by position within the gap; the rest were
        // removed or added. Removed elements are named by their old index, the others by
        // their new one.
        let paired = old.len().min(new.len());
        for k in 0..paired {
            let len = path.len();
            push_index(path, new.start + k);
            walk(path, &a[old.start + k], &b[new.start + k], out);
            path.truncate(len);
        }
        let removed = old.start + paired..old.end;
        for (k, value) in removed.clone().zip(&a[removed]) {
            let len = path.len();
            push_index(path, k);
            out.push(entry(path, Some(value), None));
            path.truncate(len);
        }
        let added = new.start + paired..new.end;
        for (k, value) in added.clone().zip(&b[added]) {
            let len = path.len();
            push_index(path, k);
            out.push(entry(path, None, Some(value)));
            path.truncate(len);
        }
    }
}

/// Index pairs of equal elements that stay (a longest common subsequence), in order. Past
/// the budget only the common prefix and suffix count.
fn anchors(a: &[Value], b: &[Value]) -> Vec<(usize, usize)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (mid_a, mid_b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut pairs: Vec<(usize, usize)> = (0..prefix).map(|k| (k, k)).collect();
    if mid_a.len().saturating_mul(mid_b.len()) <= LCS_BUDGET {
        pairs.extend(
            lcs(mid_a, mid_b)
                .into_iter()
                .map(|(x, y)| (x + prefix, y + prefix)),
        );
    }
    pairs.extend((0..suffix).map(|k| (a.len() - suffix + k, b.len() - suffix + k)));
    pairs
}

fn lcs(a: &[Value], b: &[Value]) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    // lengths[i * (m + 1) + j]: LCS length of a[i..] and b[j..].
    let mut lengths = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lengths[at(i, j)] = if a[i] == b[j] {
                lengths[at(i + 1, j + 1)] + 1
            } else {
                lengths[at(i + 1, j)].max(lengths[at(i, j + 1)])
            };
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if lengths[at(i + 1, j)] >= lengths[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

fn entry(path: &str, old: Option<&Value>, new: Option<&Value>) -> DiffEntry {
    let op = match (old, new) {
        (None, _) => DiffOp::Added,
        (_, None) => DiffOp::Removed,
        _ => DiffOp::Changed,
    };
    DiffEntry {
        path: if path.is_empty() { ROOT } else { path }.to_string(),
        op,
        old: old.cloned(),
        new: new.cloned(),
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        // A JSON string literal is unambiguous whatever the key holds (dots, brackets,
        // spaces in tag names and policy keys).
        path.push('[');
        path.push_str(&Value::String(key.to_string()).to_string());
        path.push(']');
    }
}

fn push_index(path: &mut String, index: usize) {
    path.push('[');
    path.push_str(&index.to_string());
    path.push(']');
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(old: Value, new: Value) -> Vec<String> {
        diff(&old, &new).iter().map(DiffEntry::render).collect()
    }

    #[test]
    fn equal_documents_have_no_entries() {
        let doc = json!({"a": [1, {"b": null}], "c": "x", "s": [1, 2]});
        assert!(diff(&doc, &doc.clone()).is_empty());
        assert_eq!(render(&[], 5), "");
    }

    #[test]
    fn objects_arrays_and_sets() {
        let old = json!({"a": 1, "b": {"c": [1, 2, 3]}, "d": [{"x": 1}], "gone": true,
            "tags": {"Name.x": "a"}});
        let new = json!({"a": 2, "b": {"c": [3, 4, 1]}, "d": [{"x": 1}, {"y": 2}], "new": null,
            "tags": {"Name.x": "b"}});
        let d = diff(&old, &new);
        let got: Vec<(String, &str)> = d.iter().map(|e| (e.path.clone(), e.op.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("a".to_string(), "changed"),
                ("b.c[]".to_string(), "removed"),
                ("b.c[]".to_string(), "added"),
                ("d[1]".to_string(), "added"),
                ("gone".to_string(), "removed"),
                ("new".to_string(), "added"),
                ("tags[\"Name.x\"]".to_string(), "changed"),
            ]
        );
        assert_eq!(d[1].old, Some(json!(2)));
        assert_eq!(d[2].new, Some(json!(4)));
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn order_only_change_and_root() {
        let d = diff(&json!({"l": [1, 2]}), &json!({"l": [2, 1]}));
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].path.as_str(), d[0].op), ("l", DiffOp::Changed));
        let d = diff(&json!(1), &json!("1"));
        assert_eq!(d[0].path, "$");
        // 1 and "1" are different set members.
        assert_eq!(lines(json!([1]), json!(["1"])), ["- []: 1", "+ []: \"1\""]);
        // Duplicates count.
        assert_eq!(lines(json!(["a", "a"]), json!(["a"])), ["- []: \"a\""]);
    }

    #[test]
    fn nested_changes_name_their_path_and_kind() {
        let old = json!({"ipPermissions": [{"fromPort": 22, "toPort": 22}], "groupName": "web"});
        let new = json!({"ipPermissions": [{"fromPort": 2222, "toPort": 22}], "vpcId": "vpc-1"});
        let entries = diff(&old, &new);
        let summary: Vec<(&str, DiffOp)> = entries
            .iter()
            .map(|e| (e.path.as_str(), e.kind()))
            .collect();
        assert_eq!(
            summary,
            [
                ("groupName", DiffOp::Removed),
                ("ipPermissions[0].fromPort", DiffOp::Changed),
                ("vpcId", DiffOp::Added),
            ]
        );
        assert_eq!(entries[1].old, Some(json!(22)));
        assert_eq!(entries[1].new, Some(json!(2222)));
        assert_eq!(
            render(&entries, 10),
            "- groupName: \"web\"\n~ ipPermissions[0].fromPort: 22 → 2222\n+ vpcId: \"vpc-1\""
        );
    }

    #[test]
    fn keys_come_out_sorted_whatever_the_input_order() {
        let old: Value = serde_json::from_str(r#"{"z": 1, "a": 1, "m": 1}"#).expect("json");
        let new: Value = serde_json::from_str(r#"{"m": 2, "z": 2, "a": 2}"#).expect("json");
        let paths: Vec<String> = diff(&old, &new).into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["a", "m", "z"]);
    }

    #[test]
    fn odd_keys_are_quoted() {
        assert_eq!(
            lines(
                json!({"tags": {"aws:stack": "a", "Name": "x"}}),
                json!({"tags": {"aws:stack": "b", "Name": "x"}})
            ),
            ["~ tags[\"aws:stack\"]: \"a\" → \"b\""]
        );
        assert_eq!(lines(json!({"": 1}), json!({})), ["- [\"\"]: 1"]);
    }

    #[test]
    fn inserted_array_element_is_one_addition() {
        let rule = |port: u16| json!({"fromPort": port, "ipRanges": ["10.0.0.0/8"]});
        let old = json!({"ipPermissions": [rule(22), rule(443)]});
        let new = json!({"ipPermissions": [rule(3389), rule(22), rule(443)]});
        assert_eq!(
            lines(old, new),
            ["+ ipPermissions[0]: {\"fromPort\":3389,\"ipRanges\":[\"10.0.0.0/8\"]}"]
        );
    }

    #[test]
    fn removed_and_replaced_elements() {
        assert_eq!(
            lines(
                json!([{"p": 1}, {"p": 2}, {"p": 3}]),
                json!([{"p": 1}, {"p": 3}])
            ),
            ["- [1]: {\"p\":2}"]
        );
        assert_eq!(
            lines(json!([1, 2, 3, 4]), json!([1, 3])),
            ["- []: 2", "- []: 4"]
        );
        // Replaced in place: compared field by field under the new index.
        assert_eq!(
            lines(
                json!([{"p": 1}, "keep", {"p": 2}]),
                json!(["new", "keep", {"p": 3}])
            ),
            ["~ [0]: {\"p\":1} → \"new\"", "~ [2].p: 2 → 3"]
        );
        assert_eq!(lines(json!([]), json!([null])), ["+ []: null"]);
        assert_eq!(lines(json!([]), json!([{}])), ["+ [0]: {}"]);
    }

    #[test]
    fn huge_arrays_fall_back_to_positions() {
        let old: Vec<Value> = (0..1000).map(|n| json!({ "n": n })).collect();
        let mut new: Vec<Value> = (0..1000).map(|n| json!({ "n": n + 5000 })).collect();
        new[999] = json!({"n": 999});
        new[0] = json!({"n": 0});
        let entries = diff(&json!(old), &json!(new));
        // Prefix and suffix anchor; the 998 in between change in place.
        assert_eq!(entries.len(), 998);
        assert_eq!(entries[0].render(), "~ [1].n: 1 → 5001");
    }

    #[test]
    fn type_changes_and_root() {
        assert_eq!(
            lines(json!({"a": {"b": 1}}), json!({"a": [1]})),
            ["~ a: {\"b\":1} → [1]"]
        );
        assert_eq!(
            lines(json!(null), json!({})),
            ["~ (configuration): null → {}"]
        );
        assert_eq!(lines(json!(1), json!(1.0)), ["~ (configuration): 1 → 1.0"]);
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(500);
        let line = &lines(json!({"p": long}), json!({"p": 1}))[0];
        assert!(line.starts_with("~ p: \"xxx"), "{line}");
        assert!(line.ends_with("… → 1"), "{line}");
        assert!(line.chars().count() < 140, "{line}");
    }

    #[test]
    fn render_caps_lines() {
        let old = json!({"a": 1, "b": 1, "c": 1, "d": 1});
        let new = json!({"a": 2, "b": 2, "c": 2, "d": 2});
        let entries = diff(&old, &new);
        assert_eq!(render(&entries, 4).lines().count(), 4);
        assert_eq!(
            render(&entries, 3),
            "~ a: 1 → 2\n~ b: 1 → 2\n… and 2 more changes"
        );
        assert_eq!(render(&entries, 1), "… and 4 more changes");
        assert_eq!(render(&entries, 0), "");
        assert_eq!(render_lines(&entries[..2], 1), ["… and 2 more changes"]);
        assert_eq!(render_lines(&entries[..1], 1), ["~ a: 1 → 2"]);
    }

    #[test]
    fn entries_serialize_with_their_op() {
        let d = diff(&json!({"a": 1}), &json!({}));
        assert_eq!(
            serde_json::to_value(&d).expect("json"),
            json!([{"path": "a", "op": "removed", "old": 1, "new": null}])
        );
    }
}
