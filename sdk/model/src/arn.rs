//! Amazon Resource Names: `arn:partition:service:region:account:resource`.

use std::fmt;
use std::str::FromStr;

use crate::ParseError as Error;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: String,
    pub service: String,
    /// Empty for global services (IAM, S3).
    pub region: String,
    /// A 12-digit account id, `*`, `aws` (AWS-managed resources), or empty (S3 buckets).
    pub account: String,
    /// Everything after the fifth colon, e.g. `root`, `bucket/key`, `security-group/sg-1`.
    pub resource: String,
}

impl Arn {
    pub fn parse(text: &str) -> Result<Arn, Error> {
        let invalid = |why: &str| Error::new(format!("`{text}` is not an ARN: {why}"));
        let mut parts = text.splitn(6, ':');
        let mut next = || parts.next();
        let (
            Some(prefix),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (next(), next(), next(), next(), next(), next())
        else {
            return Err(invalid("expected six `:`-separated fields"));
        };
        if prefix != "arn" {
            return Err(invalid("it must start with `arn:`"));
        }
        if partition.is_empty() || service.is_empty() {
            return Err(invalid("partition and service must not be empty"));
        }
        if resource.is_empty() {
            return Err(invalid("resource must not be empty"));
        }
        if !(account.is_empty() || account == "*" || account == "aws" || is_account_id(account)) {
            return Err(invalid(
                "account must be a 12-digit id, `*`, `aws` or empty",
            ));
        }
        Ok(Arn {
            partition: partition.to_string(),
            service: service.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource: resource.to_string(),
        })
    }

    /// The account id, when the ARN names one (not `*`, `aws` or empty).
    pub fn account_id(&self) -> Option<&str> {
        is_account_id(&self.account).then_some(self.account.as_str())
    }

    /// True for `*`: any account.
    pub fn is_any_account(&self) -> bool {
        self.account == "*"
    }

    /// The resource's type prefix (`user` in `user/alice`, `function` in `function:f`),
    /// or `None` when the resource is a bare name.
    pub fn resource_type(&self) -> Option<&str> {
        self.resource
            .find(['/', ':'])
            .map(|at| &self.resource[..at])
    }

    /// The resource without its type prefix (`alice` in `user/alice`; a bare name as is).
    pub fn resource_id(&self) -> &str {
        match self.resource.find(['/', ':']) {
            Some(at) => &self.resource[at + 1..],
            None => &self.resource,
        }
    }
}

/// Exactly twelve ASCII digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

impl FromStr for Arn {
    type Err = Error;

    fn from_str(text: &str) -> Result<Arn, Error> {
        Arn::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_root() {
        let arn = Arn::parse("arn:aws:iam::123456789012:root").expect("valid");
        assert_eq!(arn.partition, "aws");
        assert_eq!(arn.service, "iam");
        assert_eq!(arn.region, "");
        assert_eq!(arn.account_id(), Some("123456789012"));
        assert_eq!(arn.resource, "root");
        assert_eq!(arn.resource_type(), None);
        assert_eq!(arn.resource_id(), "root");
        assert_eq!(arn.to_string(), "arn:aws:iam::123456789012:root");
    }

    #[test]
    fn s3_object_keeps_colons_and_slashes_in_resource() {
        let arn = Arn::parse("arn:aws:s3:::bucket/key:with:colons").expect("valid");
        assert_eq!(arn.account, "");
        assert_eq!(arn.account_id(), None);
        assert_eq!(arn.resource, "bucket/key:with:colons");
        assert_eq!(arn.resource_type(), Some("bucket"));
    }

    #[test]
    fn wildcard_and_managed_accounts() {
        let any: Arn = "arn:aws:iam::*:role/x".parse().expect("valid");
        assert!(any.is_any_account());
        assert_eq!(any.account_id(), None);
        let managed = Arn::parse("arn:aws:iam::aws:policy/ReadOnlyAccess").expect("valid");
        assert_eq!(managed.resource_type(), Some("policy"));
        assert_eq!(managed.resource_id(), "ReadOnlyAccess");
        let sg = Arn::parse("arn:aws-cn:ec2:cn-north-1:123456789012:security-group/sg-1")
            .expect("valid");
        assert_eq!(
            (sg.partition.as_str(), sg.region.as_str()),
            ("aws-cn", "cn-north-1")
        );
        assert_eq!(sg.resource_id(), "sg-1");
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "not-an-arn",
            "arn:aws:iam::123456789012",
            "urn:aws:iam::123456789012:root",
            "arn::iam::123456789012:root",
            "arn:aws:::123456789012:root",
            "arn:aws:s3:::",
            "arn:aws:iam::12:root",
            "arn:aws:iam::12345678901x:root",
        ] {
            let e = Arn::parse(bad).expect_err(bad);
            assert!(e.message().contains("is not an ARN"), "{e}");
        }
    }
}
