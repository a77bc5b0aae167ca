//! AWS sessions: the hub identity from the standard credential chain, an assumed role per
//! watched account, endpoints from the normal AWS settings (`AWS_ENDPOINT_URL` …), adaptive
//! retries, an operation timeout, call and retry counting, and a per-(account, service) rate
//! limit so simian never starves production automation.
//!
//! It must never list resources: that is the per-service watchers' job.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::region::Region;

use crate::config::{AccountConfig, AwsConfig};

/// Assuming each watched account's role, done by the hub identity (its own policy, not the
/// watched accounts', grants it).
pub const OPERATIONS: &[(&str, &str)] = &[("sts:AssumeRole", "sts:AssumeRole")];

/// Operations and attempts made through one session, by service.
#[derive(Debug, Default)]
pub struct CallCounts {
    operations: Mutex<HashMap<&'static str, u64>>,
    /// `service:Operation` names seen, for checking the published IAM policy.
    names: Mutex<std::collections::BTreeSet<String>>,
    attempts: AtomicU64,
    calls: AtomicU64,
}

impl CallCounts {
    pub fn operations(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Attempts beyond the first of each operation.
    pub fn retries(&self) -> u64 {
        self.attempts
            .load(Ordering::Relaxed)
            .saturating_sub(self.calls.load(Ordering::Relaxed))
    }

    pub fn operation_names(&self) -> std::collections::BTreeSet<String> {
        self.names.lock().map(|m| m.clone()).unwrap_or_default()
    }

    pub fn by_service(&self) -> HashMap<&'static str, u64> {
        self.operations
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug)]
struct Counter {
    service: &'static str,
    counts: Arc<CallCounts>,
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "simian-call-counter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.counts.calls.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.counts.operations.lock() {
            *m.entry(self.service).or_insert(0) += 1;
        }
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.counts.attempts.fetch_add(1, Ordering::Relaxed);
        // The operation's name is in the bag by the time it is attempted.
        if let Some(meta) = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            && let Ok(mut names) = self.counts.names.lock()
        {
            names.insert(format!("{}:{}", self.service, meta.name()));
        }
        Ok(())
    }
}

/// A simple pacing gate: at most `per_second` calls start per second.
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl RateLimit {
    pub fn new(per_second: f64) -> RateLimit {
        let per_second = if per_second > 0.0 {
            per_second
        } else {
            f64::MAX
        };
        RateLimit {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// One service's client for one region, counted like every other.
macro_rules! regional_client {
    ($session:expr, $sdk:ident, $service:literal, $region:expr) => {{
        let conf = $sdk::config::Builder::from(&$session.config)
            .region(Region::new($region.to_string()))
            .interceptor($session.counter($service))
            .build();
        $sdk::Client::from_conf(conf)
    }};
}

/// Everything needed to call AWS as one watched account.
pub struct AccountSession {
    pub account_id: String,
    pub config: SdkConfig,
    pub counts: Arc<CallCounts>,
    limits: HashMap<&'static str, Arc<RateLimit>>,
    force_path_style: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("account {account}: cannot assume {role}: {message}")]
    AssumeRole {
        account: String,
        role: String,
        message: String,
    },
}

pub const SERVICES: [&str; 13] = [
    "iam",
    "s3",
    "ec2",
    "sts",
    "sqs",
    "sns",
    "kms",
    "acm",
    "lambda",
    "rds",
    "cloudtrail",
    "elasticloadbalancing",
    "elbv2",
];

/// The hub configuration from the standard chain (env, profiles, SSO, instance role).
pub async fn hub_config(aws: &AwsConfig) -> SdkConfig {
    let retry = RetryConfig::adaptive()
        .with_max_attempts(aws.max_attempts)
        .with_initial_backoff(Duration::from_millis(aws.initial_backoff_ms));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(aws.connect_timeout_ms))
        .operation_attempt_timeout(Duration::from_millis(aws.attempt_timeout_ms))
        .operation_timeout(Duration::from_millis(aws.operation_timeout_ms))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(region) = &aws.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        // IAM and STS are global; a region is still required to sign.
        return config.to_builder().region(Region::new("us-east-1")).build();
    }
    config
}

/// The home region: `[aws] region`, else the hub's (environment, profile), else us-east-1.
/// Global resources are asked of it, and accounts without `regions` are watched in it.
pub fn home_region(aws: &AwsConfig, hub: &SdkConfig) -> String {
    aws.region
        .clone()
        .or_else(|| hub.region().map(|r| r.to_string()))
        .unwrap_or_else(|| "us-east-1".into())
}

impl AccountSession {
    pub async fn open(
        hub: &SdkConfig,
        account: &AccountConfig,
        aws: &AwsConfig,
    ) -> Result<AccountSession, SessionError> {
        let config = match &account.role_arn {
            Some(role) => {
                let mut provider = aws_config::sts::AssumeRoleProvider::builder(role.clone())
                    .session_name("simian")
                    .configure(hub);
                if let Some(external_id) = &account.external_id {
                    provider = provider.external_id(external_id.clone());
                }
                let provider = provider.build().await;
                // Fail here, once, rather than on every call of the sweep.
                use aws_credential_types::provider::ProvideCredentials;
                provider
                    .provide_credentials()
                    .await
                    .map_err(|e| SessionError::AssumeRole {
                        account: account.id.clone(),
                        role: role.clone(),
                        message: crate::watch::error_text(&e),
                    })?;
                hub.to_builder()
                    .credentials_provider(
                        aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                    )
                    .build()
            }
            None => hub.clone(),
        };
        let limits = SERVICES
            .iter()
            .map(|s| (*s, Arc::new(RateLimit::new(aws.requests_per_second))))
            .collect();
        let force_path_style = std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
            || aws.s3_force_path_style;
        Ok(AccountSession {
            account_id: account.id.clone(),
            config,
            counts: Arc::new(CallCounts::default()),
            limits,
            force_path_style,
        })
    }

    pub async fn pace(&self, service: &'static str) {
        if let Some(limit) = self.limits.get(service) {
            limit.wait().await;
        }
    }

    fn counter(&self, service: &'static str) -> Counter {
        Counter {
            service,
            counts: self.counts.clone(),
        }
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.config)
            .interceptor(self.counter("iam"))
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .force_path_style(self.force_path_style)
            .interceptor(self.counter("s3"))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(self.counter("ec2"))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    pub fn sqs(&self, region: &str) -> aws_sdk_sqs::Client {
        regional_client!(self, aws_sdk_sqs, "sqs", region)
    }

    pub fn sns(&self, region: &str) -> aws_sdk_sns::Client {
        regional_client!(self, aws_sdk_sns, "sns", region)
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        regional_client!(self, aws_sdk_kms, "kms", region)
    }

    pub fn acm(&self, region: &str) -> aws_sdk_acm::Client {
        regional_client!(self, aws_sdk_acm, "acm", region)
    }

    pub fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        regional_client!(self, aws_sdk_lambda, "lambda", region)
    }

    pub fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        regional_client!(self, aws_sdk_rds, "rds", region)
    }

    pub fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        regional_client!(self, aws_sdk_cloudtrail, "cloudtrail", region)
    }

    pub fn elb(&self, region: &str) -> aws_sdk_elasticloadbalancing::Client {
        regional_client!(
            self,
            aws_sdk_elasticloadbalancing,
            "elasticloadbalancing",
            region
        )
    }

    pub fn elbv2(&self, region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
        regional_client!(self, aws_sdk_elasticloadbalancingv2, "elbv2", region)
    }
}
