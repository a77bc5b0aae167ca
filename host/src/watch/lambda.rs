//! Lambda functions of one region: runtime, role, VPC placement, the names (never the values)
//! of their environment variables, and the resource policy of the function, of each alias and
//! of each published version (`GetPolicy` per qualifier; "no policy" is recorded as null).

use serde_json::{Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const FUNCTION: &str = "AWS::Lambda::Function";

/// Lambda: the functions of one region.
pub struct LambdaWatcher;

#[async_trait::async_trait]
impl super::Watcher for LambdaWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[FUNCTION]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("lambda:GetPolicy", "lambda:GetPolicy"),
            ("lambda:ListAliases", "lambda:ListAliases"),
            ("lambda:ListFunctions", "lambda:ListFunctions"),
            ("lambda:ListTags", "lambda:ListTags"),
            (
                "lambda:ListVersionsByFunction",
                "lambda:ListVersionsByFunction",
            ),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

/// The policy of `function` at `qualifier` (an alias or version), `Value::Null` when it has
/// none; `Err(None)` when the function or qualifier went away meanwhile.
async fn policy(
    s: &AccountSession,
    client: &aws_sdk_lambda::Client,
    function: &str,
    qualifier: Option<&str>,
) -> Result<Value, Option<WatchError>> {
    s.pace("lambda").await;
    match client
        .get_policy()
        .function_name(function)
        .set_qualifier(qualifier.map(String::from))
        .send()
        .await
    {
        Ok(out) => Ok(doc::policy_document(out.policy())),
        // The same code answers "no policy" and "no such function": tell them apart by
        // whether the function still lists, which `list` does.
        Err(e) if is_not_found(&e) => Ok(Value::Null),
        Err(e) => Err(Some(WatchError::sdk(
            format!(
                "GetPolicy {function}{}",
                qualifier.map(|q| format!(":{q}")).unwrap_or_default()
            ),
            &e,
        ))),
    }
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let client = s.lambda(region);
    let mut functions = Vec::new();
    let mut pages = client.list_functions().into_paginator().send();
    loop {
        s.pace("lambda").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk(format!("ListFunctions ({region})"), &e))?;
        functions.extend(page.functions().iter().cloned());
    }
    let mut items = Vec::with_capacity(functions.len());
    for f in &functions {
        if let Some(item) = function_item(s, &client, region, f).await? {
            items.push(item);
        }
    }
    Ok(items)
}

// Long because a function's document is its policy at every qualifier, each its own call.
async fn function_item(
    s: &AccountSession,
    client: &aws_sdk_lambda::Client,
    region: &str,
    f: &aws_sdk_lambda::types::FunctionConfiguration,
) -> Result<Option<Item>, WatchError> {
    let Some(name) = f.function_name() else {
        return Ok(None);
    };
    let gone = |e: Option<WatchError>| e.map_or(Ok(None), Err);
    let function_policy = match policy(s, client, name, None).await {
        Ok(p) => p,
        Err(e) => return gone(e),
    };
    let mut aliases = Vec::new();
    let mut pages = client
        .list_aliases()
        .function_name(name)
        .into_paginator()
        .send();
    loop {
        s.pace("lambda").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = match page {
            Ok(p) => p,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(WatchError::sdk(format!("ListAliases {name}"), &e)),
        };
        for a in page.aliases() {
            let Some(alias) = a.name() else { continue };
            let p = match policy(s, client, name, Some(alias)).await {
                Ok(p) => p,
                Err(e) => return gone(e),
            };
            aliases
                .push(json!({"name": alias, "functionVersion": a.function_version(), "policy": p}));
        }
    }
    let mut versions = Vec::new();
    let mut pages = client
        .list_versions_by_function()
        .function_name(name)
        .into_paginator()
        .send();
    loop {
        s.pace("lambda").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = match page {
            Ok(p) => p,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => {
                return Err(WatchError::sdk(
                    format!("ListVersionsByFunction {name}"),
                    &e,
                ));
            }
        };
        for v in page.versions() {
            let Some(version) = v.version().filter(|v| *v != "$LATEST") else {
                continue;
            };
            let p = match policy(s, client, name, Some(version)).await {
                Ok(p) => p,
                Err(e) => return gone(e),
            };
            versions.push(json!({"version": version, "policy": p}));
        }
    }
    let arn = f.function_arn().map_or_else(
        || format!("arn:aws:lambda:{region}:{}:function:{name}", s.account_id),
        String::from,
    );
    s.pace("lambda").await;
    let mut tags: Vec<(String, String)> = match client.list_tags().resource(&arn).send().await {
        Ok(out) => out
            .tags()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(WatchError::sdk(format!("ListTags {name}"), &e)),
    };
    tags.sort();
    // Names only: environment values routinely hold secrets.
    let mut env_names: Vec<&str> = f
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.keys().map(String::as_str).collect())
        .unwrap_or_default();
    env_names.sort_unstable();
    let configuration = json!({
        "functionName": name,
        "functionArn": arn,
        "runtime": f.runtime().map(|r| r.as_str()),
        "role": f.role(),
        "handler": f.handler(),
        "description": f.description(),
        "timeout": f.timeout(),
        "memorySize": f.memory_size(),
        "codeSha256": f.code_sha256(),
        "packageType": f.package_type().map(|p| p.as_str()),
        "kmsKeyArn": f.kms_key_arn(),
        "vpcConfig": f.vpc_config().map(|v| json!({
            "vpcId": v.vpc_id(),
            "subnetIds": v.subnet_ids(),
            "securityGroupIds": v.security_group_ids(),
        })),
        "environmentVariableNames": env_names,
        "layers": f.layers().iter().filter_map(|l| l.arn()).collect::<Vec<_>>(),
        "policy": function_policy,
        "aliases": aliases,
        "versions": versions,
        "tags": doc::tag_list(&tags),
    });
    Ok(Some(
        Envelope {
            resource_type: FUNCTION,
            resource_id: name.to_string(),
            resource_name: name.to_string(),
            arn,
            account_id: &s.account_id,
            region,
            configuration,
            supplementary: json!({}),
            tags,
        }
        .into_item(),
    ))
}
