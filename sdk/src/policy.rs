//! IAM-style policy documents (identity, bucket, queue, key policies), normalised.
//!
//! AWS lets most fields be a string or a list of strings, and `Statement` an object or a list;
//! this module turns all of that into lists so auditors match one shape. Policies embedded
//! in AWS Config IAM items are URL-encoded; [`PolicyDocument::parse`] decodes those too.
//!
//! On top of that, the resource-policy analysis Security Monkey did with policyuniverse:
//! who a statement lets in ([`Statement::whos_allowed`], including the accounts, ARNs and
//! networks its conditions narrow it to), whether it is open to the internet
//! ([`Statement::is_internet_accessible`]), how each party relates to the item's account
//! ([`classify_entity`], through the host's `accounts` service), and the findings that
//! follow ([`resource_policy_findings`]).

use serde_json::{Map, Value};

use crate::Error;

#[cfg(test)]
mod analysis_tests;
mod classify;
mod entities;
mod rules;
mod sharing;

pub use classify::{EntityAccess, Finding, FindingKind, classify_entity, resource_policy_findings};
pub use entities::{Entity, Origin, Who, json_list};
pub use rules::{policy_checks, policy_issues};
pub use sharing::{EVERYONE, sharing_findings};

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principal>,
    pub not_principal: Option<Principal>,
    pub action: Vec<String>,
    pub not_action: Vec<String>,
    pub resource: Vec<String>,
    pub not_resource: Vec<String>,
    /// Kept as written; condition operators are too varied to normalise usefully.
    pub condition: Option<Value>,
}

/// Who a statement applies to. `"*"` sets `any`; the object form fills the typed lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    pub any: bool,
    /// Written as a bare string naming one principal (`"Principal": "arn:…"`), outside the
    /// policy grammar but seen in the wild; read as `{"AWS": "arn:…"}`, and findings say so.
    pub bare: bool,
    pub aws: Vec<String>,
    pub service: Vec<String>,
    pub federated: Vec<String>,
    pub canonical_user: Vec<String>,
}

impl Principal {
    /// Anyone at all: `"*"` or `{"AWS": "*"}`.
    pub fn is_anyone(&self) -> bool {
        self.any || self.aws.iter().any(|a| a == "*")
    }
}

impl PolicyDocument {
    /// JSON text, or URL-encoded JSON text as AWS Config stores IAM policies.
    pub fn parse(text: &str) -> Result<PolicyDocument, Error> {
        let trimmed = text.trim_start();
        let decoded;
        let json = if trimmed.starts_with('%') {
            decoded = url_decode(trimmed)?;
            decoded.as_str()
        } else {
            trimmed
        };
        let value: Value =
            serde_json::from_str(json).map_err(|e| Error::from(e).context("policy document"))?;
        PolicyDocument::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<PolicyDocument, Error> {
        let obj = value
            .as_object()
            .ok_or_else(|| Error::new("policy document must be a JSON object"))?;
        let statements = match obj.get("Statement") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    Statement::from_value(s).map_err(|e| e.context(format_args!("Statement[{i}]")))
                })
                .collect::<Result<_, _>>()?,
            Some(single @ Value::Object(_)) => vec![Statement::from_value(single)?],
            Some(_) => return Err(Error::new("`Statement` must be an object or a list")),
        };
        Ok(PolicyDocument {
            version: optional_string(obj, "Version")?,
            id: optional_string(obj, "Id")?,
            statements,
        })
    }

    /// The statements with `Effect: Allow`.
    pub fn allows(&self) -> impl Iterator<Item = &Statement> {
        self.statements.iter().filter(|s| s.effect == Effect::Allow)
    }
}

