//! Building item documents: times, tags and policy documents in AWS Config's shapes.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::{Map, Value, json};

use crate::item::Item;

pub fn time(t: Option<&DateTime>) -> Value {
    match t.and_then(|t| t.fmt(Format::DateTime).ok()) {
        Some(s) => Value::String(s),
        None => Value::Null,
    }
}

pub fn now() -> String {
    DateTime::from(std::time::SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

/// IAM returns policy documents URL-encoded; S3 and some emulators return them raw. Either
/// way the stored document is a JSON object, never an encoded string.
pub fn policy_document(text: Option<&str>) -> Value {
    let Some(text) = text else { return Value::Null };
    let trimmed = text.trim_start();
    let decoded = if trimmed.starts_with('{') {
        text.to_string()
    } else {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

/// An attribute name as the configurations spell their keys: `QueueArn` → `queueArn` (SQS and
/// SNS answer attributes by their API names).
pub fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

pub fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_string()))
}

/// An item in the envelope, capture time now.
pub struct Envelope<'a> {
    pub resource_type: &'a str,
    pub resource_id: String,
    pub resource_name: String,
    pub arn: String,
    pub account_id: &'a str,
    pub region: &'a str,
    pub configuration: Value,
    pub supplementary: Value,
    pub tags: Vec<(String, String)>,
}

impl Envelope<'_> {
    pub fn into_item(self) -> Item {
        Item {
            resource_type: self.resource_type.to_string(),
            resource_id: self.resource_id,
            resource_name: self.resource_name,
            arn: self.arn,
            account_id: self.account_id.to_string(),
            region: self.region.to_string(),
            capture_time: now(),
            configuration: self.configuration.to_string(),
            supplementary_configuration: match self.supplementary {
                Value::Object(_) => self.supplementary.to_string(),
                _ => "{}".to_string(),
            },
            tags: self.tags,
        }
    }
}

/// `[{key, value}]` as AWS Config writes tags inside configurations.
pub fn tag_list(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
    )
}

pub fn object(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_decode_both_ways() {
        let raw = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(policy_document(Some(raw)), policy_document(Some(encoded)));
        assert_eq!(policy_document(Some(raw))["Version"], "2012-10-17");
        assert_eq!(policy_document(None), Value::Null);
    }
}
