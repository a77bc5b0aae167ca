//! Application and classic load balancers end to end through the real binary against moto,
//! on SQLite and PostgreSQL: the first sweep records each with its listeners, attributes and
//! TLS policies; the shipped `load-balancer` rule makes the internet-facing ALB inherit its
//! security group's open ingress on its listener port (not on 22), recommends access logs and
//! deletion protection, and flags a custom TLS policy; an unchanged re-sweep writes nothing;
//! turning deletion protection on is one revision that fixes its issue; a deleted classic
//! load balancer is recorded after a complete listing.

use simian_tests::estate::{default_subnets, fixed_response, self_signed_certificate};
use simian_tests::moto::{ACCOUNT, Moto, allow_tcp};
use simian_tests::pg::on_postgres;
use simian_tests::report::{ok_json, scope};
use simian_tests::{Env, deploy_shipped};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancers_are_watched_and_judged_on_sqlite() {
    estate(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancers_are_watched_and_judged_on_postgres() {
    on_postgres(
        "load_balancers",
        |url| async move { estate(Some(&url)).await },
    )
    .await;
}

/// The ALB's ARN.
async fn seed(conf: &aws_config::SdkConfig) -> String {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let subnets = default_subnets(&ec2, 2).await;
    let group = ec2
        .create_security_group()
        .group_name("web-lb")
        .description("public web")
        .send()
        .await
        .expect("sg")
        .group_id()
        .expect("id")
        .to_string();
    allow_tcp(&ec2, &group, 443, "0.0.0.0/0").await;
    allow_tcp(&ec2, &group, 22, "0.0.0.0/0").await;

    let v2 = aws_sdk_elasticloadbalancingv2::Client::new(conf);
    let alb = v2
        .create_load_balancer()
        .name("web")
        .set_subnets(Some(subnets))
        .security_groups(&group)
        .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::InternetFacing)
        .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Application)
        .send()
        .await
        .expect("alb")
        .load_balancers()
        .first()
        .and_then(|b| b.load_balancer_arn().map(String::from))
        .expect("arn");
    v2.create_listener()
        .load_balancer_arn(&alb)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(443)
        .default_actions(fixed_response())
        .send()
        .await
        .expect("listener");
    // AWS always reports the access-log attribute; moto only once it is set.
    v2.modify_load_balancer_attributes()
        .load_balancer_arn(&alb)
        .attributes(
            aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute::builder()
                .key("access_logs.s3.enabled")
                .value("false")
                .build(),
        )
        .send()
        .await
        .expect("access log attribute");

    // A classic load balancer with a custom TLS policy on its HTTPS listener.
    let (body, key) = self_signed_certificate(365, "legacy.example.com");
    let cert = aws_sdk_iam::Client::new(conf)
        .upload_server_certificate()
        .server_certificate_name("legacy-elb")
        .certificate_body(String::from_utf8(body).expect("PEM"))
        .private_key(String::from_utf8(key).expect("PEM"))
        .send()
        .await
        .expect("server certificate")
        .server_certificate_metadata()
        .map(|m| m.arn().to_string())
        .expect("arn");
    let elb = aws_sdk_elasticloadbalancing::Client::new(conf);
    elb.create_load_balancer()
        .load_balancer_name("legacy")
        .availability_zones("us-east-1a")
        .listeners(
            aws_sdk_elasticloadbalancing::types::Listener::builder()
                .protocol("HTTPS")
                .load_balancer_port(443)
                .instance_protocol("HTTP")
                .instance_port(80)
                .ssl_certificate_id(cert)
                .build()
                .expect("listener"),
        )
        .send()
        .await
        .expect("classic load balancer");
    elb.create_load_balancer_policy()
        .load_balancer_name("legacy")
        .policy_name("legacy-tls")
        .policy_type_name("SSLNegotiationPolicyType")
        .policy_attributes(
            aws_sdk_elasticloadbalancing::types::PolicyAttribute::builder()
                .attribute_name("Protocol-TLSv1")
                .attribute_value("true")
                .build(),
        )
        .send()
        .await
        .expect("policy");
    elb.set_load_balancer_policies_of_listener()
        .load_balancer_name("legacy")
        .load_balancer_port(443)
        .policy_names("legacy-tls")
        .send()
        .await
        .expect("listener policy");
    alb
}

