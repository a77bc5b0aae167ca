//! The configuration item: one AWS resource in the AWS Config envelope.
//!
//! Owns the host-side item model and reading/writing it as the envelope JSON documented in
//! docs/item-format.md. It must never interpret `configuration` itself: that is what
//! watchers produce and auditors judge.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    pub arn: String,
    pub account_id: String,
    pub region: String,
    pub capture_time: String,
    /// JSON text.
    pub configuration: String,
    /// JSON object text.
    pub supplementary_configuration: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {location}{message}")]
pub struct ItemError {
    pub source_name: String,
    pub location: String,
    pub message: String,
}

impl Item {
    /// Parse a document holding one envelope, a JSON array of them, or `{"items": [...]}`.
    pub fn parse_document(text: &str, source_name: &str) -> Result<Vec<Item>, ItemError> {
        let err = |location: String, message: String| ItemError {
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
                Item::from_envelope(v).map_err(|(field, message)| {
                    err(format!("item[{i}]: field `{field}`: "), message)
                })
            })
            .collect()
    }

    /// Read one envelope; the error names the offending field.
    pub fn from_envelope(v: &Value) -> Result<Item, (String, String)> {
        let obj = v.as_object().ok_or_else(|| {
            (
                "<item>".to_string(),
                "an item must be a JSON object".to_string(),
            )
        })?;
        let text = |names: &[&str], required: bool| -> Result<String, (String, String)> {
            for name in names {
                match obj.get(*name) {
                    Some(Value::String(s)) => return Ok(s.clone()),
                    Some(Value::Null) | None => continue,
                    Some(_) => return Err((name.to_string(), "must be a string".to_string())),
                }
            }
            if required {
                Err((names[0].to_string(), "is required".to_string()))
            } else {
                Ok(String::new())
            }
        };
        let resource_type = text(&["resourceType"], true)?;
        let resource_id = text(&["resourceId"], true)?;
        let resource_name = text(&["resourceName"], false)?;
        let arn = text(&["arn", "ARN"], false)?;
        let account_id = text(&["accountId", "awsAccountId"], true)?;
        let region = text(&["awsRegion"], false)?;
        let capture_time = text(&["configurationItemCaptureTime"], false)?;
        let configuration = match obj.get("configuration") {
            None | Some(Value::Null) => return Err(("configuration".into(), "is required".into())),
            // AWS Config's API returns the configuration as a JSON string.
            Some(Value::String(s)) => {
                serde_json::from_str::<Value>(s).map_err(|e| {
                    (
                        "configuration".to_string(),
                        format!("string is not JSON: {e}"),
                    )
                })?;
                s.clone()
            }
            Some(other) => other.to_string(),
        };
        let supplementary_configuration = match obj.get("supplementaryConfiguration") {
            None | Some(Value::Null) => "{}".to_string(),
            Some(Value::Object(m)) => Value::Object(m.clone()).to_string(),
            Some(_) => {
                return Err((
                    "supplementaryConfiguration".into(),
                    "must be an object".into(),
                ));
            }
        };
        let tags = match obj.get("tags") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err((format!("tags.{k}"), "must be a string".to_string())),
                })
                .collect::<Result<_, _>>()?,
            // The EC2-style list form: [{"key": .., "value": ..}].
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let k = t
                        .get("key")
                        .or_else(|| t.get("Key"))
                        .and_then(Value::as_str);
                    let v = t
                        .get("value")
                        .or_else(|| t.get("Value"))
                        .and_then(Value::as_str);
                    match (k, v) {
                        (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
                        _ => Err((format!("tags[{i}]"), "needs string key and value".into())),
                    }
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(("tags".into(), "must be an object".into())),
        };
        Ok(Item {
            resource_type,
            resource_id,
            resource_name,
            arn,
            account_id,
            region,
            capture_time,
            configuration,
            supplementary_configuration,
            tags,
        })
    }

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

    /// A short human label: ARN, else type/id.
    pub fn label(&self) -> String {
        if self.arn.is_empty() {
            format!("{} {}", self.resource_type, self.resource_id)
        } else {
            self.arn.clone()
        }
    }
}

#[cfg(test)]
mod tests {
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
    }

    #[test]
    fn envelope_round_trips() {
        let item = Item::parse_document(SG, "x").expect("ok").remove(0);
        let again = Item::from_envelope(&item.to_envelope()).expect("round trip");
        assert_eq!(item, again);
    }
}
