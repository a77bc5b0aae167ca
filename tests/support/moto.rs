//! A real AWS emulator for tests: moto server on a free loopback port, reached through the
//! standard AWS settings, seeded through the real AWS SDK.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_iam::types::Tag;

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Installs the venv on first use (scripts/moto-venv.sh) and returns moto_server's path.
fn moto_server() -> PathBuf {
    // Once per process: tests of one binary start emulators in parallel.
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(install_moto).clone()
}

/// The venv's Python (it also has aiosmtpd).
pub fn venv_python() -> PathBuf {
    moto_server().with_file_name("python")
}

fn install_moto() -> PathBuf {
    let script = crate::workspace().join("scripts/moto-venv.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/moto-venv.sh");
    assert!(out.status.success(), "moto venv setup failed");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Moto {
    pub fn start() -> Moto {
        let server = moto_server();
        let port = free_port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, port };
        let up = crate::wait_until(Duration::from_secs(60), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "moto_server did not come up on port {port}");
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment a simian process needs to reach this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        aws_env(&self.endpoint())
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await
    }
}

impl Moto {
    /// SDK settings for another account, reached the way simian reaches it: by assuming its
    /// `simian-audit` role. The emulator gives each account its own estate.
    pub async fn assumed_config(&self, account: &str) -> aws_config::SdkConfig {
        let base = self.sdk_config().await;
        let sts = aws_sdk_sts::Client::new(&base);
        let assumed = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/simian-audit"))
            .role_session_name("seed")
            .send()
            .await
            .expect("assume role");
        let c = assumed.credentials().expect("credentials");
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "assumed",
            ))
            .load()
            .await
    }
}

/// The standard AWS settings that point a process at an emulator endpoint, with no IMDS probing
/// and no profile files from the machine.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
    ]
}

pub const ACCOUNT: &str = "123456789012";

/// A new security group in the default VPC; its id.
pub async fn create_group(ec2: &aws_sdk_ec2::Client, name: &str, description: &str) -> String {
    ec2.create_security_group()
        .group_name(name)
        .description(description)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create group {name}: {e}"))
        .group_id()
        .expect("group id")
        .to_string()
}

/// Let `cidr` reach TCP `port` of a group.
pub async fn allow_tcp(ec2: &aws_sdk_ec2::Client, group_id: &str, port: i32, cidr: &str) {
    ec2.authorize_security_group_ingress()
        .group_id(group_id)
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .cidr_ip(cidr)
        .send()
        .await
        .unwrap_or_else(|e| panic!("allow tcp:{port} from {cidr} on {group_id}: {e}"));
}

/// Take back what `allow_tcp` gave.
pub async fn revoke_tcp(ec2: &aws_sdk_ec2::Client, group_id: &str, port: i32, cidr: &str) {
    ec2.revoke_security_group_ingress()
        .group_id(group_id)
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .cidr_ip(cidr)
        .send()
        .await
        .unwrap_or_else(|e| panic!("revoke tcp:{port} from {cidr} on {group_id}: {e}"));
}

