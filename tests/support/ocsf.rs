//! A validator of OCSF events against the schema's own source definitions (the vendored
//! subset in `tests/schemas/ocsf-1.6.0`), as the OCSF server compiles them: a class or object
//! is its `extends` chain merged base first, each file's `$include`d profiles merged under its
//! own attributes (tagged with the profile's name unless the file says `"profile": null`), and
//! every attribute completed from `dictionary.json` (type, array, enum, sibling).
//!
//! It checks, recursively through every object present: attributes marked `required` are
//! present (profile attributes only when `metadata.profiles` applies the profile); every
//! present attribute is defined (and its profile applied); values have the dictionary's type
//! (arrays, objects, strings, integers, booleans); enum values are in the merged enum and an
//! enum's sibling caption matches it (except Other, 99); objects' `at_least_one` / `just_one`
//! constraints; and the event's `class_uid`, `category_uid` and `type_uid` agree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub struct Schema {
    dir: PathBuf,
    dictionary: Map<String, Value>,
    types: Map<String, Value>,
    categories: Map<String, Value>,
}

/// A compiled class or object.
struct Definition {
    name: String,
    attributes: Map<String, Value>,
    constraints: Map<String, Value>,
    /// Classes only: the class's own uid and its category's name.
    uid: Option<u64>,
    category: Option<String>,
    caption: String,
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (is it vendored?)", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `over` merged into `base`: objects key by key (recursively), anything else replaced.
fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

impl Schema {
    /// The vendored OCSF 1.6.0 subset.
    pub fn v1_6_0() -> Schema {
        Schema::load(&crate::workspace().join("tests/schemas/ocsf-1.6.0"))
    }

    pub fn load(dir: &Path) -> Schema {
        let dictionary = read(&dir.join("dictionary.json"));
        let categories = read(&dir.join("categories.json"));
        let obj = |v: &Value, key: &str| v[key].as_object().cloned().unwrap_or_default();
        Schema {
            dir: dir.to_path_buf(),
            dictionary: obj(&dictionary, "attributes"),
            types: obj(&dictionary["types"], "attributes"),
            categories: obj(&categories, "attributes"),
        }
    }

