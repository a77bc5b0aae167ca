//! The SQS queue events arrive on: long-poll receives of up to ten messages, and batch
//! deletes once what a message set off is recorded (at-least-once: a message whose refresh
//! failed is left to reappear after its visibility timeout).
//!
//! It must never interpret a message body.

use aws_config::SdkConfig;
use aws_types::region::Region;

use crate::watch::error_text;

/// One received message.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
#[error("event queue {url}: {message}")]
pub struct QueueError {
    pub url: String,
    pub message: String,
}

pub struct EventQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

/// The region in an SQS queue URL (`https://sqs.eu-west-1.amazonaws.com/…`), if it names one.
fn region_of(url: &str) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_string();
    let mut parts = host.split('.');
    match (parts.next(), parts.next()) {
        (Some("sqs"), Some(region)) if region.contains('-') => Some(region.to_string()),
        _ => None,
    }
}

impl EventQueue {
    /// The queue at `url`, read as the hub identity (the queue lives in the hub account).
    pub fn new(hub: &SdkConfig, url: &str) -> EventQueue {
        let mut conf = aws_sdk_sqs::config::Builder::from(hub);
        if let Some(region) = region_of(url) {
            conf = conf.region(Region::new(region));
        }
        EventQueue {
            client: aws_sdk_sqs::Client::from_conf(conf.build()),
            url: url.to_string(),
        }
    }

    fn error(&self, what: &str, e: &impl std::error::Error) -> QueueError {
        QueueError {
            url: self.url.clone(),
            message: format!("{what}: {}", error_text(e)),
        }
    }

    /// Up to ten messages, waiting up to `wait_seconds` for the first.
    pub async fn receive(&self, wait_seconds: i32) -> Result<Vec<Received>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .send()
            .await
            .map_err(|e| self.error("ReceiveMessage", &e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                Some(Received {
                    message_id: m.message_id()?.to_string(),
                    receipt: m.receipt_handle()?.to_string(),
                    body: m.body().unwrap_or_default().to_string(),
                })
            })
            .collect())
    }

    /// Delete these messages (ten per call); returns how many SQS confirmed.
    pub async fn delete(&self, receipts: &[String]) -> Result<usize, QueueError> {
        let mut deleted = 0;
        for chunk in receipts.chunks(10) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(r)
                        .build()
                        .ok()
                })
                .collect();
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.error("DeleteMessageBatch", &e))?;
            deleted += out.successful().len();
            for f in out.failed() {
                tracing::warn!(code = %f.code(), "an event message could not be deleted; it will be seen again");
            }
        }
        Ok(deleted)
    }

    /// Messages waiting (approximately), for the drill and the metrics.
    pub async fn depth(&self) -> Result<u64, QueueError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| self.error("GetQueueAttributes", &e))?;
        Ok(out
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            })
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_queue_url() {
        assert_eq!(
            region_of("https://sqs.eu-west-1.amazonaws.com/111122223333/events").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of("http://127.0.0.1:5000/123456789012/events"), None);
        assert_eq!(region_of("not a url"), None);
    }
}
