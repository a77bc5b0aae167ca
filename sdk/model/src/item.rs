//! The configuration item: one AWS resource in the AWS Config envelope, and the one reading
//! and writing of that envelope (docs/item-format.md) that the host, its CLI and the SDK's
//! test host share.
//!
//! It must never interpret `configuration` itself: that is what watchers produce and auditors
//! judge.

use std::fmt;

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// e.g. `AWS::EC2::SecurityGroup`.
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    pub arn: String,
    pub account_id: String,
    /// An AWS region, or `global` for IAM.
    pub region: String,
    /// RFC 3339 time the configuration was captured.
    pub capture_time: String,
    /// JSON text.
    pub configuration: String,
    /// JSON object text.
    pub supplementary_configuration: String,
    /// In the order AWS reported them.
    pub tags: Vec<(String, String)>,
}

/// An envelope field that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// e.g. `resourceId`, `tags.owner`, `tags[2]`; `<item>` for the envelope itself.
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}` {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// A document of envelopes that cannot be read: which source, which item, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    pub source_name: String,
    /// e.g. `item[1]: field `resourceId`: `; empty when the document as a whole is wrong.
    pub location: String,
    pub message: String,
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}{}", self.source_name, self.location, self.message)
    }
}

impl std::error::Error for DocumentError {}

impl Item {
    /// Parse a document holding one envelope, a JSON array of them, or `{"items": [...]}`.
    pub fn parse_document(text: &str, source_name: &str) -> Result<Vec<Item>, DocumentError> {
        let err = |location: String, message: String| DocumentError {
            source_name: source_name.to_string(),
            location,
            message,
        };
        let value: Value = serde_json::from_str(text)
            .map_err(|e| err(String::new(), format!("not valid JSON: {e}")))?;
        let list = match value {
            Value::Array(list) => list,
            Value::Object(mut obj)
                if obj.contains_key("items") && !obj.contains_key("resourceType") =>
            {
                match obj.remove("items") {
                    Some(Value::Array(list)) => list,
                    _ => return Err(err(String::new(), "field `items` must be an array".into())),
                }
            }
            other @ Value::Object(_) => vec![other],
            _ => {
                return Err(err(
                    String::new(),
                    "expected an item object or an array of items".into(),
                ));
            }
        };
        list.iter()
            .enumerate()
            .map(|(i, v)| {
                Item::from_envelope(v)
                    .map_err(|e| err(format!("item[{i}]: field `{}`: ", e.field), e.message))
            })
            .collect()
    }

    /// Read one envelope; the error names the offending field.
    pub fn from_envelope(v: &Value) -> Result<Item, FieldError> {
        let obj = v
            .as_object()
            .ok_or_else(|| FieldError::new("<item>", "an item must be a JSON object"))?;
        let text = |names: &[&str], required: bool| -> Result<String, FieldError> {
            for name in names {
                match obj.get(*name) {
                    Some(Value::String(s)) => return Ok(s.clone()),
                    Some(Value::Null) | None => continue,
                    Some(_) => return Err(FieldError::new(*name, "must be a string")),
                }
            }
            if required {
                Err(FieldError::new(names[0], "is required"))
            } else {
                Ok(String::new())
            }
        };
        let configuration = match obj.get("configuration") {
            None | Some(Value::Null) => {
                return Err(FieldError::new("configuration", "is required"));
            }
            // AWS Config's API returns the configuration as a JSON string.
            Some(Value::String(s)) => {
                serde_json::from_str::<Value>(s).map_err(|e| {
                    FieldError::new("configuration", format!("is a string but not JSON: {e}"))
                })?;
                s.clone()
            }
            Some(other) => other.to_string(),
        };
        let supplementary_configuration = match obj.get("supplementaryConfiguration") {
            None | Some(Value::Null) => "{}".to_string(),
            Some(v @ Value::Object(_)) => v.to_string(),
            Some(_) => {
                return Err(FieldError::new(
                    "supplementaryConfiguration",
                    "must be an object",
                ));
            }
        };
        Ok(Item {
            resource_type: text(&["resourceType"], true)?,
            resource_id: text(&["resourceId"], true)?,
            resource_name: text(&["resourceName"], false)?,
            arn: text(&["arn", "ARN"], false)?,
            account_id: text(&["accountId", "awsAccountId"], true)?,
            region: text(&["awsRegion"], false)?,
            capture_time: text(&["configurationItemCaptureTime"], false)?,
            configuration,
            supplementary_configuration,
            tags: envelope_tags(obj.get("tags"))?,
        })
    }

    /// Read one envelope from its JSON text: `from_envelope` of the parsed text, in one pass
    /// when the text is in the canonical form `to_envelope` writes (the store's documents). The
    /// configuration's text is then taken as it is, instead of being parsed into a tree and
    /// printed back, which costs more than the rest of reading an item.
    pub fn from_document(text: &str) -> Result<Item, FieldError> {
        if let Ok(item) = Self::from_canonical(text) {
            return Ok(item);
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| FieldError::new("<item>", format!("not valid JSON: {e}")))?;
        Item::from_envelope(&value)
    }

    /// The one-pass reading; any departure from the canonical form is an error, so the caller
    /// falls back to the general reading (aliases, tag lists, null fields, …).
    fn from_canonical(text: &str) -> Result<Item, serde_json::Error> {
        use serde::de::Error as _;
        use serde_json::value::RawValue;

        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Canonical<'a> {
            resource_type: String,
            resource_id: String,
            resource_name: String,
            arn: String,
            account_id: String,
            aws_region: String,
            configuration_item_capture_time: String,
            #[serde(borrow)]
            configuration: &'a RawValue,
            #[serde(borrow)]
            supplementary_configuration: &'a RawValue,
            tags: std::collections::BTreeMap<String, String>,
        }
        let c: Canonical = serde_json::from_str(text)?;
        let configuration = c.configuration.get();
        // A string is JSON text carried as a string (`from_envelope` decodes and checks it);
        // null is missing: both take the general reading.
        if !(configuration.starts_with('{') || configuration.starts_with('[')) {
            return Err(serde_json::Error::custom("configuration is not an object"));
        }
        let supplementary = c.supplementary_configuration.get();
        if !supplementary.starts_with('{') {
            return Err(serde_json::Error::custom("supplementary is not an object"));
        }
        Ok(Item {
            resource_type: c.resource_type,
            resource_id: c.resource_id,
            resource_name: c.resource_name,
            arn: c.arn,
            account_id: c.account_id,
            region: c.aws_region,
            capture_time: c.configuration_item_capture_time,
            configuration: configuration.to_string(),
            supplementary_configuration: supplementary.to_string(),
            tags: c.tags.into_iter().collect(),
        })
    }

    /// The envelope as JSON; `configuration` and `supplementaryConfiguration` as values (a
    /// text that is not JSON stays a string), `tags` as an object.
    pub fn to_envelope(&self) -> Value {
        let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.into()));
        let mut obj = Map::new();
        obj.insert("resourceType".into(), self.resource_type.clone().into());
        obj.insert("resourceId".into(), self.resource_id.clone().into());
        obj.insert("resourceName".into(), self.resource_name.clone().into());
        obj.insert("arn".into(), self.arn.clone().into());
        obj.insert("accountId".into(), self.account_id.clone().into());
        obj.insert("awsRegion".into(), self.region.clone().into());
        obj.insert(
            "configurationItemCaptureTime".into(),
            self.capture_time.clone().into(),
        );
        obj.insert("configuration".into(), parse(&self.configuration));
        obj.insert(
            "supplementaryConfiguration".into(),
            parse(&self.supplementary_configuration),
        );
        obj.insert(
            "tags".into(),
            Value::Object(
                self.tags
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
        Value::Object(obj)
    }

    /// A short human label: the ARN, else type and id.
    pub fn label(&self) -> String {
        if self.arn.is_empty() {
            format!("{} {}", self.resource_type, self.resource_id)
        } else {
            self.arn.clone()
        }
    }
}

/// Tags come as an object map from AWS Config, or as EC2's `[{"key": .., "value": ..}]`.
fn envelope_tags(tags: Option<&Value>) -> Result<Vec<(String, String)>, FieldError> {
    match tags {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(FieldError::new(format!("tags.{k}"), "must be a string")),
            })
            .collect(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let get = |a: &str, b: &str| t.get(a).or_else(|| t.get(b)).and_then(Value::as_str);
                match (get("key", "Key"), get("value", "Value")) {
                    (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
                    _ => Err(FieldError::new(
                        format!("tags[{i}]"),
                        "needs a string key and value",
                    )),
                }
            })
            .collect(),
        Some(_) => Err(FieldError::new("tags", "must be an object")),
    }
}

#[cfg(test)]
mod document_tests {
    use super::*;

    fn item(configuration: &str, supplementary: &str, tags: &[(&str, &str)]) -> Item {
        Item {
            resource_type: "AWS::EC2::SecurityGroup".into(),
            resource_id: "sg-1".into(),
            resource_name: "web \"prod\" \u{e9}".into(),
            arn: "arn:aws:ec2:us-east-1:111111111111:security-group/sg-1".into(),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            capture_time: "2026-11-30T00:00:00Z".into(),
            configuration: configuration.into(),
            supplementary_configuration: supplementary.into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The one-pass reading gives what parsing the document and reading the envelope gives.
    #[test]
    fn a_canonical_document_reads_as_its_envelope_does() {
        let cases = [
            item(
                r#"{"b":[1,2.5,-3e-7],"a":{"x":"\n\u0001é\"q\""},"c":null}"#,
                "{}",
                &[],
            ),
            item(
                "[1,2,3]",
                r#"{"k":{"v":true}}"#,
                &[("team", "ops"), ("a", "\u{1f600}")],
            ),
            // Not JSON: carried as a string, so the general reading applies.
            item("not json", "{}", &[("owner", "")]),
            item(r#""quoted""#, "{}", &[]),
        ];
        for original in cases {
            let text = serde_json::to_string(&original.to_envelope()).expect("json");
            let slow = Item::from_envelope(&serde_json::from_str(&text).expect("parse"));
            let fast = Item::from_document(&text);
            assert_eq!(fast, slow, "{text}");
        }
        // The one-pass reading really takes a canonical document.
        let original = item(r#"{"a":1}"#, "{}", &[("t", "v")]);
        let text = serde_json::to_string(&original.to_envelope()).expect("json");
        assert_eq!(Item::from_canonical(&text).expect("canonical"), original);
    }

    /// Anything else takes the general reading: aliases, tag lists, string configurations,
    /// missing fields; and its errors.
    #[test]
    fn other_documents_read_as_their_envelope_does() {
        let docs = [
            r#"{"resourceType":"T","resourceId":"i","ARN":"arn:x","awsAccountId":"1","configuration":{"a":1},"tags":[{"key":"k","value":"v"}]}"#,
            r#"{"resourceType":"T","resourceId":"i","accountId":"1","configuration":"{\"a\": 1}"}"#,
            r#"{"resourceType":"T","resourceId":"i","accountId":"1","configuration":{"a":1},"supplementaryConfiguration":null,"tags":null}"#,
            r#"{"resourceType":"T","resourceId":"i","accountId":"1"}"#,
            r#"{"resourceType":"T","resourceId":"i","accountId":"1","configuration":"not json"}"#,
        ];
        for text in docs {
            let slow = Item::from_envelope(&serde_json::from_str(text).expect("parse"));
            assert_eq!(Item::from_document(text), slow, "{text}");
        }
        assert!(Item::from_document("{not json").is_err());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SG: &str = r#"{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1",
        "accountId":"123456789012","awsRegion":"us-east-1","arn":"arn:aws:ec2:us-east-1:123456789012:security-group/sg-1",
        "configuration":{"groupId":"sg-1"},"tags":{"owner":"a"}}"#;

    #[test]
    fn reads_single_array_and_wrapped() {
        assert_eq!(Item::parse_document(SG, "x").expect("one").len(), 1);
        let arr = format!("[{SG},{SG}]");
        assert_eq!(Item::parse_document(&arr, "x").expect("two").len(), 2);
        let wrapped = format!("{{\"items\":[{SG}]}}");
        let items = Item::parse_document(&wrapped, "x").expect("wrapped");
        assert_eq!(items[0].tags, vec![("owner".into(), "a".into())]);
        assert_eq!(items[0].supplementary_configuration, "{}");
    }

    #[test]
    fn configuration_as_string_is_accepted() {
        let doc = SG.replace(r#"{"groupId":"sg-1"}"#, r#""{\"groupId\":\"sg-1\"}""#);
        let items = Item::parse_document(&doc, "x").expect("string config");
        assert_eq!(items[0].configuration, r#"{"groupId":"sg-1"}"#);
    }

    #[test]
    fn envelope_with_aliases_and_tag_list() {
        let v = json!({
            "resourceType": "AWS::S3::Bucket",
            "resourceId": "b",
            "ARN": "arn:aws:s3:::b",
            "awsAccountId": "111111111111",
            "configuration": "{\"name\":\"b\"}",
            "supplementaryConfiguration": {"BucketPolicy": {"policyText": null}},
            "tags": [{"key": "env", "value": "prod"}, {"Key": "team", "Value": "sec"}]
        });
        let item = Item::from_envelope(&v).expect("valid envelope");
        assert_eq!(item.account_id, "111111111111");
        assert_eq!(item.arn, "arn:aws:s3:::b");
        assert_eq!(item.configuration, "{\"name\":\"b\"}");
        assert_eq!(
            item.tags,
            [("env".into(), "prod".into()), ("team".into(), "sec".into())]
        );
        assert!(item.supplementary_configuration.contains("BucketPolicy"));
    }

    #[test]
    fn errors_name_source_index_and_field() {
        let doc = format!("[{SG},{}]", SG.replace("\"resourceId\":\"sg-1\",", ""));
        let e = Item::parse_document(&doc, "items.json").expect_err("missing id");
        let msg = e.to_string();
        assert!(
            msg.contains("items.json") && msg.contains("item[1]") && msg.contains("resourceId"),
            "{msg}"
        );
        let e = Item::parse_document("{not json", "f.json").expect_err("bad json");
        assert!(e.to_string().starts_with("f.json: not valid JSON"), "{e}");
        let doc = SG.replace(r#"{"owner":"a"}"#, r#"{"owner":3}"#);
        let e = Item::parse_document(&doc, "f").expect_err("bad tag");
        assert!(e.to_string().contains("tags.owner"), "{e}");
        let e = Item::from_envelope(&json!({"resourceType": "T", "resourceId": "i",
            "accountId": "1", "configuration": "{not json"}))
        .expect_err("bad configuration");
        assert_eq!(e.field, "configuration");
        assert!(
            e.to_string()
                .starts_with("field `configuration` is a string but not JSON")
        );
        assert_eq!(
            Item::from_envelope(&json!([1]))
                .expect_err("not an object")
                .field,
            "<item>"
        );
    }

    #[test]
    fn envelope_round_trips() {
        let item = Item::parse_document(SG, "x").expect("ok").remove(0);
        let again = Item::from_envelope(&item.to_envelope()).expect("round trip");
        assert_eq!(item, again);
    }
}