// Long because it walks two resource types through the same steps on one estate.
async fn estate(storage: Option<&str>) {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    let alb = seed(&conf).await;
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let env = Env::new(&format!(
        "{storage}[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n\n[aws]\nrequests_per_second = 0\n\n[plugin.load-balancer.grants]\naccounts = true\nitems = {{ resource_types = [\"AWS::EC2::SecurityGroup\"] }}\n"
    ));
    deploy_shipped(&env, "load-balancer");
    let run = |args: &[&str]| ok_json(&env.cli_env(args, &moto.env()));
    let items = |t: &str| {
        run(&["items", "--type", t, "--format", "json"])["items"]
            .as_array()
            .expect("items")
            .clone()
    };
    let issues = || -> Vec<(String, String, u64, String)> {
        let mut found: Vec<(String, String, u64, String)> =
            run(&["issues", "--format", "json"])["issues"]
                .as_array()
                .expect("issues")
                .iter()
                .filter(|i| i["plugin"] == "load-balancer")
                .map(|i| {
                    (
                        i["resource_name"].as_str().unwrap_or_default().to_string(),
                        i["check_id"].as_str().unwrap_or_default().to_string(),
                        i["score"].as_u64().unwrap_or_default(),
                        i["notes"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
        found.sort();
        found
    };

    let report = run(&["sweep", "--format", "json"]);
    assert_eq!(report["sweep"]["status"], "complete", "{report}");
    let v2 = items("AWS::ElasticLoadBalancingV2::LoadBalancer");
    assert_eq!(v2.len(), 1, "{v2:#?}");
    assert_eq!(v2[0]["configuration"]["scheme"], "internet-facing");
    assert_eq!(v2[0]["configuration"]["listeners"][0]["port"], 443);
    let classic = items("AWS::ElasticLoadBalancing::LoadBalancer");
    assert_eq!(classic.len(), 1, "{classic:#?}");
    assert_eq!(
        classic[0]["configuration"]["sslNegotiationPolicies"][0]["policyName"], "legacy-tls",
        "{:#?}",
        classic[0]
    );
    let found = issues();
    let web: Vec<(&str, u64)> = found
        .iter()
        .filter(|f| f.0 == "web")
        .map(|f| (f.1.as_str(), f.2))
        .collect();
    assert_eq!(
        web,
        [
            ("access-logs-disabled", 1),
            ("deletion-protection-disabled", 1),
            ("internet-accessible", 10)
        ],
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.0 == "legacy" && f.1 == "insecure-tls" && f.2 == 8),
        "{found:?}"
    );

    let again = run(&["sweep", "--format", "json"]);
    assert_eq!(again["sweep"]["created"], 0, "{again}");
    assert_eq!(again["sweep"]["modified"], 0, "{again}");

    aws_sdk_elasticloadbalancingv2::Client::new(&conf)
        .modify_load_balancer_attributes()
        .load_balancer_arn(&alb)
        .attributes(
            aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("true")
                .build(),
        )
        .send()
        .await
        .expect("deletion protection");
    let changed = run(&["sweep", "--format", "json"]);
    assert_eq!(
        scope(&changed, "AWS::ElasticLoadBalancingV2::LoadBalancer")["modified"],
        1,
        "{changed}"
    );
    assert!(
        !issues()
            .iter()
            .any(|f| f.1 == "deletion-protection-disabled"),
        "fixed"
    );

    aws_sdk_elasticloadbalancing::Client::new(&conf)
        .delete_load_balancer()
        .load_balancer_name("legacy")
        .send()
        .await
        .expect("delete classic");
    let deleted = run(&["sweep", "--format", "json"]);
    let classic_scope = scope(&deleted, "AWS::ElasticLoadBalancing::LoadBalancer");
    assert_eq!(classic_scope["deleted"], 1, "{deleted}");
    assert_eq!(classic_scope["complete"], true);
    assert!(items("AWS::ElasticLoadBalancing::LoadBalancer").is_empty());
}