impl Statement {
    fn from_value(value: &Value) -> Result<Statement, Error> {
        let obj = value
            .as_object()
            .ok_or_else(|| Error::new("a statement must be a JSON object"))?;
        let effect = match obj.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            Some(other) => return Err(Error::new(format!("unknown `Effect` `{other}`"))),
            None => return Err(Error::new("`Effect` is required and must be a string")),
        };
        Ok(Statement {
            sid: optional_string(obj, "Sid")?,
            effect,
            principal: obj
                .get("Principal")
                .map(|p| Principal::from_value(p, "Principal"))
                .transpose()?,
            not_principal: obj
                .get("NotPrincipal")
                .map(|p| Principal::from_value(p, "NotPrincipal"))
                .transpose()?,
            action: string_or_list(obj.get("Action"), "Action")?,
            not_action: string_or_list(obj.get("NotAction"), "NotAction")?,
            resource: string_or_list(obj.get("Resource"), "Resource")?,
            not_resource: string_or_list(obj.get("NotResource"), "NotResource")?,
            condition: obj.get("Condition").filter(|c| !c.is_null()).cloned(),
        })
    }

    /// Whether this statement covers `action` (e.g. `s3:GetObject`), honouring wildcards in
    /// `Action` and the inversion of `NotAction`. Action names are case-insensitive in IAM.
    pub fn applies_to_action(&self, action: &str) -> bool {
        if !self.not_action.is_empty() {
            return !self.not_action.iter().any(|p| wildcard_match(p, action));
        }
        self.action.iter().any(|p| wildcard_match(p, action))
    }

    pub fn has_condition(&self) -> bool {
        self.condition
            .as_ref()
            .is_some_and(|c| c.as_object().is_none_or(|m| !m.is_empty()))
    }
}

impl Principal {
    fn from_value(value: &Value, field: &str) -> Result<Principal, Error> {
        match value {
            Value::String(s) if s == "*" => Ok(Principal {
                any: true,
                ..Principal::default()
            }),
            // Judged rather than refused: an unreadable policy would hide the whole item.
            Value::String(s) if !s.trim().is_empty() => Ok(Principal {
                bare: true,
                aws: vec![s.clone()],
                ..Principal::default()
            }),
            Value::Object(map) => {
                let mut principal = Principal::default();
                for (kind, ids) in map {
                    let list = match kind.as_str() {
                        "AWS" => &mut principal.aws,
                        "Service" => &mut principal.service,
                        "Federated" => &mut principal.federated,
                        "CanonicalUser" => &mut principal.canonical_user,
                        other => {
                            return Err(Error::new(format!(
                                "unknown principal type `{other}` in `{field}`"
                            )));
                        }
                    };
                    *list = string_or_list(Some(ids), &format!("{field}.{kind}"))?;
                }
                Ok(principal)
            }
            _ => Err(Error::new(format!(
                "`{field}` must be \"*\", a principal or an object"
            ))),
        }
    }
}

fn optional_string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, Error> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::new(format!("`{field}` must be a string"))),
    }
}

fn string_or_list(value: Option<&Value>, field: &str) -> Result<Vec<String>, Error> {
    let not_string = || Error::new(format!("`{field}` must be a string or a list of strings"));
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(not_string))
            .collect(),
        Some(_) => Err(not_string()),
    }
}

