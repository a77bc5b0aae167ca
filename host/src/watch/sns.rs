//! SNS topics of one region: the topic policy (decoded), delivery policy, encryption key,
//! the subscriptions with the account that owns each, and tags. Subscription counters are
//! never recorded: they move with every confirmation and say nothing about configuration.

use serde_json::{Map, Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const TOPIC: &str = "AWS::SNS::Topic";

/// SNS: the topics of one region.
pub struct SnsWatcher;

#[async_trait::async_trait]
impl super::Watcher for SnsWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[TOPIC]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("sns:GetTopicAttributes", "sns:GetTopicAttributes"),
            (
                "sns:ListSubscriptionsByTopic",
                "sns:ListSubscriptionsByTopic",
            ),
            ("sns:ListTagsForResource", "sns:ListTagsForResource"),
            ("sns:ListTopics", "sns:ListTopics"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

/// Attributes that hold JSON documents, stored decoded.
const JSON_ATTRIBUTES: &[&str] = &["Policy", "DeliveryPolicy", "EffectiveDeliveryPolicy"];

/// Counters that change without anyone configuring anything.
const COUNTERS: &[&str] = &[
    "SubscriptionsConfirmed",
    "SubscriptionsPending",
    "SubscriptionsDeleted",
];

/// The topic's attributes as a configuration object, with its subscriptions.
pub fn configuration(attributes: &[(String, String)], subscriptions: Vec<Value>) -> Value {
    let mut config = Map::new();
    config.insert("policy".into(), Value::Null);
    for (name, text) in attributes {
        if COUNTERS.contains(&name.as_str()) {
            continue;
        }
        let value = if JSON_ATTRIBUTES.contains(&name.as_str()) {
            doc::policy_document(Some(text))
        } else {
            match text.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(text.clone()),
            }
        };
        config.insert(doc::camel(name), value);
    }
    config.insert("subscriptions".into(), Value::Array(subscriptions));
    Value::Object(config)
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let sns = s.sns(region);
    let mut arns = Vec::new();
    let mut pages = sns.list_topics().into_paginator().send();
    loop {
        s.pace("sns").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk(format!("ListTopics ({region})"), &e))?;
        arns.extend(
            page.topics()
                .iter()
                .filter_map(|t| t.topic_arn())
                .map(String::from),
        );
    }
    let mut items = Vec::with_capacity(arns.len());
    for arn in arns {
        if let Some(item) = topic_item(s, &sns, region, &arn).await? {
            items.push(item);
        }
    }
    Ok(items)
}

async fn subscriptions(
    s: &AccountSession,
    sns: &aws_sdk_sns::Client,
    arn: &str,
) -> Result<Option<Vec<Value>>, WatchError> {
    let mut subs = Vec::new();
    let mut pages = sns
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .into_paginator()
        .send();
    loop {
        s.pace("sns").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = match page {
            Ok(p) => p,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => {
                return Err(WatchError::sdk(
                    format!("ListSubscriptionsByTopic {arn}"),
                    &e,
                ));
            }
        };
        for sub in page.subscriptions() {
            subs.push(json!({
                "subscriptionArn": sub.subscription_arn(),
                "owner": sub.owner(),
                "protocol": sub.protocol(),
                "endpoint": sub.endpoint(),
            }));
        }
    }
    subs.sort_by_key(|v| v.to_string());
    Ok(Some(subs))
}

/// `None` when the topic went away between the listing and the describe.
async fn topic_item(
    s: &AccountSession,
    sns: &aws_sdk_sns::Client,
    region: &str,
    arn: &str,
) -> Result<Option<Item>, WatchError> {
    s.pace("sns").await;
    let attrs = match sns.get_topic_attributes().topic_arn(arn).send().await {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(WatchError::sdk(format!("GetTopicAttributes {arn}"), &e)),
    };
    let mut attributes: Vec<(String, String)> = attrs
        .attributes()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    attributes.sort();
    let Some(subs) = subscriptions(s, sns, arn).await? else {
        return Ok(None);
    };
    s.pace("sns").await;
    let mut tags: Vec<(String, String)> =
        match sns.list_tags_for_resource().resource_arn(arn).send().await {
            Ok(out) => out
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(WatchError::sdk(format!("ListTagsForResource {arn}"), &e)),
        };
    tags.sort();
    let mut configuration = configuration(&attributes, subs);
    configuration["tags"] = doc::tag_list(&tags);
    let name = arn.rsplit(':').next().unwrap_or(arn).to_string();
    Ok(Some(
        Envelope {
            resource_type: TOPIC,
            resource_id: arn.to_string(),
            resource_name: name,
            arn: arn.to_string(),
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
    fn counters_are_dropped_and_policies_decoded() {
        let attrs = vec![
            (
                "Policy".to_string(),
                r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(),
            ),
            ("SubscriptionsConfirmed".to_string(), "3".to_string()),
            (
                "TopicArn".to_string(),
                "arn:aws:sns:us-east-1:1:t".to_string(),
            ),
        ];
        let c = configuration(&attrs, vec![json!({"owner": "1"})]);
        assert_eq!(c["policy"]["Version"], "2012-10-17");
        assert_eq!(c["topicArn"], "arn:aws:sns:us-east-1:1:t");
        assert!(c.get("subscriptionsConfirmed").is_none());
        assert_eq!(c["subscriptions"][0]["owner"], "1");
    }
}
