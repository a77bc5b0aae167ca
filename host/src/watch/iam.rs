//! IAM users, roles, groups and managed policies.
//!
//! One paginated `GetAccountAuthorizationDetails` pass returns all four with their inline and
//! attached policies (documents included); only what it omits is fetched per user: access keys
//! with last use, login profile, MFA devices, and password last use (from `ListUsers`).

use std::collections::BTreeMap;

use futures::StreamExt;

use aws_sdk_iam::types::EntityType;
use serde_json::{Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const USER: &str = "AWS::IAM::User";
pub const ROLE: &str = "AWS::IAM::Role";
pub const GROUP: &str = "AWS::IAM::Group";
pub const POLICY: &str = "AWS::IAM::Policy";

/// IAM: users, roles, groups and managed policies of one account, in one pass; IAM is global.
pub struct IamWatcher;

#[async_trait::async_trait]
impl super::Watcher for IamWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[USER, ROLE, GROUP, POLICY]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::Global
    }

    fn ephemeral_paths(&self, resource_type: &str) -> &'static [&'static str] {
        match resource_type {
            USER => &[
                "configuration.accessKeys[].lastUsedDate",
                "configuration.accessKeys[].lastUsedService",
                "configuration.accessKeys[].lastUsedRegion",
                "configuration.passwordLastUsed",
            ],
            ROLE => &["configuration.roleLastUsed"],
            POLICY => &[
                "configuration.attachmentCount",
                "configuration.permissionsBoundaryUsageCount",
            ],
            _ => &[],
        }
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("iam:GetAccessKeyLastUsed", "iam:GetAccessKeyLastUsed"),
            (
                "iam:GetAccountAuthorizationDetails",
                "iam:GetAccountAuthorizationDetails",
            ),
            ("iam:GetLoginProfile", "iam:GetLoginProfile"),
            // Only when GetAccountAuthorizationDetails omits a policy's name or id.
            ("iam:GetPolicy", "iam:GetPolicy"),
            ("iam:ListAccessKeys", "iam:ListAccessKeys"),
            ("iam:ListMFADevices", "iam:ListMFADevices"),
            ("iam:ListUsers", "iam:ListUsers"),
        ]
    }

    // Long because it is one paginated pass over GetAccountAuthorizationDetails that shapes four

    // resource types as it goes, then fills in the per-user details that call omits.

    async fn list(&self, session: &AccountSession, _region: &str) -> Result<Vec<Item>, WatchError> {
        let l = list(session).await?;
        Ok([l.users, l.roles, l.groups, l.policies].concat())
    }
}

/// The four IAM listings of one account; IAM is global.
#[derive(Default)]
pub struct IamListing {
    pub users: Vec<Item>,
    pub roles: Vec<Item>,
    pub groups: Vec<Item>,
    pub policies: Vec<Item>,
}

fn inline_policies(list: Option<&[aws_sdk_iam::types::PolicyDetail]>) -> Value {
    Value::Array(
        list.unwrap_or_default()
            .iter()
            .map(|p| {
                json!({
                    "policyName": p.policy_name(),
                    "policyDocument": doc::policy_document(p.policy_document()),
                })
            })
            .collect(),
    )
}

fn attached(list: Option<&[aws_sdk_iam::types::AttachedPolicy]>) -> Value {
    Value::Array(
        list.unwrap_or_default()
            .iter()
            .map(|p| json!({"policyName": p.policy_name(), "policyArn": p.policy_arn()}))
            .collect(),
    )
}

fn boundary(b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>) -> Value {
    match b {
        Some(b) => json!({
            "permissionsBoundaryType": b.permissions_boundary_type().map(|t| t.as_str()),
            "permissionsBoundaryArn": b.permissions_boundary_arn(),
        }),
        None => Value::Null,
    }
}

