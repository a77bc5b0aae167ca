//! ACM certificates of one region: names, validity window, issuer, key and signature
//! algorithms, status, what uses them, renewal, tags. The certificate body and private key
//! are never fetched.

use serde_json::{Value, json};

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const CERTIFICATE: &str = "AWS::ACM::Certificate";

/// ACM: the certificates of one region.
pub struct AcmWatcher;

#[async_trait::async_trait]
impl super::Watcher for AcmWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[CERTIFICATE]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::PerRegion
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("acm:DescribeCertificate", "acm:DescribeCertificate"),
            ("acm:ListCertificates", "acm:ListCertificates"),
            ("acm:ListTagsForCertificate", "acm:ListTagsForCertificate"),
        ]
    }

    async fn list(&self, session: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
        list(session, region).await
    }
}

pub async fn list(s: &AccountSession, region: &str) -> Result<Vec<Item>, WatchError> {
    let acm = s.acm(region);
    let mut arns = Vec::new();
    let mut pages = acm.list_certificates().into_paginator().send();
    loop {
        s.pace("acm").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk(format!("ListCertificates ({region})"), &e))?;
        arns.extend(
            page.certificate_summary_list()
                .iter()
                .filter_map(|c| c.certificate_arn())
                .map(String::from),
        );
    }
    let mut items = Vec::with_capacity(arns.len());
    for arn in arns {
        if let Some(item) = certificate_item(s, &acm, region, &arn).await? {
            items.push(item);
        }
    }
    Ok(items)
}

fn strings(list: &[String]) -> Value {
    let mut list = list.to_vec();
    list.sort();
    json!(list)
}

/// `None` when the certificate went away between the listing and the describe.
async fn certificate_item(
    s: &AccountSession,
    acm: &aws_sdk_acm::Client,
    region: &str,
    arn: &str,
) -> Result<Option<Item>, WatchError> {
    s.pace("acm").await;
    let described = match acm.describe_certificate().certificate_arn(arn).send().await {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(WatchError::sdk(format!("DescribeCertificate {arn}"), &e)),
    };
    let Some(c) = described.certificate() else {
        return Err(WatchError::new(format!(
            "DescribeCertificate {arn}: no Certificate in the answer"
        )));
    };
    s.pace("acm").await;
    let mut tags: Vec<(String, String)> = match acm
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(out) => out
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(WatchError::sdk(format!("ListTagsForCertificate {arn}"), &e)),
    };
    tags.sort();
    let id = arn.rsplit('/').next().unwrap_or(arn).to_string();
    let name = c.domain_name().map_or_else(|| id.clone(), String::from);
    let configuration = json!({
        "certificateArn": arn,
        "domainName": c.domain_name(),
        "subjectAlternativeNames": strings(c.subject_alternative_names()),
        "serial": c.serial(),
        "subject": c.subject(),
        "issuer": c.issuer(),
        "type": c.r#type().map(|t| t.as_str()),
        "status": c.status().map(|t| t.as_str()),
        "createdAt": doc::time(c.created_at()),
        "issuedAt": doc::time(c.issued_at()),
        "importedAt": doc::time(c.imported_at()),
        "notBefore": doc::time(c.not_before()),
        "notAfter": doc::time(c.not_after()),
        "revokedAt": doc::time(c.revoked_at()),
        "keyAlgorithm": c.key_algorithm().map(|k| k.as_str()),
        "signatureAlgorithm": c.signature_algorithm(),
        "inUseBy": strings(c.in_use_by()),
        "renewalEligibility": c.renewal_eligibility().map(|r| r.as_str()),
        "failureReason": c.failure_reason().map(|r| r.as_str()),
        "tags": doc::tag_list(&tags),
    });
    Ok(Some(
        Envelope {
            resource_type: CERTIFICATE,
            resource_id: id,
            resource_name: name,
            arn: arn.to_string(),
            account_id: &s.account_id,
            region,
            configuration,
            supplementary: json!({}),
            tags,
        }
        .into_item(),
    ))
}
