//! One queued CloudTrail event, read from the EventBridge envelope SQS delivers ("AWS API Call
//! via CloudTrail"): where it happened, what was called, whether it failed, and who called it.
//!
//! Pure parsing of untrusted text. It must never decide what the event means for the estate
//! (that is `map`), and never fail on an unknown field: only on a message that is no event.

use serde_json::Value;
use simian_model::actor::Actor;

/// What an event says, as far as the refresh cares.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    /// The account whose resource changed (`recipientAccountId`, else the envelope's
    /// `account`, else the caller's account).
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub actor: Actor,
    /// CloudTrail's `errorCode`: the call failed and changed nothing.
    pub error_code: Option<String>,
    pub request: Value,
    pub response: Value,
    /// The event time in unix milliseconds, when it parses.
    pub event_time_ms: Option<i64>,
}

/// Why a message is no event (a poison message: dropped, never retried forever).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message body is not JSON: {0}")]
    NotJson(String),
    #[error("the message has no `detail` object (not an EventBridge CloudTrail event)")]
    NoDetail,
    #[error("the event has no `{0}`")]
    Missing(&'static str),
}

/// Read one SQS message body.
pub fn parse(body: &str) -> Result<CloudEvent, MessageError> {
    let v: Value = serde_json::from_str(body).map_err(|e| MessageError::NotJson(e.to_string()))?;
    // EventBridge wraps the CloudTrail record in `detail`; a bare record (a trail's own
    // delivery, or a test) is accepted as is.
    let detail = match v.get("detail") {
        Some(d) if d.is_object() => d,
        Some(_) => return Err(MessageError::NoDetail),
        None if v.get("eventName").is_some() => &v,
        None => return Err(MessageError::NoDetail),
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let required = |k: &'static str| s(detail, k).ok_or(MessageError::Missing(k));
    let identity = detail.get("userIdentity").cloned().unwrap_or(Value::Null);
    let event_time = s(detail, "eventTime")
        .or_else(|| s(&v, "time"))
        .ok_or(MessageError::Missing("eventTime"))?;
    let actor = Actor {
        arn: s(&identity, "arn"),
        identity_type: s(&identity, "type"),
        invoked_by: s(&identity, "invokedBy"),
        event_source: required("eventSource")?,
        event_name: required("eventName")?,
        source_ip: s(detail, "sourceIPAddress"),
        user_agent: s(detail, "userAgent"),
        event_id: required("eventID")?,
        event_time,
    };
    Ok(CloudEvent {
        account_id: s(detail, "recipientAccountId")
            .or_else(|| s(&v, "account"))
            .or_else(|| s(&identity, "accountId")),
        region: s(detail, "awsRegion").or_else(|| s(&v, "region")),
        event_time_ms: crate::when::parse_rfc3339_ms(&actor.event_time),
        actor,
        error_code: s(detail, "errorCode"),
        request: detail
            .get("requestParameters")
            .cloned()
            .unwrap_or(Value::Null),
        response: detail
            .get("responseElements")
            .cloned()
            .unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(detail: Value) -> String {
        serde_json::json!({
            "version": "0",
            "id": "6f1c",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.ec2",
            "time": "2026-11-30T09:00:01Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        })
        .to_string()
    }

    #[test]
    fn an_eventbridge_cloudtrail_event_is_read() {
        let body = envelope(serde_json::json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                             "accountId": "111122223333"},
            "eventTime": "2026-11-30T09:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "AuthorizeSecurityGroupIngress",
            "awsRegion": "eu-west-1",
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15",
            "requestParameters": {"groupId": "sg-1"},
            "responseElements": {"_return": true},
            "eventID": "e-1",
            "recipientAccountId": "444455556666",
        }));
        let e = parse(&body).expect("parses");
        assert_eq!(e.account_id.as_deref(), Some("444455556666"));
        assert_eq!(e.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            e.actor.arn.as_deref(),
            Some("arn:aws:iam::111122223333:user/alice")
        );
        assert_eq!(e.actor.identity_type.as_deref(), Some("IAMUser"));
        assert_eq!(e.actor.event_name, "AuthorizeSecurityGroupIngress");
        assert_eq!(e.actor.source_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(e.actor.user_agent.as_deref(), Some("aws-cli/2.15"));
        assert_eq!(e.actor.event_id, "e-1");
        assert_eq!(e.event_time_ms, Some(1_796_029_200_000));
        assert_eq!(e.request["groupId"], "sg-1");
        assert_eq!(e.error_code, None);
    }

    #[test]
    fn the_account_falls_back_to_the_envelope_then_the_caller() {
        let detail = serde_json::json!({
            "userIdentity": {"type": "Root", "accountId": "111122223333"},
            "eventTime": "2026-11-30T09:00:00Z", "eventSource": "s3.amazonaws.com",
            "eventName": "PutBucketPolicy", "eventID": "e-2", "errorCode": "AccessDenied",
        });
        let e = parse(&envelope(detail.clone())).expect("parses");
        assert_eq!(e.account_id.as_deref(), Some("111122223333"));
        assert_eq!(e.error_code.as_deref(), Some("AccessDenied"));
        let mut with_account: Value = serde_json::from_str(&envelope(detail)).unwrap();
        with_account["account"] = "999988887777".into();
        let e = parse(&with_account.to_string()).expect("parses");
        assert_eq!(e.account_id.as_deref(), Some("999988887777"));
    }

    #[test]
    fn poison_is_told_apart() {
        assert!(matches!(parse("not json"), Err(MessageError::NotJson(_))));
        assert_eq!(parse("{}"), Err(MessageError::NoDetail));
        assert_eq!(parse(r#"{"detail": "x"}"#), Err(MessageError::NoDetail));
        assert_eq!(
            parse(&envelope(
                serde_json::json!({"eventTime": "2026-11-30T09:00:00Z",
                "eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy"})
            )),
            Err(MessageError::Missing("eventID"))
        );
    }
}
