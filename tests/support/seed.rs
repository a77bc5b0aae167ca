//! `simian-seed`: seed the AWS emulator at `AWS_ENDPOINT_URL` with the demo estate through the
//! real AWS SDK (used by scripts/demo.sh).

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
        eprintln!("simian-seed: set AWS_ENDPOINT_URL to the emulator (never real AWS)");
        std::process::exit(2);
    };
    let host = url_host(&endpoint);
    if host != "127.0.0.1" && host != "localhost" {
        eprintln!("simian-seed: refusing to seed {endpoint}: only a loopback emulator");
        std::process::exit(2);
    }
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            "testing", "testing", None, None, "seed",
        ))
        .load()
        .await;
    simian_tests::moto::seed_estate(&conf).await;
    simian_tests::estate::seed_coverage(&conf).await;
    println!("seeded {endpoint}");
}

fn url_host(url: &str) -> &str {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}
