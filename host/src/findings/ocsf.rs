//! An issue as an OCSF 1.6.0 Detection Finding (class 2004, category 2 Findings), the schema
//! version AWS Security Hub ingests. `docs/findings-export.md` has the field mapping.
//!
//! Owns the mapping of an issue's facts to OCSF: the severity bands over simian's scores
//! ([`Severity::of_score`]), the finding status ([`status`]) and the finding activity
//! ([`activity`]). It must never emit an attribute the 1.6.0 schema does not define for the
//! class or object it sits in (the end-to-end tests validate against the vendored schema), and
//! never uses the store's row id as the finding's identity (it differs between stores).

use std::collections::HashMap;

use serde::Serialize;

use crate::store::{IssueRow, StoredIssue};

/// The OCSF schema version the findings follow (`metadata.version`).
pub const SCHEMA_VERSION: &str = "1.6.0";
pub const CATEGORY_UID: u32 = 2;
pub const CATEGORY_NAME: &str = "Findings";
pub const CLASS_UID: u32 = 2004;
pub const CLASS_NAME: &str = "Detection Finding";
/// The OCSF profiles the findings apply: `cloud` brings `cloud` and the resources' `region`.
pub const PROFILES: &[&str] = &["cloud"];

/// What the exporter says about itself and the accounts it names.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// simian's version (`metadata.product.version`).
    pub product_version: String,
    /// Account id → the name the configuration gives it (`cloud.account.name`).
    pub account_names: HashMap<String, String>,
    /// Issues whose score changed since first recorded (the store's issue timeline).
    pub rescored: std::collections::HashSet<i64>,
}

impl Context {
    pub fn new(product_version: &str) -> Self {
        Context {
            product_version: product_version.into(),
            account_names: HashMap::new(),
            rescored: Default::default(),
        }
    }
}

/// `severity_id` from the issue's score. simian scores as Security Monkey did: 0 is
/// informational (a cross-account grant to a known account), 1–3 hygiene, 5–7 a risky
/// grant, 8 a broken control (insecure TLS), 10 the worst the shipped rules say (internet
/// accessible, unknown access, admin rights). Critical is left to operators, who raise a
/// check's score to 20 or more with an `[[overrides]]` entry; Fatal (data loss) is never
/// claimed by a configuration check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Informational = 1,
    Low = 2,
    Medium = 3,
    High = 4,
    Critical = 5,
}

impl Severity {
    pub fn of_score(score: u32) -> Severity {
        match score {
            0 => Severity::Informational,
            1..=3 => Severity::Low,
            4..=7 => Severity::Medium,
            8..=19 => Severity::High,
            _ => Severity::Critical,
        }
    }

    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn caption(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }
}

/// The finding activity (`activity_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Create = 1,
    Update = 2,
    Close = 3,
}

impl Activity {
    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn caption(self) -> &'static str {
        match self {
            Activity::Create => "Create",
            Activity::Update => "Update",
            Activity::Close => "Close",
        }
    }
}

/// The finding status (`status_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    New = 1,
    InProgress = 2,
    Suppressed = 3,
    Resolved = 4,
    Archived = 5,
}

impl Status {
    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn caption(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::InProgress => "In Progress",
            Status::Suppressed => "Suppressed",
            Status::Resolved => "Resolved",
            Status::Archived => "Archived",
        }
    }
}

/// The facts about an issue that decide its OCSF activity and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IssueFacts {
    pub open: bool,
    /// Closed because its plugin was unloaded, not because anything was fixed.
    pub retired: bool,
    /// Open again after having been fixed (at least once).
    pub regressed: bool,
    /// Its score changed since it was first recorded (a new plugin version or an override).
    /// [`IssueFacts::of`] cannot see it (a row holds only the current score): the export
    /// sets it from the issue timeline.
    pub rescored: bool,
    /// An audit after the first one found it again (`last_seen` later than `first_seen`).
    pub seen_again: bool,
    /// A justification is in force, or the operator disabled the check for its account.
    pub suppressed: bool,
}

impl IssueFacts {
    pub fn of(i: &StoredIssue) -> IssueFacts {
        IssueFacts {
            open: i.open,
            retired: i.retired,
            regressed: i.regressions > 0,
            rescored: false,
            seen_again: i.last_seen_ms > i.first_seen_ms,
            suppressed: i.justification.is_some() || i.disabled,
        }
    }
}

/// Create for an open issue that never came back, Update for one that regressed or was
/// re-scored, Close for one fixed or retired.
pub fn activity(facts: &IssueFacts) -> Activity {
    if !facts.open {
        Activity::Close
    } else if facts.regressed || facts.rescored {
        Activity::Update
    } else {
        Activity::Create
    }
}

