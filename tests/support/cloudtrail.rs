//! The event path as AWS lays it out, in the emulator: an SQS queue, an EventBridge rule that
//! forwards "AWS API Call via CloudTrail" events to it, and CloudTrail-shaped events put on
//! the bus (the emulator has no CloudTrail delivery of its own, so the tests play CloudTrail:
//! change the resource through the SDK, then put the event that change would have made).

use serde_json::{Value, json};

/// Who the events say made the change.
pub const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

/// The queue the host follows.
pub struct EventPipe {
    pub queue_url: String,
    sqs: aws_sdk_sqs::Client,
    bus: aws_sdk_eventbridge::Client,
}

impl EventPipe {
    /// A queue named `name`, and the default bus's rule forwarding CloudTrail API calls to it.
    pub async fn create(conf: &aws_config::SdkConfig, name: &str) -> EventPipe {
        let sqs = aws_sdk_sqs::Client::new(conf);
        let bus = aws_sdk_eventbridge::Client::new(conf);
        let queue_url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create queue")
            .queue_url()
            .expect("queue url")
            .to_string();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes");
        let queue_arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("queue arn")
            .clone();
        bus.put_rule()
            .name(format!("{name}-cloudtrail"))
            .event_pattern(json!({"detail-type": ["AWS API Call via CloudTrail"]}).to_string())
            .send()
            .await
            .expect("put rule");
        bus.put_targets()
            .rule(format!("{name}-cloudtrail"))
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("simian")
                    .arn(queue_arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("put targets");
        EventPipe {
            queue_url,
            sqs,
            bus,
        }
    }

    /// Put one CloudTrail record on the bus, as EventBridge would wrap it.
    pub async fn put(&self, record: &Value) {
        let source = source_of(record);
        let out = self
            .bus
            .put_events()
            .entries(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .source(source)
                    .detail_type("AWS API Call via CloudTrail")
                    .detail(record.to_string())
                    .build(),
            )
            .send()
            .await
            .expect("put events");
        assert_eq!(out.failed_entry_count(), 0, "{out:?}");
    }

    /// Put many records, ten per `PutEvents` call (its limit), several calls at a time.
    pub async fn put_many(&self, records: &[Value]) {
        let calls: Vec<_> = records
            .chunks(10)
            .map(|chunk| {
                let entries: Vec<_> = chunk
                    .iter()
                    .map(|r| {
                        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                            .source(source_of(r))
                            .detail_type("AWS API Call via CloudTrail")
                            .detail(r.to_string())
                            .build()
                    })
                    .collect();
                let bus = self.bus.clone();
                async move {
                    let out = bus
                        .put_events()
                        .set_entries(Some(entries))
                        .send()
                        .await
                        .expect("put events");
                    assert_eq!(out.failed_entry_count(), 0, "{out:?}");
                }
            })
            .collect();
        let mut calls = calls.into_iter();
        loop {
            let wave: Vec<_> = calls.by_ref().take(8).map(tokio::spawn).collect();
            if wave.is_empty() {
                break;
            }
            for call in wave {
                call.await.expect("put events task");
            }
        }
    }

    /// Send records straight to the queue as EventBridge would deliver them, ten per call,
    /// each delayed so that all become visible together at `visible_at` (to the second): the
    /// host's side of the path alone, a full queue at once, without the bus's delivery time.
    pub async fn send_many_visible_at(&self, records: &[Value], visible_at: std::time::Instant) {
        for (c, chunk) in records.chunks(10).enumerate() {
            let delay = visible_at
                .saturating_duration_since(std::time::Instant::now())
                .as_secs_f64()
                .round() as i32;
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let body = json!({
                        "version": "0",
                        "id": format!("eb-{c}-{i}"),
                        "detail-type": "AWS API Call via CloudTrail",
                        "source": source_of(r),
                        "account": r["recipientAccountId"],
                        "time": r["eventTime"],
                        "region": r["awsRegion"],
                        "resources": [],
                        "detail": r,
                    });
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .delay_seconds(delay)
                        .message_body(body.to_string())
                        .build()
                        .expect("entry")
                })
                .collect();
            let out = self
                .sqs
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("send message batch");
            assert!(out.failed().is_empty(), "{out:?}");
        }
    }

    /// Send a raw body straight to the queue (a redelivery, or poison).
    pub async fn send_raw(&self, body: &str) {
        self.sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .expect("send message");
    }

    /// Messages still on the queue, visible or in flight.
    pub async fn depth(&self) -> u64 {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes");
        let attrs = out.attributes().cloned().unwrap_or_default();
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .filter_map(|a| attrs.get(a).and_then(|v| v.parse::<u64>().ok()))
        .sum()
    }

    /// Wait until the host has taken everything off the queue.
    pub async fn wait_drained(&self, limit: std::time::Duration) -> bool {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if self.depth().await == 0 {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        false
    }
}

/// EventBridge's source for a CloudTrail record: `aws.ec2` for `ec2.amazonaws.com`.
fn source_of(record: &Value) -> String {
    record["eventSource"]
        .as_str()
        .and_then(|s| s.split('.').next())
        .map(|s| format!("aws.{s}"))
        .unwrap_or_else(|| "aws.unknown".into())
}

/// A CloudTrail record of a successful call by alice in `account`.
pub fn record(
    account: &str,
    source: &str,
    name: &str,
    request: Value,
    response: Value,
    event_id: &str,
) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAALICE",
            "arn": ALICE,
            "accountId": account,
            "userName": "alice",
        },
        "eventTime": now_rfc3339(),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": request,
        "responseElements": response,
        "requestID": format!("req-{event_id}"),
        "eventID": event_id,
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
    })
}

/// A successful EC2 call by alice on security group `group` (request `{"groupId": …}`).
pub fn group_event(name: &str, group: &str, event_id: &str) -> Value {
    record(
        crate::moto::ACCOUNT,
        "ec2.amazonaws.com",
        name,
        json!({"groupId": group}),
        json!({"_return": true}),
        event_id,
    )
}

/// The time now as CloudTrail writes it.
pub fn now_rfc3339() -> String {
    simian::when::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    )
}
