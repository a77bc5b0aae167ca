//! What the rules read from a PEM certificate, through `x509-parser` (parsing only; no
//! signature is verified).

use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::pem::parse_x509_pem;
use x509_parser::public_key::PublicKey;

pub struct Facts {
    pub issuer: String,
    /// Seconds since the epoch.
    pub not_after: i64,
    /// For RSA keys.
    pub rsa_bits: Option<usize>,
    /// The signature algorithm's short name (`sha256WithRSAEncryption`), else its OID.
    pub signature: String,
}

/// The first certificate of a PEM body.
pub fn facts(pem_text: &str) -> Result<Facts, String> {
    let (_, pem) = parse_x509_pem(pem_text.as_bytes()).map_err(|e| format!("not PEM: {e}"))?;
    let cert = pem.parse_x509().map_err(|e| format!("not X.509: {e}"))?;
    let rsa_bits = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => Some(rsa.key_size()),
        _ => None,
    };
    let oid = &cert.signature_algorithm.algorithm;
    let signature = oid2sn(oid, oid_registry())
        .map(String::from)
        .unwrap_or_else(|_| oid.to_id_string());
    Ok(Facts {
        issuer: cert.issuer().to_string(),
        not_after: cert.validity().not_after.timestamp(),
        rsa_bits,
        signature,
    })
}