/// Resolved when fixed, Archived when retired (its plugin went away: nobody fixed it), and
/// for an open issue: Suppressed when justified (or its check disabled), In Progress when it
/// regressed, was re-scored or was found again by a later audit, New otherwise.
pub fn status(facts: &IssueFacts) -> Status {
    match (facts.open, facts.retired) {
        (false, true) => Status::Archived,
        (false, false) => Status::Resolved,
        (true, _) if facts.suppressed => Status::Suppressed,
        (true, _) if facts.regressed || facts.rescored || facts.seen_again => Status::InProgress,
        (true, _) => Status::New,
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DetectionFinding {
    pub activity_id: u8,
    pub activity_name: &'static str,
    pub category_uid: u32,
    pub category_name: &'static str,
    pub class_uid: u32,
    pub class_name: &'static str,
    pub type_uid: u32,
    pub type_name: String,
    pub severity_id: u8,
    pub severity: &'static str,
    pub status_id: u8,
    pub status: &'static str,
    /// When the finding last changed: fixed time when closed, else last seen (epoch ms).
    pub time: i64,
    pub message: String,
    /// True for a Create or Update that is not suppressed.
    pub is_alert: bool,
    /// simian's score as is.
    pub risk_score: u32,
    /// The justification in force, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub finding_info: FindingInfo,
    pub resources: Vec<ResourceDetails>,
    pub cloud: Cloud,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation>,
    pub metadata: Metadata,
    /// simian's own facts with no OCSF attribute.
    pub unmapped: Unmapped,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FindingInfo {
    pub uid: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    pub analytic: Analytic,
    pub created_time: i64,
    pub first_seen_time: i64,
    pub last_seen_time: i64,
    pub modified_time: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Analytic {
    /// `<plugin>/<check id>`.
    pub uid: String,
    pub name: String,
    pub type_id: u8,
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// The plugin version that last judged the issue.
    pub version: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ResourceDetails {
    /// The ARN.
    pub uid: String,
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_partition: Option<String>,
    pub role_id: u8,
    pub role: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Cloud {
    pub provider: &'static str,
    pub account: Account,
    pub region: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Account {
    pub uid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub type_id: u8,
    #[serde(rename = "type")]
    pub type_name: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Remediation {
    pub desc: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Metadata {
    pub version: &'static str,
    pub product: Product,
    pub profiles: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Product {
    pub name: &'static str,
    pub vendor_name: &'static str,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Unmapped {
    /// The issue's id in this store (`simian justify <id>`); not an identity elsewhere.
    pub simian_issue_id: i64,
    pub simian_regressions: u32,
    pub simian_check_disabled: bool,
}

/// `aws`, `aws-cn`, `aws-us-gov`, … from an ARN.
fn partition(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(3, ':');
    match (parts.next(), parts.next()) {
        (Some("arn"), Some(p)) if !p.is_empty() => Some(p.to_string()),
        _ => None,
    }
}

/// The Detection Finding of one listed issue.
pub fn detection_finding(r: &IssueRow, context: &Context) -> DetectionFinding {
    let i = &r.issue;
    let facts = IssueFacts {
        rescored: context.rescored.contains(&i.id),
        ..IssueFacts::of(i)
    };
    let activity = activity(&facts);
    let status = status(&facts);
    let severity = Severity::of_score(i.score);
    let modified = i.fixed_ms.unwrap_or(i.last_seen_ms).max(i.last_seen_ms);
    let state = match status {
        Status::Resolved => " (fixed)",
        Status::Archived => " (retired)",
        Status::Suppressed => " (suppressed)",
        _ => "",
    };
    DetectionFinding {
        activity_id: activity.id(),
        activity_name: activity.caption(),
        category_uid: CATEGORY_UID,
        category_name: CATEGORY_NAME,
        class_uid: CLASS_UID,
        class_name: CLASS_NAME,
        type_uid: CLASS_UID * 100 + u32::from(activity.id()),
        type_name: format!("{CLASS_NAME}: {}", activity.caption()),
        severity_id: severity.id(),
        severity: severity.caption(),
        status_id: status.id(),
        status: status.caption(),
        time: modified,
        message: format!(
            "{}: {} {} in account {} {}{state}",
            i.title, r.resource_type, r.resource_name, r.account_id, r.region
        ),
        is_alert: activity != Activity::Close && status != Status::Suppressed,
        risk_score: i.score,
        comment: i.justification.as_ref().map(|j| {
            let until = j
                .until_ms
                .map(|u| format!(" until {}", crate::when::rfc3339(u)))
                .unwrap_or_default();
            format!("Justified by {}{until}: {}", j.by, j.reason)
        }),
        finding_info: FindingInfo {
            uid: super::row_uid(r),
            title: i.title.clone(),
            desc: (!i.notes.is_empty()).then(|| i.notes.clone()),
            analytic: Analytic {
                uid: format!("{}/{}", i.plugin, i.check_id),
                name: i.title.clone(),
                type_id: 1,
                type_name: "Rule",
                version: i.plugin_version.clone(),
            },
            created_time: i.first_seen_ms,
            first_seen_time: i.first_seen_ms,
            last_seen_time: i.last_seen_ms,
            modified_time: modified,
        },
        resources: vec![ResourceDetails {
            uid: r.arn.clone(),
            name: r.resource_name.clone(),
            type_name: r.resource_type.clone(),
            region: r.region.clone(),
            cloud_partition: partition(&r.arn),
            role_id: 3,
            role: "Affected",
        }],
        cloud: Cloud {
            provider: "AWS",
            account: Account {
                uid: r.account_id.clone(),
                name: context.account_names.get(&r.account_id).cloned(),
                type_id: 10,
                type_name: "AWS Account",
            },
            region: r.region.clone(),
        },
        remediation: i
            .remediation
            .as_ref()
            .filter(|d| !d.is_empty())
            .map(|d| Remediation { desc: d.clone() }),
        metadata: Metadata {
            version: SCHEMA_VERSION,
            product: Product {
                name: "simian",
                vendor_name: "simian",
                version: context.product_version.clone(),
            },
            profiles: PROFILES.to_vec(),
        },
        unmapped: Unmapped {
            simian_issue_id: i.id,
            simian_regressions: i.regressions,
            simian_check_disabled: i.disabled,
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::Justification;

    pub(crate) fn row() -> IssueRow {
        IssueRow {
            issue: StoredIssue {
                id: 7,
                item_id: 3,
                plugin: "security-group".into(),
                check_id: "internet-accessible-ingress".into(),
                title: "Internet Accessible".into(),
                score: 10,
                notes: "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22]".into(),
                remediation: Some("Narrow the rule.".into()),
                open: true,
                first_seen_ms: 1_000,
                last_seen_ms: 1_000,
                fixed_ms: None,
                regressions: 0,
                plugin_version: "1.2.0".into(),
                plugin_generation: 1,
                justification: None,
                disabled: false,
                retired: false,
            },
            arn: "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1".into(),
            resource_type: "AWS::EC2::SecurityGroup".into(),
            resource_name: "web".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn severity_bands() {
        let bands: Vec<(u32, u8)> = [0, 1, 3, 4, 7, 8, 10, 19, 20, 1000]
            .into_iter()
            .map(|s| (s, Severity::of_score(s).id()))
            .collect();
        assert_eq!(
            bands,
            [
                (0, 1),
                (1, 2),
                (3, 2),
                (4, 3),
                (7, 3),
                (8, 4),
                (10, 4),
                (19, 4),
                (20, 5),
                (1000, 5)
            ]
        );
    }

    #[test]
    fn lifecycle_maps_to_activity_and_status() {
        let open = IssueFacts {
            open: true,
            ..Default::default()
        };
        let case = |f: IssueFacts| (activity(&f).id(), status(&f).id());
        assert_eq!(case(open), (1, 1));
        assert_eq!(
            case(IssueFacts {
                seen_again: true,
                ..open
            }),
            (1, 2)
        );
        assert_eq!(
            case(IssueFacts {
                regressed: true,
                ..open
            }),
            (2, 2)
        );
        assert_eq!(
            case(IssueFacts {
                rescored: true,
                ..open
            }),
            (2, 2)
        );
        assert_eq!(
            case(IssueFacts {
                suppressed: true,
                regressed: true,
                ..open
            }),
            (2, 3)
        );
        assert_eq!(case(IssueFacts::default()), (3, 4));
        assert_eq!(
            case(IssueFacts {
                retired: true,
                ..Default::default()
            }),
            (3, 5)
        );
    }

    #[test]
    fn finding_carries_identity_resource_and_classification() {
        let mut r = row();
        r.issue.justification = Some(Justification {
            reason: "bastion".into(),
            by: "alice".into(),
            at_ms: 1_500,
            until_ms: None,
        });
        r.issue.last_seen_ms = 2_000;
        let mut context = Context::new("0.1.0");
        context
            .account_names
            .insert("123456789012".into(), "prod".into());
        let f = serde_json::to_value(detection_finding(&r, &context)).expect("json");
        assert_eq!(f["class_uid"], 2004);
        assert_eq!(f["type_uid"], 200401);
        assert_eq!(f["status_id"], 3);
        assert_eq!(f["is_alert"], false);
        assert_eq!(f["severity_id"], 4);
        assert_eq!(f["time"], 2_000);
        assert_eq!(f["comment"], "Justified by alice: bastion");
        assert_eq!(f["finding_info"]["uid"], crate::findings::row_uid(&r));
        assert_eq!(
            f["finding_info"]["analytic"]["uid"],
            "security-group/internet-accessible-ingress"
        );
        assert_eq!(f["finding_info"]["analytic"]["version"], "1.2.0");
        assert_eq!(f["resources"][0]["uid"], r.arn);
        assert_eq!(f["resources"][0]["cloud_partition"], "aws");
        assert_eq!(f["cloud"]["account"]["name"], "prod");
        assert_eq!(f["remediation"]["desc"], "Narrow the rule.");
        assert_eq!(f["metadata"]["version"], "1.6.0");
        assert_eq!(f["metadata"]["product"]["version"], "0.1.0");
    }
}