    /// The schema's version (`version.json`).
    pub fn version(&self) -> String {
        read(&self.dir.join("version.json"))["version"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn class_file(&self, name: &str) -> PathBuf {
        match name {
            "base_event" => self.dir.join("events/base_event.json"),
            other => self.dir.join(format!("events/findings/{other}.json")),
        }
    }

    fn compile(&self, file: &Path, resolve: &dyn Fn(&str) -> PathBuf) -> Definition {
        let source = read(file);
        let mut def = match source["extends"].as_str() {
            Some(parent) => self.compile(&resolve(parent), resolve),
            None => Definition {
                name: String::new(),
                attributes: Map::new(),
                constraints: Map::new(),
                uid: None,
                category: None,
                caption: String::new(),
            },
        };
        let own = source["attributes"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        // This file's profiles first, its own attributes over them.
        let mut layer = Value::Object(Map::new());
        for include in own
            .get("$include")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let profile = read(&self.dir.join(include.as_str().unwrap_or_default()));
            let pname = profile["name"].clone();
            for (k, v) in profile["attributes"].as_object().into_iter().flatten() {
                let mut v = v.clone();
                if let Some(o) = v.as_object_mut() {
                    o.entry("profile").or_insert(pname.clone());
                }
                deep_merge(&mut layer, &Value::Object(Map::from_iter([(k.clone(), v)])));
            }
        }
        let mut own_attrs = own;
        own_attrs.remove("$include");
        deep_merge(&mut layer, &Value::Object(own_attrs));
        let mut attrs = Value::Object(std::mem::take(&mut def.attributes));
        deep_merge(&mut attrs, &layer);
        def.attributes = attrs.as_object().cloned().unwrap_or_default();
        if let Some(c) = source["constraints"].as_object() {
            def.constraints = c.clone();
        }
        def.name = source["name"].as_str().unwrap_or_default().to_string();
        if let Some(c) = source["caption"].as_str() {
            def.caption = c.to_string();
        }
        if let Some(uid) = source["uid"].as_u64() {
            def.uid = Some(uid);
        }
        if let Some(c) = source["category"].as_str() {
            def.category = Some(c.to_string());
        }
        def
    }

    fn class(&self, name: &str) -> Definition {
        self.compile(&self.class_file(name), &|n| self.class_file(n))
    }

    fn object(&self, name: &str) -> Option<Definition> {
        let file = self.dir.join(format!("objects/{name}.json"));
        file.exists()
            .then(|| self.compile(&file, &|n| self.dir.join(format!("objects/{n}.json"))))
    }

    /// An attribute as the class or object defines it, completed from the dictionary.
    fn attribute(&self, def: &Definition, name: &str) -> Option<Value> {
        let local = def.attributes.get(name)?;
        let mut full = self
            .dictionary
            .get(name)
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        deep_merge(&mut full, local);
        Some(full)
    }

    /// Every problem with `event` as an instance of class `class` (e.g. `detection_finding`);
    /// empty when it conforms.
    pub fn validate(&self, class: &str, event: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        let mut def = self.class(class);
        let applied: BTreeSet<String> = event["metadata"]["profiles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        let category_uid = def
            .category
            .as_deref()
            .and_then(|c| self.categories.get(c))
            .and_then(|c| c["uid"].as_u64());
        match (category_uid, def.uid) {
            (Some(cat), Some(uid)) => {
                let class_uid = cat * 1000 + uid;
                self.generate_enums(&mut def, cat, class_uid);
                if event["category_uid"].as_u64() != Some(cat) {
                    errors.push(format!(
                        "category_uid: {} is not {cat}",
                        event["category_uid"]
                    ));
                }
                if event["class_uid"].as_u64() != Some(class_uid) {
                    errors.push(format!(
                        "class_uid: {} is not {class_uid}",
                        event["class_uid"]
                    ));
                }
                if let Some(activity) = event["activity_id"].as_u64() {
                    let type_uid = class_uid * 100 + activity;
                    if event["type_uid"].as_u64() != Some(type_uid) {
                        errors.push(format!("type_uid: {} is not {type_uid}", event["type_uid"]));
                    }
                }
            }
            _ => errors.push(format!("class {class}: no uid or category in the schema")),
        }
        self.check_object(&def, event, "", &applied, &mut errors);
        errors
    }

    /// As the OCSF server does: a class's `category_uid`, `class_uid` and `type_uid` enums
    /// are its own category, its own uid and one type per activity, with their captions.
    fn generate_enums(&self, def: &mut Definition, category_uid: u64, class_uid: u64) {
        let category_caption = def
            .category
            .as_deref()
            .and_then(|c| self.categories.get(c))
            .and_then(|c| c["caption"].as_str())
            .unwrap_or_default()
            .to_string();
        let activities = self
            .attribute(def, "activity_id")
            .and_then(|a| a["enum"].as_object().cloned())
            .unwrap_or_default();
        let caption = def.caption.clone();
        let mut types = Map::new();
        for (id, a) in &activities {
            let Ok(id) = id.parse::<u64>() else { continue };
            let name = format!("{caption}: {}", a["caption"].as_str().unwrap_or_default());
            types.insert(
                (class_uid * 100 + id).to_string(),
                serde_json::json!({ "caption": name }),
            );
        }
        for (attr, e) in [
            (
                "category_uid",
                serde_json::json!({ category_uid.to_string(): { "caption": category_caption } }),
            ),
            (
                "class_uid",
                serde_json::json!({ class_uid.to_string(): { "caption": caption } }),
            ),
            ("type_uid", Value::Object(types)),
        ] {
            if let Some(a) = def.attributes.get_mut(attr).and_then(Value::as_object_mut) {
                a.insert("enum".into(), e);
            }
        }
    }

    fn check_object(
        &self,
        def: &Definition,
        value: &Value,
        path: &str,
        applied: &BTreeSet<String>,
        errors: &mut Vec<String>,
    ) {
        let Some(fields) = value.as_object() else {
            errors.push(format!("{path}: not an object ({} expected)", def.name));
            return;
        };
        let at = |k: &str| {
            if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            }
        };
        let in_force = |attr: &Value| match attr["profile"].as_str() {
            None => true,
            Some(p) => applied.contains(p),
        };
        for name in def.attributes.keys() {
            let Some(attr) = self.attribute(def, name) else {
                continue;
            };
            if attr["requirement"] == "required"
                && in_force(&attr)
                && fields.get(name).is_none_or(Value::is_null)
            {
                errors.push(format!(
                    "{}: required by {} but missing",
                    at(name),
                    def.name
                ));
            }
        }
        for (name, v) in fields {
            let Some(attr) = self.attribute(def, name) else {
                errors.push(format!("{}: not an attribute of {}", at(name), def.name));
                continue;
            };
            if !in_force(&attr) {
                errors.push(format!(
                    "{}: belongs to profile {} that metadata.profiles does not apply",
                    at(name),
                    attr["profile"]
                ));
            }
            if attr["is_array"] == true {
                match v.as_array() {
                    Some(items) => {
                        for (n, item) in items.iter().enumerate() {
                            self.check_value(
                                &attr,
                                item,
                                &format!("{}[{n}]", at(name)),
                                applied,
                                errors,
                            );
                        }
                    }
                    None => errors.push(format!("{}: an array expected", at(name))),
                }
            } else {
                self.check_value(&attr, v, &at(name), applied, errors);
            }
            // An enum's caption beside it must be the enum's own (Other says its own).
            if let (Some(e), Some(sibling)) = (attr["enum"].as_object(), attr["sibling"].as_str())
                && let (Some(key), Some(text)) =
                    (v.as_i64(), fields.get(sibling).and_then(Value::as_str))
                && key != 99
                && let Some(caption) = e.get(&key.to_string()).and_then(|c| c["caption"].as_str())
                && caption != text
            {
                errors.push(format!(
                    "{}: {text:?} is not the caption of {name} {key} ({caption:?})",
                    at(sibling)
                ));
            }
        }
        for (kind, names) in &def.constraints {
            let names: Vec<&str> = names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let present = names
                .iter()
                .filter(|n| fields.get(**n).is_some_and(|v| !v.is_null()))
                .count();
            let ok = match kind.as_str() {
                "at_least_one" => present >= 1,
                "just_one" => present == 1,
                _ => true,
            };
            if !ok {
                errors.push(format!(
                    "{path}: {} constraint {kind} {names:?} not met",
                    def.name
                ));
            }
        }
    }

    fn check_value(
        &self,
        attr: &Value,
        v: &Value,
        path: &str,
        applied: &BTreeSet<String>,
        errors: &mut Vec<String>,
    ) {
        let ty = attr["type"].as_str().unwrap_or("string_t");
        if let Some(e) = attr["enum"].as_object() {
            let key = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !e.contains_key(&key) {
                let mut allowed: Vec<&String> = e.keys().collect();
                allowed.sort_by_key(|k| k.parse::<i64>().unwrap_or(i64::MAX));
                errors.push(format!("{path}: {key} is not in the enum {allowed:?}"));
            }
        }
        if ty == "object" || ty == "json_t" {
            if ty == "object" && !v.is_object() {
                errors.push(format!("{path}: an object expected"));
            }
            return;
        }
        if ty.ends_with("_t") {
            let base = self
                .types
                .get(ty)
                .and_then(|t| t["type"].as_str())
                .unwrap_or(ty);
            let ok = match base {
                "string_t" => v.is_string(),
                "integer_t" | "long_t" => v.is_i64() || v.is_u64(),
                "float_t" => v.is_number(),
                "boolean_t" => v.is_boolean(),
                _ => true,
            };
            if !ok {
                errors.push(format!("{path}: {v} is not a {ty}"));
            }
            return;
        }
        match self.object(ty) {
            Some(def) => self.check_object(&def, v, path, applied, errors),
            None => errors.push(format!("{path}: object type {ty} is not vendored")),
        }
    }
}
