//! Which item a CloudTrail event names: a table from (event source, event name) to the watched
//! resource type and where in the request (or response) the resource is named, for every
//! watched type. The reference is an id, name or ARN; the watcher's describe resolves it.
//!
//! Pure. It must never guess: an event not in the table is unmapped (counted and dropped, the
//! sweep is the backstop), and so is one whose named field is missing.

use serde_json::Value;

use crate::watch::{
    acm, cloudtrail, ec2, ec2_shares, elb, elbv2, iam, iam_certs, kms, lambda, rds, rds_snapshots,
    s3, sns, sqs, vpc, vpc_endpoints,
};

/// Where an event names its resource: the first of these JSON pointers that holds a string
/// (`req:` into `requestParameters`, `resp:` into `responseElements`). A value that is a URL
/// (SQS queue URLs) is kept whole: the queue's id is its URL.
struct Rule {
    source: &'static str,
    names: &'static [&'static str],
    resource_type: &'static str,
    refs: &'static [&'static str],
}

const SG_EVENTS: &[&str] = &[
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "ModifySecurityGroupRules",
    "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress",
    "DeleteSecurityGroup",
];

const TABLE: &[Rule] = &[
    Rule {
        source: "ec2.amazonaws.com",
        names: SG_EVENTS,
        resource_type: ec2::SECURITY_GROUP,
        refs: &["req:/groupId", "req:/groupName"],
    },
    Rule {
        source: "ec2.amazonaws.com",
        names: &["CreateSecurityGroup"],
        resource_type: ec2::SECURITY_GROUP,
        refs: &["resp:/groupId"],
    },
    Rule {
        source: "ec2.amazonaws.com",
        names: &["CreateVpc"],
        resource_type: vpc::VPC,
        refs: &["resp:/vpc/vpcId"],
    },
    Rule {
        source: "ec2.amazonaws.com",
        names: &["DeleteVpc", "ModifyVpcAttribute"],
        resource_type: vpc::VPC,
        refs: &["req:/vpcId"],
    },
    Rule {
        source: "ec2.amazonaws.com",
        names: &["CreateVpcEndpoint"],
        resource_type: vpc_endpoints::VPC_ENDPOINT,
        refs: &[
            "resp:/CreateVpcEndpointResponse/vpcEndpoint/vpcEndpointId",
            "resp:/vpcEndpoint/vpcEndpointId",
        ],
    },
    Rule {
        source: "ec2.amazonaws.com",
        names: &["ModifyVpcEndpoint"],
        resource_type: vpc_endpoints::VPC_ENDPOINT,
        refs: &[
            "req:/ModifyVpcEndpointRequest/VpcEndpointId",
            "req:/vpcEndpointId",
        ],
    },
    Rule {
        source: "ec2.amazonaws.com",
        names: &[
            "ModifySnapshotAttribute",
            "ResetSnapshotAttribute",
            "DeleteSnapshot",
        ],
        resource_type: ec2_shares::SNAPSHOT,
        refs: &["req:/snapshotId"],
    },
    Rule {
        source: "ec2.amazonaws.com",
        names: &[
            "ModifyImageAttribute",
            "ResetImageAttribute",
            "DeregisterImage",
        ],
        resource_type: ec2_shares::IMAGE,
        refs: &["req:/imageId"],
    },
    Rule {
        source: "s3.amazonaws.com",
        names: &[
            "CreateBucket",
            "DeleteBucket",
            "PutBucketPolicy",
            "DeleteBucketPolicy",
            "PutBucketAcl",
            "PutBucketPublicAccessBlock",
            "DeleteBucketPublicAccessBlock",
            "PutBucketEncryption",
            "DeleteBucketEncryption",
            "PutBucketVersioning",
            "PutBucketLogging",
            "PutBucketTagging",
            "DeleteBucketTagging",
            "PutBucketLifecycle",
            "PutBucketOwnershipControls",
            "PutBucketCors",
            "DeleteBucketCors",
            "PutBucketWebsite",
            "DeleteBucketWebsite",
            "PutBucketReplication",
            "DeleteBucketReplication",
        ],
        resource_type: s3::BUCKET,
        refs: &["req:/bucketName"],
    },
    Rule {
        source: "iam.amazonaws.com",
        names: &[
            "CreateUser",
            "DeleteUser",
            "UpdateUser",
            "AttachUserPolicy",
            "DetachUserPolicy",
            "PutUserPolicy",
            "DeleteUserPolicy",
            "AddUserToGroup",
            "RemoveUserFromGroup",
            "CreateAccessKey",
            "UpdateAccessKey",
            "DeleteAccessKey",
            "CreateLoginProfile",
            "UpdateLoginProfile",
            "DeleteLoginProfile",
            "EnableMFADevice",
            "DeactivateMFADevice",
            "PutUserPermissionsBoundary",
            "DeleteUserPermissionsBoundary",
            "TagUser",
            "UntagUser",
        ],
        resource_type: iam::USER,
        refs: &["req:/userName"],
    },
    Rule {
        source: "iam.amazonaws.com",
        names: &[
            "CreateRole",
            "DeleteRole",
            "UpdateRole",
            "UpdateAssumeRolePolicy",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "PutRolePolicy",
            "DeleteRolePolicy",
            "PutRolePermissionsBoundary",
            "DeleteRolePermissionsBoundary",
            "TagRole",
            "UntagRole",
        ],
        resource_type: iam::ROLE,
        refs: &["req:/roleName"],
    },
    Rule {
        source: "iam.amazonaws.com",
        names: &[
            "CreateGroup",
            "DeleteGroup",
            "UpdateGroup",
            "AttachGroupPolicy",
            "DetachGroupPolicy",
            "PutGroupPolicy",
            "DeleteGroupPolicy",
        ],
        resource_type: iam::GROUP,
        refs: &["req:/groupName"],
    },
    Rule {
        source: "iam.amazonaws.com",
        names: &["CreatePolicy"],
        resource_type: iam::POLICY,
        refs: &["resp:/policy/arn", "req:/policyName"],
    },
    Rule {
        source: "iam.amazonaws.com",
        names: &[
            "DeletePolicy",
            "CreatePolicyVersion",
            "DeletePolicyVersion",
            "SetDefaultPolicyVersion",
            "TagPolicy",
            "UntagPolicy",
        ],
        resource_type: iam::POLICY,
        refs: &["req:/policyArn"],
    },
    Rule {
        source: "iam.amazonaws.com",
        names: &[
            "UploadServerCertificate",
            "UpdateServerCertificate",
            "DeleteServerCertificate",
        ],
        resource_type: iam_certs::SERVER_CERTIFICATE,
        refs: &[
            "req:/newServerCertificateName",
            "req:/serverCertificateName",
        ],
    },
    Rule {
        source: "sqs.amazonaws.com",
        names: &[
            "DeleteQueue",
            "SetQueueAttributes",
            "AddPermission",
            "RemovePermission",
            "TagQueue",
            "UntagQueue",
        ],
        resource_type: sqs::QUEUE,
        refs: &["req:/queueUrl"],
    },
    Rule {
        source: "sqs.amazonaws.com",
        names: &["CreateQueue"],
        resource_type: sqs::QUEUE,
        refs: &["resp:/queueUrl", "req:/queueName"],
    },
    Rule {
        source: "sns.amazonaws.com",
        names: &[
            "DeleteTopic",
            "SetTopicAttributes",
            "AddPermission",
            "RemovePermission",
            "Subscribe",
            "TagResource",
            "UntagResource",
        ],
        resource_type: sns::TOPIC,
        refs: &["req:/topicArn", "req:/resourceArn"],
    },
    Rule {
        source: "sns.amazonaws.com",
        names: &["CreateTopic"],
        resource_type: sns::TOPIC,
        refs: &["resp:/topicArn", "req:/name"],
    },
    Rule {
        source: "kms.amazonaws.com",
        names: &[
            "PutKeyPolicy",
            "EnableKeyRotation",
            "DisableKeyRotation",
            "EnableKey",
            "DisableKey",
            "ScheduleKeyDeletion",
            "CancelKeyDeletion",
            "CreateGrant",
            "RevokeGrant",
            "TagResource",
            "UntagResource",
        ],
        resource_type: kms::KEY,
        refs: &["req:/keyId"],
    },
    Rule {
        source: "kms.amazonaws.com",
        names: &["CreateKey"],
        resource_type: kms::KEY,
        refs: &["resp:/keyMetadata/keyId", "resp:/keyMetadata/arn"],
    },
    Rule {
        source: "acm.amazonaws.com",
        names: &[
            "ImportCertificate",
            "DeleteCertificate",
            "RenewCertificate",
            "UpdateCertificateOptions",
            "AddTagsToCertificate",
            "RemoveTagsFromCertificate",
        ],
        resource_type: acm::CERTIFICATE,
        refs: &["req:/certificateArn", "resp:/certificateArn"],
    },
    Rule {
        source: "acm.amazonaws.com",
        names: &["RequestCertificate"],
        resource_type: acm::CERTIFICATE,
        refs: &["resp:/certificateArn"],
    },
    Rule {
        source: "lambda.amazonaws.com",
        names: &[
            "CreateFunction",
            "DeleteFunction",
            "UpdateFunctionConfiguration",
            "UpdateFunctionCode",
            "AddPermission",
            "RemovePermission",
            "PublishVersion",
            "CreateAlias",
            "UpdateAlias",
            "DeleteAlias",
            "PutFunctionConcurrency",
            "TagResource",
            "UntagResource",
        ],
        resource_type: lambda::FUNCTION,
        refs: &["req:/functionName", "resp:/functionName", "req:/resource"],
    },
    Rule {
        source: "rds.amazonaws.com",
        names: &[
            "CreateDBInstance",
            "DeleteDBInstance",
            "ModifyDBInstance",
            "RebootDBInstance",
            "RestoreDBInstanceFromDBSnapshot",
        ],
        resource_type: rds::DB_INSTANCE,
        refs: &["req:/dBInstanceIdentifier"],
    },
    Rule {
        source: "rds.amazonaws.com",
        names: &["CreateDBCluster", "DeleteDBCluster", "ModifyDBCluster"],
        resource_type: rds::DB_CLUSTER,
        refs: &["req:/dBClusterIdentifier"],
    },
    Rule {
        source: "rds.amazonaws.com",
        names: &[
            "CreateDBSnapshot",
            "DeleteDBSnapshot",
            "ModifyDBSnapshotAttribute",
            "CopyDBSnapshot",
        ],
        resource_type: rds_snapshots::DB_SNAPSHOT,
        refs: &[
            "req:/dBSnapshotIdentifier",
            "req:/targetDBSnapshotIdentifier",
        ],
    },
    Rule {
        source: "rds.amazonaws.com",
        names: &[
            "CreateDBClusterSnapshot",
            "DeleteDBClusterSnapshot",
            "ModifyDBClusterSnapshotAttribute",
            "CopyDBClusterSnapshot",
        ],
        resource_type: rds_snapshots::DB_CLUSTER_SNAPSHOT,
        refs: &[
            "req:/dBClusterSnapshotIdentifier",
            "req:/targetDBClusterSnapshotIdentifier",
        ],
    },
    Rule {
        source: "cloudtrail.amazonaws.com",
        names: &[
            "CreateTrail",
            "DeleteTrail",
            "UpdateTrail",
            "StartLogging",
            "StopLogging",
            "PutEventSelectors",
        ],
        resource_type: cloudtrail::TRAIL,
        refs: &["req:/name", "req:/trailName"],
    },
    Rule {
        source: "elasticloadbalancing.amazonaws.com",
        names: &[
            "CreateLoadBalancer",
            "DeleteLoadBalancer",
            "CreateLoadBalancerListeners",
            "DeleteLoadBalancerListeners",
            "SetLoadBalancerPoliciesOfListener",
            "ApplySecurityGroupsToLoadBalancer",
            "ModifyLoadBalancerAttributes",
            "CreateLoadBalancerPolicy",
        ],
        resource_type: elb::LOAD_BALANCER,
        refs: &["req:/loadBalancerName"],
    },
    Rule {
        source: "elasticloadbalancing.amazonaws.com",
        names: &[
            "DeleteLoadBalancer",
            "ModifyLoadBalancerAttributes",
            "SetSecurityGroups",
            "SetSubnets",
            "CreateListener",
        ],
        resource_type: elbv2::LOAD_BALANCER_V2,
        refs: &["req:/loadBalancerArn"],
    },
];

