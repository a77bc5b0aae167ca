//! Content hashes of items: the durable hash (what makes a revision) and the complete hash.
//!
//! Owns the canonical JSON form (keys sorted, no whitespace) and stripping ephemeral paths.
//! It must never touch the database, and must stay a single walk per item: hashing dominates
//! a large sweep.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::item::Item;

/// The envelope key left out of both hashes: it changes on every observation.
const CAPTURE_TIME: &str = "configurationItemCaptureTime";

/// SHA-256 (hex) of the canonical envelope without the capture time and the type's
/// ephemeral paths.
pub fn durable_hash(item: &Item) -> String {
    Hasher::for_type(&item.resource_type).hash(item).durable
}

/// SHA-256 (hex) of the canonical envelope without the capture time.
pub fn complete_hash(item: &Item) -> String {
    Hasher::for_type(&item.resource_type).hash(item).complete
}

/// One segment of an ephemeral path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Each,
}

fn parse_path(path: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        let mut key = part;
        let mut each = 0;
        while let Some(rest) = key.strip_suffix("[]") {
            key = rest;
            each += 1;
        }
        if !key.is_empty() {
            segs.push(Seg::Key(key.to_string()));
        }
        segs.extend(std::iter::repeat_n(Seg::Each, each));
    }
    segs
}

pub struct Hashes {
    pub durable: String,
    pub complete: String,
}

/// Hashes items of one resource type; reuses its buffers across items.
pub struct Hasher {
    paths: Vec<Vec<Seg>>,
    complete: Vec<u8>,
    durable: Vec<u8>,
}

impl Hasher {
    pub fn for_type(resource_type: &str) -> Hasher {
        Hasher {
            paths: crate::resource_types::ephemeral_paths(resource_type)
                .iter()
                .map(|p| parse_path(p))
                .collect(),
            complete: Vec::with_capacity(4096),
            durable: Vec::with_capacity(4096),
        }
    }

    /// Hash an item whose envelope has already been built (capture time included or not).
    pub fn hash_envelope(&mut self, envelope: &Value) -> Hashes {
        self.complete.clear();
        self.durable.clear();
        let roots: Vec<&[Seg]> = self.paths.iter().map(Vec::as_slice).collect();
        match envelope {
            Value::Object(map) => write_object(
                map,
                &roots,
                true,
                true,
                &mut self.complete,
                &mut self.durable,
            ),
            other => write_plain(other, &mut self.complete),
        }
        let complete = hex::encode(Sha256::digest(&self.complete));
        let durable = if self.paths.is_empty() {
            complete.clone()
        } else {
            hex::encode(Sha256::digest(&self.durable))
        };
        Hashes { durable, complete }
    }

    pub fn hash(&mut self, item: &Item) -> Hashes {
        self.hash_envelope(&item.to_envelope())
    }
}

/// Canonical JSON of the whole envelope (capture time included): the stored document.
pub fn canonical_document(envelope: &Value) -> String {
    let mut out = Vec::with_capacity(2048);
    write_plain(envelope, &mut out);
    // Only `write_plain` writes here, and it emits valid UTF-8 from `&str`s.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Write `map` to `c` (complete) and, while `d_on`, to `d` (durable), skipping in `d` the
/// subtrees `pats` names. `top` drops the capture time at the envelope root.
fn write_object(
    map: &Map<String, Value>,
    pats: &[&[Seg]],
    d_on: bool,
    top: bool,
    c: &mut Vec<u8>,
    d: &mut Vec<u8>,
) {
    c.push(b'{');
    if d_on {
        d.push(b'{');
    }
    let (mut first_c, mut first_d) = (true, true);
    let mut child: Vec<&[Seg]> = Vec::new();
    for (key, value) in sorted(map) {
        if top && key == CAPTURE_TIME {
            continue;
        }
        child.clear();
        let mut removed = false;
        for p in pats {
            if let Some((Seg::Key(k), rest)) = p.split_first()
                && k == key
            {
                if rest.is_empty() {
                    removed = true;
                } else {
                    child.push(rest);
                }
            }
        }
        if !first_c {
            c.push(b',');
        }
        first_c = false;
        write_str(key, c);
        c.push(b':');
        let child_d = d_on && !removed;
        if child_d {
            if !first_d {
                d.push(b',');
            }
            first_d = false;
            write_str(key, d);
            d.push(b':');
        }
        write_value(value, &child, child_d, c, d);
    }
    c.push(b'}');
    if d_on {
        d.push(b'}');
    }
}

fn write_value(v: &Value, pats: &[&[Seg]], d_on: bool, c: &mut Vec<u8>, d: &mut Vec<u8>) {
    if pats.is_empty() {
        let start = c.len();
        write_plain(v, c);
        if d_on {
            d.extend_from_slice(&c[start..]);
        }
        return;
    }
    match v {
        Value::Object(map) => write_object(map, pats, d_on, false, c, d),
        Value::Array(list) => {
            let mut child: Vec<&[Seg]> = Vec::new();
            let mut removed = false;
            for p in pats {
                if let Some((Seg::Each, rest)) = p.split_first() {
                    if rest.is_empty() {
                        removed = true;
                    } else {
                        child.push(rest);
                    }
                }
            }
            c.push(b'[');
            if d_on {
                d.push(b'[');
            }
            let child_d = d_on && !removed;
            for (i, elem) in list.iter().enumerate() {
                if i > 0 {
                    c.push(b',');
                    if child_d {
                        d.push(b',');
                    }
                }
                write_value(elem, &child, child_d, c, d);
            }
            c.push(b']');
            if d_on {
                d.push(b']');
            }
        }
        // A path that goes through a scalar names nothing here.
        other => write_value(other, &[], d_on, c, d),
    }
}

fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
    // serde_json's default map is already ordered; this is a no-op pass then, but keeps the
    // form canonical if some crate in the graph turns on `preserve_order`.
    if !pairs.is_sorted_by(|a, b| a.0 <= b.0) {
        pairs.sort_by(|a, b| a.0.cmp(b.0));
    }
    pairs
}