pub(super) fn tags(list: Option<&[aws_sdk_iam::types::Tag]>) -> Vec<(String, String)> {
    list.unwrap_or_default()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

pub async fn list(s: &AccountSession) -> Result<IamListing, WatchError> {
    let iam = s.iam();
    let account = s.account_id.as_str();
    let mut out = IamListing::default();
    let mut user_details = Vec::new();
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();

    let mut pages = iam
        .get_account_authorization_details()
        .set_filter(Some(vec![
            EntityType::User,
            EntityType::Role,
            EntityType::Group,
            EntityType::LocalManagedPolicy,
            EntityType::AwsManagedPolicy,
        ]))
        .into_paginator()
        .send();
    loop {
        s.pace("iam").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk("GetAccountAuthorizationDetails", &e))?;
        for u in page.user_detail_list() {
            for g in u.group_list() {
                members
                    .entry(g.clone())
                    .or_default()
                    .push(u.user_name().unwrap_or_default().to_string());
            }
            user_details.push(u.clone());
        }
        for r in page.role_detail_list() {
            let t = tags(Some(r.tags()));
            out.roles.push(
                Envelope {
                    resource_type: ROLE,
                    resource_id: r.role_id().unwrap_or_default().to_string(),
                    resource_name: r.role_name().unwrap_or_default().to_string(),
                    arn: r.arn().unwrap_or_default().to_string(),
                    account_id: account,
                    region: super::GLOBAL_REGION,
                    configuration: json!({
                        "path": r.path(),
                        "roleName": r.role_name(),
                        "roleId": r.role_id(),
                        "arn": r.arn(),
                        "createDate": doc::time(r.create_date()),
                        "assumeRolePolicyDocument": doc::policy_document(r.assume_role_policy_document()),
                        "instanceProfileList": r.instance_profile_list().iter().map(|p| json!({
                            "instanceProfileName": p.instance_profile_name(),
                            "arn": p.arn(),
                        })).collect::<Vec<_>>(),
                        "rolePolicyList": inline_policies(Some(r.role_policy_list())),
                        "attachedManagedPolicies": attached(Some(r.attached_managed_policies())),
                        "permissionsBoundary": boundary(r.permissions_boundary()),
                        "tags": doc::tag_list(&t),
                        "roleLastUsed": match r.role_last_used() {
                            Some(u) => json!({"lastUsedDate": doc::time(u.last_used_date()), "region": u.region()}),
                            None => Value::Null,
                        },
                    }),
                    supplementary: json!({}),
                    tags: t,
                }
                .into_item(),
            );
        }
        for g in page.group_detail_list() {
            out.groups.push(
                Envelope {
                    resource_type: GROUP,
                    resource_id: g.group_id().unwrap_or_default().to_string(),
                    resource_name: g.group_name().unwrap_or_default().to_string(),
                    arn: g.arn().unwrap_or_default().to_string(),
                    account_id: account,
                    region: super::GLOBAL_REGION,
                    configuration: json!({
                        "path": g.path(),
                        "groupName": g.group_name(),
                        "groupId": g.group_id(),
                        "arn": g.arn(),
                        "createDate": doc::time(g.create_date()),
                        "groupPolicyList": inline_policies(Some(g.group_policy_list())),
                        "attachedManagedPolicies": attached(Some(g.attached_managed_policies())),
                    }),
                    supplementary: json!({}),
                    tags: Vec::new(),
                }
                .into_item(),
            );
        }
        for p in page.policies() {
            let aws_managed = p.arn().is_some_and(|a| a.starts_with("arn:aws:iam::aws:"));
            let attachments = p.attachment_count().unwrap_or(0)
                + p.permissions_boundary_usage_count().unwrap_or(0);
            // AWS-managed policies matter only where they are used.
            if aws_managed && attachments == 0 {
                continue;
            }
            // Some implementations (moto) leave the name and id out of this response.
            let (policy_id, policy_name) = match (p.policy_id(), p.policy_name()) {
                (Some(id), Some(name)) => (id.to_string(), name.to_string()),
                _ => {
                    let arn = p.arn().unwrap_or_default();
                    s.pace("iam").await;
                    let got = iam
                        .get_policy()
                        .policy_arn(arn)
                        .send()
                        .await
                        .map_err(|e| WatchError::sdk(format!("GetPolicy {arn}"), &e))?;
                    let got = got.policy();
                    (
                        got.and_then(|g| g.policy_id()).unwrap_or(arn).to_string(),
                        got.and_then(|g| g.policy_name())
                            .or_else(|| arn.rsplit('/').next())
                            .unwrap_or_default()
                            .to_string(),
                    )
                }
            };
            out.policies.push(
                Envelope {
                    resource_type: POLICY,
                    resource_id: policy_id.clone(),
                    resource_name: policy_name.clone(),
                    arn: p.arn().unwrap_or_default().to_string(),
                    account_id: account,
                    region: super::GLOBAL_REGION,
                    configuration: json!({
                        "policyName": policy_name,
                        "policyId": policy_id,
                        "arn": p.arn(),
                        "path": p.path(),
                        "defaultVersionId": p.default_version_id(),
                        "attachmentCount": p.attachment_count(),
                        "permissionsBoundaryUsageCount": p.permissions_boundary_usage_count(),
                        "isAttachable": p.is_attachable(),
                        "description": p.description(),
                        "createDate": doc::time(p.create_date()),
                        "updateDate": doc::time(p.update_date()),
                        "policyVersionList": p.policy_version_list().iter().map(|v| json!({
                            "document": doc::policy_document(v.document()),
                            "versionId": v.version_id(),
                            "isDefaultVersion": v.is_default_version(),
                            "createDate": doc::time(v.create_date()),
                        })).collect::<Vec<_>>(),
                        "awsManaged": aws_managed,
                    }),
                    supplementary: json!({}),
                    tags: Vec::new(),
                }
                .into_item(),
            );
        }
    }
    for g in &mut out.groups {
        if let Ok(mut config) = serde_json::from_str::<Value>(&g.configuration) {
            let names = members.get(&g.resource_name).cloned().unwrap_or_default();
            config["members"] = json!(names);
            g.configuration = config.to_string();
        }
    }

    // What GetAccountAuthorizationDetails leaves out.
    let mut password_last_used = BTreeMap::new();
    let mut pages = iam.list_users().into_paginator().send();
    loop {
        s.pace("iam").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk("ListUsers", &e))?;
        for u in page.users() {
            password_last_used.insert(u.user_name().to_string(), doc::time(u.password_last_used()));
        }
    }
    // A few users at a time: the per-user calls are independent, and overlapping them hides
    // the client's own work behind the service's. `buffered` keeps the listing's order.
    let password_last_used = &password_last_used;
    let iam = &iam;
    let users: Vec<Result<Item, WatchError>> = {
        // Futures built up front (not in a closure) so the sweep stays `Send`.
        let mut jobs = Vec::with_capacity(user_details.len());
        for u in user_details {
            jobs.push(user_item(s, iam, account, u, password_last_used));
        }
        futures::stream::iter(jobs)
            .buffered(USER_CONCURRENCY)
            .collect()
            .await
    };
    for u in users {
        out.users.push(u?);
    }
    Ok(out)
}