/// IAM wildcard match: `*` is any run of characters, `?` any one; ASCII case-insensitive.
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    let (p, v) = (pattern.as_bytes(), value.as_bytes());
    let (mut pi, mut vi) = (0, 0);
    // Where the last `*` was, and which value position it is currently standing for.
    let mut backtrack: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, vi));
            pi += 1;
        } else if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&v[vi])) {
            pi += 1;
            vi += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            vi = matched + 1;
            backtrack = Some((star, vi));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// Percent-decoding (with `+` as space), as used for IAM policies in AWS Config items.
pub fn url_decode(text: &str) -> Result<String, Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| Error::new(format!("bad percent escape at byte {i}")))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::new("URL-decoded text is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_statement_with_strings() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*",
                "Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
        )
        .expect("valid");
        assert_eq!(doc.version.as_deref(), Some("2012-10-17"));
        let s = &doc.statements[0];
        assert_eq!(s.effect, Effect::Allow);
        assert!(s.principal.as_ref().is_some_and(Principal::is_anyone));
        assert_eq!(s.action, ["s3:GetObject"]);
        assert_eq!(s.resource, ["arn:aws:s3:::b/*"]);
        assert!(!s.has_condition());
    }

    #[test]
    fn lists_principal_kinds_and_conditions() {
        let doc = PolicyDocument::from_value(&json!({
            "Statement": [
                {"Sid": "a", "Effect": "Allow",
                 "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "222222222222"],
                               "Service": "lambda.amazonaws.com",
                               "Federated": "cognito-identity.amazonaws.com",
                               "CanonicalUser": "abc"},
                 "Action": ["sqs:SendMessage", "sqs:Get*"],
                 "NotResource": "arn:aws:sqs:*:*:private",
                 "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}},
                {"Effect": "Deny", "NotPrincipal": {"AWS": "*"}, "NotAction": "iam:*"}
            ]
        }))
        .expect("valid");
        let [a, b] = &doc.statements[..] else {
            panic!("two statements expected")
        };
        let p = a.principal.as_ref().expect("principal");
        assert_eq!(p.aws.len(), 2);
        assert_eq!(p.service, ["lambda.amazonaws.com"]);
        assert_eq!(p.federated, ["cognito-identity.amazonaws.com"]);
        assert_eq!(p.canonical_user, ["abc"]);
        assert!(!p.is_anyone());
        assert!(a.has_condition());
        assert_eq!(a.not_resource, ["arn:aws:sqs:*:*:private"]);
        assert!(a.applies_to_action("SQS:GetQueueAttributes"));
        assert!(!a.applies_to_action("sqs:DeleteQueue"));
        assert_eq!(b.effect, Effect::Deny);
        assert!(b.not_principal.as_ref().is_some_and(Principal::is_anyone));
        assert!(b.applies_to_action("s3:GetObject"));
        assert!(!b.applies_to_action("iam:CreateUser"));
        assert_eq!(doc.allows().count(), 1);
    }

    #[test]
    fn url_encoded_document() {
        let doc = PolicyDocument::parse(
            "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%7D%5D%7D",
        )
        .expect("valid");
        assert!(doc.statements[0].applies_to_action("ec2:RunInstances"));
        assert_eq!(url_decode("a+b%20c").expect("valid"), "a b c");
        assert!(url_decode("%7").is_err());
        assert!(url_decode("%zz").is_err());
        assert!(url_decode("%ff").is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("s3:*", "s3:GetObject"));
        assert!(wildcard_match("s3:Get*Acl", "s3:GetObjectAcl"));
        assert!(wildcard_match("s3:Get?bject", "s3:GetObject"));
        assert!(wildcard_match("*:*", "iam:PassRole"));
        assert!(wildcard_match("a*", "a*b"));
        assert!(!wildcard_match("s3:Get*Acl", "s3:GetObject"));
        assert!(!wildcard_match("s3:?", "s3:"));
        assert!(!wildcard_match("ec2:*", "s3:GetObject"));
    }

    #[test]
    fn a_bare_principal_string_reads_as_aws() {
        let doc = PolicyDocument::parse(
            r#"{"Statement": {"Effect": "Allow", "Principal": "arn:aws:iam::999999999999:root",
                "Action": "sts:AssumeRole"}}"#,
        )
        .expect("judged, not refused");
        let p = doc.statements[0].principal.as_ref().expect("principal");
        assert!(p.bare && !p.any);
        assert_eq!(p.aws, ["arn:aws:iam::999999999999:root"]);
        let star = PolicyDocument::parse(r#"{"Statement": {"Effect": "Allow", "Principal": "*"}}"#)
            .expect("star");
        assert!(!star.statements[0].principal.as_ref().expect("p").bare);
    }

    #[test]
    fn malformed() {
        let cases = [
            ("[]", "must be a JSON object"),
            ("{\"Statement\": 3}", "`Statement` must be"),
            ("{\"Statement\": [3]}", "Statement[0]: a statement must be"),
            (
                "{\"Statement\": {\"Action\": \"*\"}}",
                "`Effect` is required",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Maybe\"}}",
                "unknown `Effect`",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": [1]}}",
                "`Action` must be",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Resource\": {}}}",
                "`Resource` must be",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": 3}}",
                "`Principal` must be",
            ),
            (
                "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": {\"Bob\": \"x\"}}}",
                "unknown principal type",
            ),
            ("{\"Version\": 2012}", "`Version` must be a string"),
            ("{not json", "policy document"),
        ];
        for (text, expected) in cases {
            let e = PolicyDocument::parse(text).expect_err(text);
            assert!(e.message().contains(expected), "{text}: {e}");
        }
    }
}
