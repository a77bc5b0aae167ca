//! The risky changes a drill can make, each clearly tagged and named `simian-drill-…` (so
//! every notification about it says it is a drill), and how each is undone.
//!
//! It must never touch a resource it did not create: undoing deletes exactly what making
//! created, by id.

use std::time::Duration;

use serde::Serialize;

use crate::watch::error_text;
use crate::watch::session::AccountSession;

/// The tag every drill resource carries, with the drill's id as its value.
pub const DRILL_TAG: &str = "simian:drill";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// A security group open to the world on SSH, in use by a network interface.
    OpenSg,
    /// An S3 bucket whose policy lets anyone read it.
    PublicBucketPolicy,
}

impl Scenario {
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::OpenSg => "open-sg",
            Scenario::PublicBucketPolicy => "public-bucket-policy",
        }
    }
}

/// What a drill made, so it can be found in the store and undone.
#[derive(Debug, Clone, Serialize)]
pub struct Made {
    pub resource_type: &'static str,
    pub arn: String,
    pub resource_id: String,
    /// Everything created, in the order to delete it.
    #[serde(skip)]
    undo: Vec<Undo>,
}

#[derive(Debug, Clone)]
enum Undo {
    NetworkInterface(String),
    SecurityGroup(String),
    BucketPolicy(String),
    Bucket(String),
}

#[derive(Debug, thiserror::Error)]
#[error("{what}: {message}")]
pub struct ScenarioError {
    what: String,
    message: String,
    /// What was created before the failure: undone by the caller all the same.
    pub partial: Option<Made>,
}

fn fail<E: std::error::Error>(what: &str, e: &E, partial: &Made) -> ScenarioError {
    ScenarioError {
        what: what.to_string(),
        message: error_text(e),
        partial: Some(partial.clone()),
    }
}

/// Make the scenario's risky change in `region`, named after drill `id`.
pub async fn make(
    scenario: Scenario,
    session: &AccountSession,
    region: &str,
    id: &str,
) -> Result<Made, ScenarioError> {
    match scenario {
        Scenario::OpenSg => open_sg(session, region, id).await,
        Scenario::PublicBucketPolicy => public_bucket(session, region, id).await,
    }
}

async fn open_sg(session: &AccountSession, region: &str, id: &str) -> Result<Made, ScenarioError> {
    let ec2 = session.ec2(region);
    let mut made = Made {
        resource_type: crate::watch::ec2::SECURITY_GROUP,
        arn: String::new(),
        resource_id: String::new(),
        undo: Vec::new(),
    };
    let subnets = ec2
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("default-for-az")
                .values("true")
                .build(),
        )
        .send()
        .await
        .map_err(|e| fail("DescribeSubnets", &e, &made))?;
    let Some(subnet) = subnets.subnets().iter().find(|s| s.subnet_id().is_some()) else {
        return Err(ScenarioError {
            what: "DescribeSubnets".into(),
            message: format!("no default subnet in {region} to attach the drill's group to"),
            partial: None,
        });
    };
    let tags = |t: aws_sdk_ec2::types::ResourceType| {
        aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(t)
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key(DRILL_TAG)
                    .value(id)
                    .build(),
            )
            .build()
    };
    let group = ec2
        .create_security_group()
        .group_name(format!("simian-drill-{id}"))
        .description(format!(
            "simian game-day drill {id}: not a real incident, reverted automatically"
        ))
        .set_vpc_id(subnet.vpc_id().map(str::to_string))
        .tag_specifications(tags(aws_sdk_ec2::types::ResourceType::SecurityGroup))
        .send()
        .await
        .map_err(|e| fail("CreateSecurityGroup", &e, &made))?;
    let group_id = group.group_id().unwrap_or_default().to_string();
    made.undo.push(Undo::SecurityGroup(group_id.clone()));
    made.resource_id = group_id.clone();
    made.arn = format!(
        "arn:aws:ec2:{region}:{}:security-group/{group_id}",
        session.account_id
    );
    ec2.authorize_security_group_ingress()
        .group_id(&group_id)
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .map_err(|e| fail("AuthorizeSecurityGroupIngress", &e, &made))?;
    // In use, so the finding scores as it would on a running instance.
    let eni = ec2
        .create_network_interface()
        .set_subnet_id(subnet.subnet_id().map(str::to_string))
        .groups(&group_id)
        .description(format!("simian game-day drill {id}"))
        .tag_specifications(tags(aws_sdk_ec2::types::ResourceType::NetworkInterface))
        .send()
        .await
        .map_err(|e| fail("CreateNetworkInterface", &e, &made))?;
    if let Some(eni) = eni
        .network_interface()
        .and_then(|n| n.network_interface_id())
    {
        made.undo.insert(0, Undo::NetworkInterface(eni.to_string()));
    }
    Ok(made)
}

async fn public_bucket(
    session: &AccountSession,
    region: &str,
    id: &str,
) -> Result<Made, ScenarioError> {
    let s3 = session.s3(region);
    let name = format!("simian-drill-{}-{}", session.account_id, id.to_lowercase());
    let mut made = Made {
        resource_type: crate::watch::s3::BUCKET,
        arn: format!("arn:aws:s3:::{name}"),
        resource_id: name.clone(),
        undo: Vec::new(),
    };
    let mut create = s3.create_bucket().bucket(&name);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                .build(),
        );
    }
    create
        .send()
        .await
        .map_err(|e| fail("CreateBucket", &e, &made))?;
    made.undo.push(Undo::Bucket(name.clone()));
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(
            aws_sdk_s3::types::Tag::builder()
                .key(DRILL_TAG)
                .value(id)
                .build()
                .map_err(|e| fail("PutBucketTagging", &e, &made))?,
        )
        .build()
        .map_err(|e| fail("PutBucketTagging", &e, &made))?;
    s3.put_bucket_tagging()
        .bucket(&name)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| fail("PutBucketTagging", &e, &made))?;
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "SimianDrill",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{name}/*"),
        }]
    });
    s3.put_bucket_policy()
        .bucket(&name)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|e| fail("PutBucketPolicy", &e, &made))?;
    made.undo.insert(0, Undo::BucketPolicy(name));
    Ok(made)
}

/// Delete everything the drill made. Dependencies take a moment to let go (an interface's
/// group), so each step is retried a few times; what still fails is returned, named.
pub async fn undo(session: &AccountSession, region: &str, made: &Made) -> Vec<String> {
    let ec2 = session.ec2(region);
    let s3 = session.s3(region);
    let mut left = Vec::new();
    for step in &made.undo {
        let mut last = None;
        for attempt in 0..5 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
            }
            let result = match step {
                Undo::NetworkInterface(id) => ec2
                    .delete_network_interface()
                    .network_interface_id(id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| error_text(&e)),
                Undo::SecurityGroup(id) => ec2
                    .delete_security_group()
                    .group_id(id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| error_text(&e)),
                Undo::BucketPolicy(name) => s3
                    .delete_bucket_policy()
                    .bucket(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| error_text(&e)),
                Undo::Bucket(name) => s3
                    .delete_bucket()
                    .bucket(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| error_text(&e)),
            };
            match result {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = last {
            left.push(format!("{step:?}: {e}"));
        }
    }
    left
}
