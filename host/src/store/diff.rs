//! A structured, deterministic diff of two JSON documents, for `simian history --diff`.
//!
//! Owns comparing two revisions' documents. It must never read the database or decide what
//! is durable: it shows every difference it is given.
//!
//! Objects are compared by key (sorted); arrays holding only scalars as multisets (an order
//! change alone is one `changed` entry for the array); other arrays element by element.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffEntry {
    /// Same syntax as ephemeral paths: `configuration.ipPermissions[0].toPort`; a set member
    /// of a scalar array is `path[]`; the document root is `$`.
    pub path: String,
    pub op: DiffOp,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// Every difference from `old` to `new`, in path order.
pub fn diff(old: &Value, new: &Value) -> Vec<DiffEntry> {
    let mut out = Vec::new();
    walk("", old, new, &mut out);
    out
}

fn child_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ':' || c == '@');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        // Keys with dots, brackets or spaces (tag names, policy keys) stay unambiguous.
        (_, false) => format!("{path}[{}]", Value::String(key.to_string())),
    }
}

fn shown(path: &str) -> String {
    if path.is_empty() {
        "$".to_string()
    } else {
        path.to_string()
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<DiffEntry>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let p = child_key(path, key);
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => walk(&p, x, y, out),
                    (Some(x), None) => out.push(DiffEntry {
                        path: p,
                        op: DiffOp::Removed,
                        old: Some(x.clone()),
                        new: None,
                    }),
                    (None, Some(y)) => out.push(DiffEntry {
                        path: p,
                        op: DiffOp::Added,
                        old: None,
                        new: Some(y.clone()),
                    }),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b))
            if a.iter().all(is_scalar) && b.iter().all(is_scalar) =>
        {
            scalar_sets(path, a, b, out)
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let p = format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => walk(&p, x, y, out),
                    (Some(x), None) => out.push(DiffEntry {
                        path: p,
                        op: DiffOp::Removed,
                        old: Some(x.clone()),
                        new: None,
                    }),
                    (None, Some(y)) => out.push(DiffEntry {
                        path: p,
                        op: DiffOp::Added,
                        old: None,
                        new: Some(y.clone()),
                    }),
                    (None, None) => {}
                }
            }
        }
        _ => out.push(DiffEntry {
            path: shown(path),
            op: DiffOp::Changed,
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
    }
}

fn scalar_sets(path: &str, a: &[Value], b: &[Value], out: &mut Vec<DiffEntry>) {
    // Multisets keyed by canonical text so 1 and "1" stay distinct and output is sorted.
    let count = |list: &[Value]| {
        let mut m = std::collections::BTreeMap::<String, (usize, Value)>::new();
        for v in list {
            m.entry(v.to_string()).or_insert((0, v.clone())).0 += 1;
        }
        m
    };
    let (ca, cb) = (count(a), count(b));
    let member = format!("{path}[]");
    let mut any = false;
    for (k, (n, v)) in &ca {
        let m = cb.get(k).map_or(0, |e| e.0);
        for _ in m..*n {
            any = true;
            out.push(DiffEntry {
                path: member.clone(),
                op: DiffOp::Removed,
                old: Some(v.clone()),
                new: None,
            });
        }
    }
    for (k, (n, v)) in &cb {
        let m = ca.get(k).map_or(0, |e| e.0);
        for _ in m..*n {
            any = true;
            out.push(DiffEntry {
                path: member.clone(),
                op: DiffOp::Added,
                old: None,
                new: Some(v.clone()),
            });
        }
    }
    if !any {
        // Same members, different order: still a difference the hash saw.
        out.push(DiffEntry {
            path: shown(path),
            op: DiffOp::Changed,
            old: Some(Value::Array(a.to_vec())),
            new: Some(Value::Array(b.to_vec())),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    }
}