/// The item an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub resource_type: &'static str,
    /// An id, name or ARN.
    pub reference: String,
}

/// The targets of one event (an event can name a classic and a v2 load balancer form: the
/// one whose field is present wins). Empty: unmapped.
pub fn targets(source: &str, name: &str, request: &Value, response: &Value) -> Vec<Target> {
    let name = undated(name);
    let mut out: Vec<Target> = Vec::new();
    for rule in TABLE
        .iter()
        .filter(|r| r.source == source && r.names.contains(&name))
    {
        let found = rule.refs.iter().find_map(|spec| {
            let (doc, pointer) = match spec.split_once(':') {
                Some(("req", p)) => (request, p),
                Some(("resp", p)) => (response, p),
                _ => return None,
            };
            doc.pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        });
        if let Some(reference) = found
            && !out.iter().any(|t| t.resource_type == rule.resource_type)
        {
            out.push(Target {
                resource_type: rule.resource_type,
                reference: reference.to_string(),
            });
        }
    }
    out
}

/// Lambda's event names carry an API date (`AddPermission20150331v2`): the operation is the
/// name without it.
fn undated(name: &str) -> &str {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let trimmed = trimmed.strip_suffix('v').unwrap_or(trimmed);
    let base = trimmed.trim_end_matches(|c: char| c.is_ascii_digit());
    if name.len() - base.len() >= 8 {
        base
    } else {
        name
    }
}

