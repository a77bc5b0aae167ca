//! The item under audit: one AWS resource in the AWS Config configuration-item envelope.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

/// One AWS resource as the host hands it to a plugin.
///
/// `configuration` stays raw JSON text: each auditor deserializes only the fields it needs
/// into its own typed struct, which is much cheaper than building a generic tree first.
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
    /// JSON text shaped like AWS Config's `configuration`.
    pub configuration: String,
    /// JSON object text (`{}` when none).
    pub supplementary_configuration: String,
    /// In the order AWS reported them.
    pub tags: Vec<(String, String)>,
}

impl Item {
    /// A minimal item with an empty configuration; fill it in with the `with_*` methods.
    pub fn new(resource_type: impl Into<String>, resource_id: impl Into<String>) -> Item {
        Item {
            resource_type: resource_type.into(),
            resource_id: resource_id.into(),
            resource_name: String::new(),
            arn: String::new(),
            account_id: String::new(),
            region: String::new(),
            capture_time: String::new(),
            configuration: "{}".to_string(),
            supplementary_configuration: "{}".to_string(),
            tags: Vec::new(),
        }
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Item {
        self.resource_name = name.into();
        self
    }

    pub fn with_arn(mut self, arn: impl Into<String>) -> Item {
        self.arn = arn.into();
        self
    }

    pub fn with_account(mut self, account_id: impl Into<String>) -> Item {
        self.account_id = account_id.into();
        self
    }

    pub fn with_region(mut self, region: impl Into<String>) -> Item {
        self.region = region.into();
        self
    }

    pub fn with_capture_time(mut self, capture_time: impl Into<String>) -> Item {
        self.capture_time = capture_time.into();
        self
    }

    pub fn with_configuration(mut self, configuration: &Value) -> Item {
        self.configuration = configuration.to_string();
        self
    }

    /// Raw text, kept as given, so tests can feed malformed configurations.
    pub fn with_configuration_text(mut self, configuration: impl Into<String>) -> Item {
        self.configuration = configuration.into();
        self
    }

    pub fn with_supplementary(mut self, supplementary: &Value) -> Item {
        self.supplementary_configuration = supplementary.to_string();
        self
    }

    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Item {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// The configuration deserialized into the auditor's own type; the error names the item.
    pub fn configuration<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.configuration)
            .map_err(|e| Error::from(e).context(format_args!("configuration of {}", self.label())))
    }

    pub fn configuration_value(&self) -> Result<Value, Error> {
        self.configuration()
    }

    /// The supplementary configuration; an empty text reads as `{}`.
    pub fn supplementary<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let text = match self.supplementary_configuration.trim() {
            "" => "{}",
            text => text,
        };
        serde_json::from_str(text).map_err(|e| {
            Error::from(e).context(format_args!(
                "supplementary configuration of {}",
                self.label()
            ))
        })
    }

    pub fn supplementary_value(&self) -> Result<Value, Error> {
        self.supplementary()
    }

    /// The value of the first tag named `key` (AWS tag keys are case-sensitive).
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `AWS::EC2::SecurityGroup sg-123`, for error messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.resource_type, self.resource_id)
    }

    /// Read one AWS Config configuration-item envelope (as exported by AWS Config or written
    /// by hand for tests and benchmarks), exactly as the host reads it.
    pub fn from_envelope_json(text: &str) -> Result<Item, Error> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::from(e).context("item envelope is not JSON"))?;
        simian_model::Item::from_envelope(&value)
            .map(Item::from)
            .map_err(|e| Error::new(e.to_string()))
    }
}

impl From<simian_model::Item> for Item {
    fn from(item: simian_model::Item) -> Item {
        let simian_model::Item {
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
        } = item;
        Item {
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_with_object_configuration() {
        let text = json!({
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": "sg-1",
            "resourceName": "web",
            "ARN": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-1",
            "accountId": "111111111111",
            "awsRegion": "us-east-1",
            "configurationItemCaptureTime": "2024-01-01T00:00:00Z",
            "configuration": {"groupId": "sg-1"},
            "tags": {"owner": "alice"}
        })
        .to_string();
        let item = Item::from_envelope_json(&text).expect("valid envelope");
        assert_eq!(
            item.arn,
            "arn:aws:ec2:us-east-1:111111111111:security-group/sg-1"
        );
        assert_eq!(item.region, "us-east-1");
        assert_eq!(item.supplementary_configuration, "{}");
        assert_eq!(item.tag("owner"), Some("alice"));
        assert_eq!(item.tag("Owner"), None);
        let config = item.configuration_value().expect("json");
        assert_eq!(config["groupId"], "sg-1");
    }

    #[test]
    fn envelope_with_string_configuration_and_tag_list() {
        let text = json!({
            "resourceType": "AWS::S3::Bucket",
            "resourceId": "b",
            "awsAccountId": "111111111111",
            "configuration": "{\"name\":\"b\"}",
            "supplementaryConfiguration": {"BucketPolicy": {"policyText": null}},
            "tags": [{"key": "env", "value": "prod"}]
        })
        .to_string();
        let item = Item::from_envelope_json(&text).expect("valid envelope");
        assert_eq!(item.account_id, "111111111111");
        assert_eq!(item.configuration, "{\"name\":\"b\"}");
        assert_eq!(item.tag("env"), Some("prod"));
        let supp: Value = item.supplementary().expect("object");
        assert!(supp["BucketPolicy"].is_object());
    }

    #[test]
    fn envelope_errors_name_the_field() {
        let missing = json!({"resourceType": "T", "accountId": "1", "configuration": {}});
        let e = Item::from_envelope_json(&missing.to_string()).expect_err("no resourceId");
        assert!(e.message().contains("`resourceId` is required"), "{e}");
        let bad = json!({"resourceType": "T", "resourceId": "i", "accountId": "1",
                         "configuration": "{not json"});
        let e = Item::from_envelope_json(&bad.to_string()).expect_err("bad configuration");
        assert!(e.message().contains("`configuration`"), "{e}");
        assert!(Item::from_envelope_json("[1]").is_err());
        assert!(Item::from_envelope_json("{").is_err());
    }

    #[test]
    fn typed_configuration_errors_name_the_item() {
        #[derive(serde::Deserialize)]
        struct Config {
            #[allow(dead_code)]
            port: u16,
        }
        let item = Item::new("AWS::X::Y", "x-1").with_configuration_text("{\"port\": \"no\"}");
        let e = item.configuration::<Config>().err().expect("type mismatch");
        assert!(
            e.message().starts_with("configuration of AWS::X::Y x-1: "),
            "{e}"
        );
        let empty = Item::new("AWS::X::Y", "x-1");
        assert_eq!(empty.supplementary_value().expect("{}"), json!({}));
    }
}
