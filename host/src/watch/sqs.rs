//! SQS queues of one region: the queue policy (decoded to a JSON object), redrive settings,
//! encryption and the other durable attributes, and tags. Message counts are never recorded:
//! they change by the second and say nothing about configuration.

use serde_json::{Map, Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const QUEUE: &str = "AWS::SQS::Queue";

/// SQS: the queues of one region.
pub struct SqsWatcher;

#[async_trait::async_trait]
impl super::Watcher for SqsWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[QUEUE]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("sqs:GetQueueAttributes", "sqs:GetQueueAttributes"),
            ("sqs:ListQueueTags", "sqs:ListQueueTags"),
            ("sqs:ListQueues", "sqs:ListQueues"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

/// Attributes that hold JSON documents, stored decoded.
const JSON_ATTRIBUTES: &[&str] = &["Policy", "RedrivePolicy", "RedriveAllowPolicy"];

/// SQS returns every attribute as text; numbers and booleans are stored as JSON values so a
/// change reads as one, and policies as objects.
fn attribute_value(name: &str, text: &str) -> Value {
    if JSON_ATTRIBUTES.contains(&name) {
        return doc::policy_document(Some(text));
    }
    if let Ok(n) = text.parse::<i64>() {
        return json!(n);
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text.to_string()),
    }
}

/// The durable attributes as a configuration object; `Approximate*` counters are dropped.
pub fn configuration(queue_url: &str, attributes: &[(String, String)]) -> Value {
    let mut config = Map::new();
    config.insert("queueUrl".into(), json!(queue_url));
    config.insert(
        "queueName".into(),
        json!(queue_url.rsplit('/').next().unwrap_or(queue_url)),
    );
    config.insert("policy".into(), Value::Null);
    for (name, text) in attributes {
        if name.starts_with("Approximate") {
            continue;
        }
        config.insert(doc::camel(name), attribute_value(name, text));
    }
    Value::Object(config)
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let sqs = s.sqs(region);
    let mut urls = Vec::new();
    let mut pages = sqs.list_queues().into_paginator().send();
    loop {
        s.pace("sqs").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk(format!("ListQueues ({region})"), &e))?;
        urls.extend(page.queue_urls().iter().cloned());
    }
    let mut items = Vec::with_capacity(urls.len());
    for url in urls {
        if let Some(item) = queue_item(s, &sqs, region, &url).await? {
            items.push(item);
        }
    }
    Ok(items)
}

/// `None` when the queue went away between the listing and the describe.
async fn queue_item(
    s: &AccountSession,
    sqs: &aws_sdk_sqs::Client,
    region: &str,
    url: &str,
) -> Result<Option<Item>, WatchError> {
    s.pace("sqs").await;
    let attrs = match sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(WatchError::sdk(format!("GetQueueAttributes {url}"), &e)),
    };
    let mut attributes: Vec<(String, String)> = attrs
        .attributes()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    attributes.sort();
    s.pace("sqs").await;
    let mut tags: Vec<(String, String)> = match sqs.list_queue_tags().queue_url(url).send().await {
        Ok(out) => out
            .tags()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(WatchError::sdk(format!("ListQueueTags {url}"), &e)),
    };
    tags.sort();
    let mut configuration = configuration(url, &attributes);
    configuration["tags"] = doc::tag_list(&tags);
    let name = configuration["queueName"]
        .as_str()
        .unwrap_or(url)
        .to_string();
    let arn = configuration["queueArn"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| format!("arn:aws:sqs:{region}:{}:{name}", s.account_id));
    Ok(Some(
        Envelope {
            resource_type: QUEUE,
            resource_id: url.to_string(),
            resource_name: name,
            arn,
            account_id: &s.account_id,
            region,
            configuration,
            supplementary: json!({}),
            tags,
        }
        .into_item(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_become_typed_camel_case_values() {
        let attrs = vec![
            ("ApproximateNumberOfMessages".to_string(), "12".to_string()),
            ("FifoQueue".to_string(), "true".to_string()),
            (
                "Policy".to_string(),
                r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(),
            ),
            (
                "QueueArn".to_string(),
                "arn:aws:sqs:us-east-1:1:q".to_string(),
            ),
            ("VisibilityTimeout".to_string(), "30".to_string()),
        ];
        let c = configuration("https://sqs.us-east-1.amazonaws.com/1/q", &attrs);
        assert_eq!(c["queueName"], "q");
        assert_eq!(c["fifoQueue"], true);
        assert_eq!(c["visibilityTimeout"], 30);
        assert_eq!(c["policy"]["Version"], "2012-10-17");
        assert_eq!(c["queueArn"], "arn:aws:sqs:us-east-1:1:q");
        assert!(c.get("approximateNumberOfMessages").is_none());
    }

    #[test]
    fn a_queue_without_a_policy_records_null() {
        let c = configuration("https://x/1/q", &[]);
        assert_eq!(c["policy"], Value::Null);
    }
}
