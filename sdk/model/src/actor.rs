//! Who made a change, as CloudTrail recorded it: attached by the host to the revision an
//! event-driven refresh (or a sweep's CloudTrail lookup) recorded, shown by `simian history`
//! and handed to notifiers.
//!
//! Every field comes from AWS event text, so it is untrusted: escape it wherever it is shown.

use serde::{Deserialize, Serialize};

/// How a revision was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// A periodic (or manual) sweep listed the change.
    Sweep,
    /// A CloudTrail event set off a refresh of the item.
    Event,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Sweep => "sweep",
            Via::Event => "event",
        }
    }

    pub fn parse(s: &str) -> Option<Via> {
        match s {
            "sweep" => Some(Via::Sweep),
            "event" => Some(Via::Event),
            _ => None,
        }
    }
}

/// The identity and request behind one change (CloudTrail's `userIdentity` and request
/// fields, camel-cased as CloudTrail spells them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// `userIdentity.arn` (absent for some AWS service principals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// `userIdentity.type`: `IAMUser`, `AssumedRole`, `Root`, `AWSService`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_type: Option<String>,
    /// `userIdentity.invokedBy` or the service principal, when an AWS service acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
    pub event_source: String,
    pub event_name: String,
    /// RFC 3339, as CloudTrail wrote it.
    pub event_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    pub event_id: String,
}

impl Actor {
    /// The identity in one phrase: the ARN, else the invoking service, else the type.
    pub fn who(&self) -> &str {
        self.arn
            .as_deref()
            .or(self.invoked_by.as_deref())
            .or(self.identity_type.as_deref())
            .unwrap_or("unknown identity")
    }

    /// One line for humans: `arn:aws:iam::1:user/alice (IAMUser) AuthorizeSecurityGroupIngress
    /// at 2026-11-30T09:00:00Z from 203.0.113.7`.
    pub fn summary(&self) -> String {
        let mut s = self.who().to_string();
        if let (Some(t), true) = (&self.identity_type, self.arn.is_some()) {
            s.push_str(&format!(" ({t})"));
        }
        s.push_str(&format!(" {} at {}", self.event_name, self.event_time));
        if let Some(ip) = &self.source_ip {
            s.push_str(&format!(" from {ip}"));
        }
        s
    }
}

/// Where a notifier finds the actor: the key the host adds to the item's supplementary
/// configuration in a notification (contract 0.1.0 has no field for it).
pub const SUPPLEMENTARY_KEY: &str = "simian:changedBy";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_who_what_when_and_where() {
        let a = Actor {
            arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            identity_type: Some("IAMUser".into()),
            event_source: "ec2.amazonaws.com".into(),
            event_name: "AuthorizeSecurityGroupIngress".into(),
            event_time: "2026-11-30T09:00:00Z".into(),
            source_ip: Some("203.0.113.7".into()),
            event_id: "e-1".into(),
            ..Actor::default()
        };
        assert_eq!(
            a.summary(),
            "arn:aws:iam::111122223333:user/alice (IAMUser) AuthorizeSecurityGroupIngress at \
             2026-11-30T09:00:00Z from 203.0.113.7"
        );
        let service = Actor {
            invoked_by: Some("cloudformation.amazonaws.com".into()),
            identity_type: Some("AWSService".into()),
            event_name: "CreateBucket".into(),
            event_time: "t".into(),
            ..Actor::default()
        };
        assert_eq!(
            service.summary(),
            "cloudformation.amazonaws.com CreateBucket at t"
        );
        let back: Actor = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
    }
}