/// A small but realistic estate, partly risky: what the demo and the watcher tests sweep.
pub async fn seed_estate(conf: &aws_config::SdkConfig) {
    let iam = aws_sdk_iam::Client::new(conf);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    );
    let ec2 = aws_sdk_ec2::Client::new(conf);

    // Users: a console user with an active key and no MFA, a clean one with MFA, an
    // inactive key, a service user.
    for (name, team) in [
        ("alice", "platform"),
        ("bob", "security"),
        ("carol", "data"),
        ("svc-deploy", "ci"),
    ] {
        iam.create_user()
            .user_name(name)
            .tags(Tag::builder().key("team").value(team).build().expect("tag"))
            .send()
            .await
            .expect("create user");
    }
    iam.create_login_profile()
        .user_name("alice")
        .password("Correct-Horse-1")
        .send()
        .await
        .expect("login profile");
    iam.create_access_key()
        .user_name("alice")
        .send()
        .await
        .expect("key");
    iam.create_access_key()
        .user_name("svc-deploy")
        .send()
        .await
        .expect("key");
    let carol = iam
        .create_access_key()
        .user_name("carol")
        .send()
        .await
        .expect("key");
    let carol_key = carol
        .access_key()
        .map(|k| k.access_key_id().to_string())
        .expect("key id");
    iam.update_access_key()
        .user_name("carol")
        .access_key_id(carol_key)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .expect("deactivate");
    iam.create_login_profile()
        .user_name("bob")
        .password("Correct-Horse-2")
        .send()
        .await
        .expect("login profile");
    let mfa = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("bob-mfa")
        .send()
        .await
        .expect("mfa");
    let serial = mfa
        .virtual_mfa_device()
        .map(|d| d.serial_number().to_string())
        .expect("serial");
    iam.enable_mfa_device()
        .user_name("bob")
        .serial_number(serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .expect("enable mfa");

    // A group with admin rights, alice in it.
    iam.create_group()
        .group_name("admins")
        .send()
        .await
        .expect("group");
    iam.put_group_policy()
        .group_name("admins")
        .policy_name("everything")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("group policy");
    iam.add_user_to_group()
        .group_name("admins")
        .user_name("alice")
        .send()
        .await
        .expect("membership");

    // Roles: one trusting an account nobody knows, one for a service.
    iam.create_role()
        .role_name("vendor-access")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .expect("role");
    iam.create_role()
        .role_name("lambda-exec")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .expect("role");
    let policy = iam
        .create_policy()
        .policy_name("read-reports")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::reports/*"}]}"#)
        .send()
        .await
        .expect("policy");
    let policy_arn = policy
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string();
    iam.attach_role_policy()
        .role_name("lambda-exec")
        .policy_arn(&policy_arn)
        .send()
        .await
        .expect("attach");

    // Buckets: a policy open to everyone, a public-read ACL, and a clean one.
    for b in ["open-policy-bucket", "public-acl-bucket", "reports"] {
        s3.create_bucket().bucket(b).send().await.expect("bucket");
    }
    s3.put_bucket_policy()
        .bucket("open-policy-bucket")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::open-policy-bucket/*"}]}"#)
        .send()
        .await
        .expect("bucket policy");
    s3.put_bucket_acl()
        .bucket("public-acl-bucket")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .expect("acl");
    s3.put_bucket_versioning()
        .bucket("reports")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("versioning");
    s3.put_bucket_tagging()
        .bucket("reports")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("owner")
                        .value("data")
                        .build()
                        .expect("tag"),
                )
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("tagging");

    // Security groups: SSH open to the world, and an internal one.
    let open = ec2
        .create_security_group()
        .group_name("open-ssh")
        .description("ssh from anywhere")
        .send()
        .await
        .expect("sg");
    allow_tcp(&ec2, open.group_id().expect("id"), 22, "0.0.0.0/0").await;
    let internal = ec2
        .create_security_group()
        .group_name("internal-web")
        .description("https from corp")
        .send()
        .await
        .expect("sg");
    allow_tcp(&ec2, internal.group_id().expect("id"), 443, "10.0.0.0/8").await;
    // Both in use, as on a running instance: an unused group's issues score 0.
    attach(
        &ec2,
        &[
            open.group_id().expect("id"),
            internal.group_id().expect("id"),
        ],
    )
    .await;
}

/// A network interface in the default VPC using `groups`: what makes a group "in use".
pub async fn attach(ec2: &aws_sdk_ec2::Client, groups: &[&str]) {
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
        .expect("subnets");
    let subnet = subnets
        .subnets()
        .iter()
        .find_map(|s| s.subnet_id())
        .expect("a default subnet");
    ec2.create_network_interface()
        .subnet_id(subnet)
        .set_groups(Some(groups.iter().map(|g| g.to_string()).collect()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("network interface for {groups:?}: {e}"));
}
