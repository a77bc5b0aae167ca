//! IAM server certificates (the account's, global): name, path, ids, upload date, the
//! `Expiration` IAM reports, and the public certificate body and chain (PEM), so rules can read
//! the certificate itself rather than trust the API's fields. Private keys are never returned
//! by IAM and never recorded.

use serde_json::json;

use super::doc::{self, Envelope};
use super::session::AccountSession;
use super::{WatchError, is_not_found};
use crate::item::Item;

pub const SERVER_CERTIFICATE: &str = "AWS::IAM::ServerCertificate";

/// IAM: the account's server certificates.
pub struct IamCertificatesWatcher;

#[async_trait::async_trait]
impl super::Watcher for IamCertificatesWatcher {
    fn resource_types(&self) -> &'static [&'static str] {
        &[SERVER_CERTIFICATE]
    }

    fn region_scope(&self) -> super::RegionScope {
        super::RegionScope::Global
    }

    fn operations(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("iam:GetServerCertificate", "iam:GetServerCertificate"),
            ("iam:ListServerCertificates", "iam:ListServerCertificates"),
        ]
    }

    async fn list(&self, session: &AccountSession, _region: &str) -> Result<Vec<Item>, WatchError> {
        list(session).await
    }
}

pub async fn list(s: &AccountSession) -> Result<Vec<Item>, WatchError> {
    let iam = s.iam();
    let mut names = Vec::new();
    let mut pages = iam.list_server_certificates().into_paginator().send();
    loop {
        s.pace("iam").await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| WatchError::sdk("ListServerCertificates", &e))?;
        names.extend(
            page.server_certificate_metadata_list()
                .iter()
                .map(|m| m.server_certificate_name().to_string()),
        );
    }
    let mut items = Vec::with_capacity(names.len());
    for name in names {
        s.pace("iam").await;
        let out = match iam
            .get_server_certificate()
            .server_certificate_name(&name)
            .send()
            .await
        {
            Ok(out) => out,
            // Deleted between the listing and the read.
            Err(e) if is_not_found(&e) => continue,
            Err(e) => return Err(WatchError::sdk(format!("GetServerCertificate {name}"), &e)),
        };
        let Some(cert) = out.server_certificate() else {
            return Err(WatchError::new(format!(
                "GetServerCertificate {name}: no ServerCertificate in the answer"
            )));
        };
        let Some(meta) = cert.server_certificate_metadata() else {
            return Err(WatchError::new(format!(
                "GetServerCertificate {name}: no metadata in the answer"
            )));
        };
        let tags = super::iam::tags(Some(cert.tags()));
        items.push(
            Envelope {
                resource_type: SERVER_CERTIFICATE,
                resource_id: meta.server_certificate_id().to_string(),
                resource_name: name.clone(),
                arn: meta.arn().to_string(),
                account_id: &s.account_id,
                region: super::GLOBAL_REGION,
                configuration: json!({
                    "serverCertificateName": name,
                    "serverCertificateId": meta.server_certificate_id(),
                    "arn": meta.arn(),
                    "path": meta.path(),
                    "uploadDate": doc::time(meta.upload_date()),
                    "expiration": doc::time(meta.expiration()),
                    "certificateBody": cert.certificate_body(),
                    "certificateChain": cert.certificate_chain(),
                    "tags": doc::tag_list(&tags),
                }),
                supplementary: json!({}),
                tags,
            }
            .into_item(),
        );
    }
    Ok(items)
}