/// Every resource type the table can name (each watched type should be here).
pub fn mapped_types() -> Vec<&'static str> {
    let mut types: Vec<&'static str> = TABLE.iter().map(|r| r.resource_type).collect();
    types.sort();
    types.dedup();
    types
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn security_group_events_name_the_group() {
        let t = targets(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            &json!({"groupId": "sg-1"}),
            &Value::Null,
        );
        assert_eq!(
            t,
            vec![Target {
                resource_type: ec2::SECURITY_GROUP,
                reference: "sg-1".into()
            }]
        );
        let created = targets(
            "ec2.amazonaws.com",
            "CreateSecurityGroup",
            &json!({"groupName": "web"}),
            &json!({"groupId": "sg-2"}),
        );
        assert_eq!(created[0].reference, "sg-2");
    }

    #[test]
    fn lambda_names_lose_their_api_date() {
        assert_eq!(undated("AddPermission20150331v2"), "AddPermission");
        assert_eq!(undated("CreateFunction20150331"), "CreateFunction");
        assert_eq!(undated("PutBucketPolicy"), "PutBucketPolicy");
        assert_eq!(undated("CreateV2"), "CreateV2");
        let t = targets(
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            &json!({"functionName": "f"}),
            &Value::Null,
        );
        assert_eq!(t[0].resource_type, lambda::FUNCTION);
    }

    #[test]
    fn classic_and_v2_load_balancers_are_told_apart_by_their_field() {
        let classic = targets(
            "elasticloadbalancing.amazonaws.com",
            "DeleteLoadBalancer",
            &json!({"loadBalancerName": "web"}),
            &Value::Null,
        );
        assert_eq!(classic.len(), 1);
        assert_eq!(classic[0].resource_type, elb::LOAD_BALANCER);
        let v2 = targets(
            "elasticloadbalancing.amazonaws.com",
            "DeleteLoadBalancer",
            &json!({"loadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/a/b"}),
            &Value::Null,
        );
        assert_eq!(v2.len(), 1);
        assert_eq!(v2[0].resource_type, elbv2::LOAD_BALANCER_V2);
    }

    #[test]
    fn unknown_events_and_missing_fields_are_unmapped() {
        assert!(
            targets(
                "ec2.amazonaws.com",
                "RunInstances",
                &json!({}),
                &Value::Null
            )
            .is_empty()
        );
        assert!(
            targets(
                "ec2.amazonaws.com",
                "DeleteSecurityGroup",
                &json!({}),
                &Value::Null
            )
            .is_empty()
        );
        assert!(
            targets(
                "s3.amazonaws.com",
                "PutBucketPolicy",
                &json!({"bucketName": ""}),
                &Value::Null
            )
            .is_empty()
        );
    }

    #[test]
    fn every_watched_type_but_the_account_item_has_events() {
        let mapped = mapped_types();
        for t in crate::resource_types::all() {
            if t == crate::watch::account::ACCOUNT {
                continue;
            }
            assert!(mapped.contains(&t), "{t} has no events");
        }
    }
}