fn write_plain(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            use std::io::Write;
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_str(s, out),
        Value::Array(list) => {
            out.push(b'[');
            for (i, elem) in list.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_plain(elem, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, v)) in sorted(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(k, out);
                out.push(b':');
                write_plain(v, out);
            }
            out.push(b'}');
        }
    }
}

/// JSON string escaping exactly as serde_json does it, so documents and hashes agree.
fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(config: Value, capture: &str) -> Item {
        Item {
            resource_type: "AWS::IAM::User".into(),
            resource_id: "AIDA1".into(),
            resource_name: "alice".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            account_id: "123456789012".into(),
            region: "global".into(),
            capture_time: capture.into(),
            configuration: config.to_string(),
            supplementary_configuration: "{}".into(),
            tags: vec![("b".into(), "2".into()), ("a".into(), "1".into())],
        }
    }

    #[test]
    fn canonical_matches_serde_json_sorted() {
        let v = json!({"z": [1, 2.5, {"y": "q\"\\\n\u{1}é", "x": null}], "a": true, "m": {}});
        let mut out = Vec::new();
        write_plain(&v, &mut out);
        // serde_json's default Map is a BTreeMap: its compact output is the canonical form.
        assert_eq!(String::from_utf8(out).expect("utf8"), v.to_string());
    }

    #[test]
    fn key_order_and_capture_time_do_not_matter() {
        let a = user(
            json!({"userName": "alice", "path": "/", "accessKeys": []}),
            "2024-01-01T00:00:00Z",
        );
        let mut b = a.clone();
        b.configuration = r#"{ "path":"/", "accessKeys":[], "userName":"alice" }"#.into();
        b.capture_time = "2025-06-01T00:00:00Z".into();
        b.tags.reverse();
        assert_eq!(durable_hash(&a), durable_hash(&b));
        assert_eq!(complete_hash(&a), complete_hash(&b));
        assert_eq!(complete_hash(&a).len(), 64);
    }

    #[test]
    fn ephemeral_paths_change_only_the_complete_hash() {
        let base = json!({"userName": "alice", "passwordLastUsed": "2024-01-01",
            "accessKeys": [{"id": "AKIA1", "lastUsedDate": "2024-01-01", "status": "Active"},
                           {"id": "AKIA2", "lastUsedDate": null, "status": "Active"}]});
        let a = user(base.clone(), "");
        let mut eph = base.clone();
        eph["accessKeys"][1]["lastUsedDate"] = json!("2024-02-02");
        eph["accessKeys"][0]["lastUsedService"] = json!("s3");
        eph["passwordLastUsed"] = json!("2024-03-03");
        let b = user(eph, "");
        assert_eq!(durable_hash(&a), durable_hash(&b));
        assert_ne!(complete_hash(&a), complete_hash(&b));

        let mut durable = base;
        durable["accessKeys"][0]["status"] = json!("Inactive");
        let c = user(durable, "");
        assert_ne!(durable_hash(&a), durable_hash(&c));
    }

    #[test]
    fn durable_hash_equals_hash_of_stripped_document() {
        let cfg = json!({"b": 1, "accessKeys": [{"lastUsedDate": "x", "id": "k"}], "passwordLastUsed": "p"});
        let item = user(cfg, "t");
        let mut env = item.to_envelope();
        let obj = env.as_object_mut().expect("object");
        obj.remove(CAPTURE_TIME);
        let complete = hex::encode(Sha256::digest(env.to_string().as_bytes()));
        assert_eq!(complete_hash(&item), complete);
        env["configuration"]
            .as_object_mut()
            .expect("config")
            .remove("passwordLastUsed");
        env["configuration"]["accessKeys"][0]
            .as_object_mut()
            .expect("key")
            .remove("lastUsedDate");
        let durable = hex::encode(Sha256::digest(env.to_string().as_bytes()));
        assert_eq!(durable_hash(&item), durable);
    }

    #[test]
    fn path_parsing() {
        assert_eq!(
            parse_path("configuration.accessKeys[].lastUsedDate"),
            vec![
                Seg::Key("configuration".into()),
                Seg::Key("accessKeys".into()),
                Seg::Each,
                Seg::Key("lastUsedDate".into())
            ]
        );
    }
}