/// Per-user calls in flight at once.
const USER_CONCURRENCY: usize = 8;

async fn user_item(
    s: &AccountSession,
    iam: &aws_sdk_iam::Client,
    account: &str,
    u: aws_sdk_iam::types::UserDetail,
    password_last_used: &BTreeMap<String, Value>,
) -> Result<Item, WatchError> {
    let name = u.user_name().unwrap_or_default().to_string();
    let keys = access_keys(s, iam, &name).await?;
    s.pace("iam").await;
    let login = match iam.get_login_profile().user_name(&name).send().await {
        Ok(out) => match out.login_profile() {
            Some(p) => json!({
                "createDate": doc::time(Some(p.create_date())),
                "passwordResetRequired": p.password_reset_required(),
            }),
            None => Value::Null,
        },
        Err(e) if is_not_found(&e) => Value::Null,
        Err(e) => {
            return Err(WatchError::sdk(format!("GetLoginProfile {name}"), &e));
        }
    };
    s.pace("iam").await;
    let mfa = iam
        .list_mfa_devices()
        .user_name(&name)
        .send()
        .await
        .map_err(|e| WatchError::sdk(format!("ListMFADevices {name}"), &e))?;
    let mfa: Vec<Value> = mfa
        .mfa_devices()
        .iter()
        .map(|d| json!({"serialNumber": d.serial_number(), "enableDate": doc::time(Some(d.enable_date()))}))
        .collect();
    let t = tags(Some(u.tags()));
    Ok(Envelope {
        resource_type: USER,
        resource_id: u.user_id().unwrap_or_default().to_string(),
        resource_name: name.clone(),
        arn: u.arn().unwrap_or_default().to_string(),
        account_id: account,
        region: super::GLOBAL_REGION,
        configuration: json!({
            "path": u.path(),
            "userName": name,
            "userId": u.user_id(),
            "arn": u.arn(),
            "createDate": doc::time(u.create_date()),
            "userPolicyList": inline_policies(Some(u.user_policy_list())),
            "groupList": u.group_list(),
            "attachedManagedPolicies": attached(Some(u.attached_managed_policies())),
            "permissionsBoundary": boundary(u.permissions_boundary()),
            "tags": doc::tag_list(&t),
            "accessKeys": keys,
            "loginProfile": login,
            "mfaDevices": mfa,
            "passwordLastUsed": password_last_used.get(&name).cloned().unwrap_or(Value::Null),
        }),
        supplementary: json!({}),
        tags: t,
    }
    .into_item())
}

async fn access_keys(
    s: &AccountSession,
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> Result<Value, WatchError> {
    s.pace("iam").await;
    let listed = iam
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .map_err(|e| WatchError::sdk(format!("ListAccessKeys {user}"), &e))?;
    let mut keys = Vec::new();
    for k in listed.access_key_metadata() {
        let id = k.access_key_id().unwrap_or_default();
        s.pace("iam").await;
        let used = iam
            .get_access_key_last_used()
            .access_key_id(id)
            .send()
            .await
            .map_err(|e| WatchError::sdk(format!("GetAccessKeyLastUsed {id}"), &e))?;
        let last = used.access_key_last_used();
        keys.push(json!({
            "accessKeyId": id,
            "status": k.status().map(|s| s.as_str()),
            "createDate": doc::time(k.create_date()),
            "lastUsedDate": doc::time(last.and_then(|l| l.last_used_date())),
            "lastUsedService": last.map(|l| l.service_name()).filter(|s| !s.is_empty() && *s != "N/A"),
            "lastUsedRegion": last.map(|l| l.region()).filter(|s| !s.is_empty() && *s != "N/A"),
        }));
    }
    Ok(Value::Array(keys))
}
