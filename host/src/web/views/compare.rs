//! Items or revisions aligned path by path.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::item_id;
use crate::web::Shared;
use crate::web::error::WebError;
use crate::web::params::Params;

pub const COMPARE_PARAMS: &[&str] = &["items", "item", "from", "to"];

/// Documents side by side: one row per leaf path present in any of them.
pub struct Comparison {
    pub columns: Vec<String>,
    pub column_links: Vec<String>,
    pub rows: Vec<CompareRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub path: String,
    /// Compact JSON per column; `None` where the path is absent.
    pub values: Vec<Option<String>>,
    pub differs: bool,
}

impl Comparison {
    pub fn to_json(&self) -> Value {
        json!({ "columns": self.columns, "rows": self.rows })
    }
}

/// `items=1,2[,3,4]` compares items' current configurations (with tags and region);
/// `item=ID&from=R1&to=R2` two revisions of one item.
pub async fn compare(s: &Shared, params: &Params) -> Result<Comparison, WebError> {
    let mut columns = Vec::new();
    let mut links = Vec::new();
    let mut docs = Vec::new();
    if let Some(list) = params.text("items") {
        let ids: Vec<i64> = list
            .split(',')
            .map(|t| item_id(t.trim()))
            .collect::<Result<_, _>>()?;
        if !(2..=4).contains(&ids.len()) {
            return Err(WebError::BadRequest(
                "compare 2 to 4 items (`items=1,2`)".into(),
            ));
        }
        for id in ids {
            let stored = s
                .store
                .item_by_id(id)
                .await?
                .ok_or_else(|| WebError::NotFound(format!("no item with id {id}")))?;
            let envelope = stored.item.to_envelope();
            columns.push(format!(
                "{} · {} · {}",
                stored.item.resource_name, stored.item.account_id, stored.item.region
            ));
            links.push(format!("/items/{id}"));
            docs.push(json!({
                "configuration": envelope["configuration"],
                "supplementaryConfiguration": envelope["supplementaryConfiguration"],
                "tags": envelope["tags"],
            }));
        }
    } else {
        let item = params.number::<i64>("item", "an item id")?.ok_or_else(|| {
            WebError::BadRequest("give `items=1,2` or `item=ID&from=R&to=R`".into())
        })?;
        for key in ["from", "to"] {
            let id = params
                .number::<i64>(key, "a revision id")?
                .ok_or_else(|| WebError::BadRequest(format!("parameter `{key}` is required")))?;
            let revision = match s.store.revision(id).await? {
                Some(r) if r.item_id == item => r,
                _ => {
                    return Err(WebError::NotFound(format!(
                        "item {item} has no revision {id}"
                    )));
                }
            };
            columns.push(format!(
                "revision {id} · {}",
                crate::when::rfc3339(revision.captured_at_ms)
            ));
            links.push(format!("/items/{item}"));
            docs.push(revision.document);
        }
    }
    let flat: Vec<BTreeMap<String, String>> = docs.iter().map(flatten).collect();
    let paths: BTreeSet<&String> = flat.iter().flat_map(|f| f.keys()).collect();
    let rows = paths
        .into_iter()
        .map(|path| {
            let values: Vec<Option<String>> = flat.iter().map(|f| f.get(path).cloned()).collect();
            let differs = values.windows(2).any(|w| w[0] != w[1]);
            CompareRow {
                path: path.clone(),
                values,
                differs,
            }
        })
        .collect();
    Ok(Comparison {
        columns,
        column_links: links,
        rows,
    })
}

/// Leaf paths to compact JSON; arrays of scalars stay whole (they read as one value).
fn flatten(doc: &Value) -> BTreeMap<String, String> {
    fn walk(path: String, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(p, v, out);
                }
            }
            Value::Array(list)
                if !list.is_empty() && list.iter().any(|e| e.is_object() || e.is_array()) =>
            {
                for (i, v) in list.iter().enumerate() {
                    walk(format!("{path}[{i}]"), v, out);
                }
            }
            _ => {
                out.insert(path, v.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(String::new(), doc, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_keeps_scalar_lists_whole() {
        let f = flatten(&json!({"a": {"b": 1}, "l": ["x", "y"], "rules": [{"p": 22}], "e": {}}));
        assert_eq!(f.get("a.b").map(String::as_str), Some("1"));
        assert_eq!(f.get("l").map(String::as_str), Some("[\"x\",\"y\"]"));
        assert_eq!(f.get("rules[0].p").map(String::as_str), Some("22"));
        assert_eq!(f.get("e").map(String::as_str), Some("{}"));
    }
}
