//! CloudTrail trails, the account-level item and Lambda functions end to end through the real
//! binary against moto, on SQLite and PostgreSQL: the first sweep records each trail with its
//! logging status, the account with the trails that record it and each function with its
//! policies; the shipped `cloudtrail` and `lambda-function` rules raise Security Monkey's
//! titles and scores; an unchanged re-sweep writes nothing; stopping the only logging trail
//! flags the account; removing a public grant is one revision that fixes its issue.

use simian_tests::estate::{EMPTY_ZIP, STRANGER};
use simian_tests::moto::{ACCOUNT, Moto};
use simian_tests::pg::on_postgres;
use simian_tests::report::{ok_json, scope};
use simian_tests::{Env, deploy_shipped};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trails_and_functions_are_watched_and_judged_on_sqlite() {
    estate(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trails_and_functions_are_watched_and_judged_on_postgres() {
    on_postgres("trails_and_functions", |url| async move {
        estate(Some(&url)).await
    })
    .await;
}

async fn seed(conf: &aws_config::SdkConfig) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("trail-logs")
        .send()
        .await
        .expect("bucket");
    let trails = aws_sdk_cloudtrail::Client::new(conf);
    for (name, multi_region) in [("org-trail", true), ("legacy", false)] {
        trails
            .create_trail()
            .name(name)
            .s3_bucket_name("trail-logs")
            .is_multi_region_trail(multi_region)
            .send()
            .await
            .expect("trail");
    }
    trails
        .start_logging()
        .name("org-trail")
        .send()
        .await
        .expect("start logging");

    let iam = aws_sdk_iam::Client::new(conf);
    let role = iam
        .create_role()
        .role_name("lambda-exec")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("role");
    let role_arn = role.role().map(|r| r.arn().to_string()).expect("arn");
    let lambda = aws_sdk_lambda::Client::new(conf);
    lambda
        .create_function()
        .function_name("thumbnailer")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role_arn)
        .handler("main.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(EMPTY_ZIP.to_vec()))
                .build(),
        )
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("API_TOKEN", "s3cr3t-never-recorded")
                .build(),
        )
        .send()
        .await
        .expect("function");
    lambda
        .add_permission()
        .function_name("thumbnailer")
        .statement_id("public")
        .action("lambda:InvokeFunction")
        .principal("*")
        .send()
        .await
        .expect("public permission");
}

// Long because it walks three resource types through the same steps on one estate.
async fn estate(storage: Option<&str>) {
    let moto = Moto::start();
    let conf = moto.sdk_config().await;
    seed(&conf).await;
    let storage = storage.map_or(String::new(), |url| format!("[storage]\nurl = \"{url}\"\n"));
    let env = Env::new(&format!(
        "{storage}[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"demo\"\nregions = [\"us-east-1\"]\n\n[aws]\nrequests_per_second = 0\n\n[plugin.lambda-function.grants]\naccounts = true\n"
    ));
    deploy_shipped(&env, "cloudtrail");
    deploy_shipped(&env, "lambda-function");
    let run = |args: &[&str]| ok_json(&env.cli_env(args, &moto.env()));
    let items = |t: &str| {
        run(&["items", "--type", t, "--format", "json"])["items"]
            .as_array()
            .expect("items")
            .clone()
    };
    let issues = |plugin: &str| -> Vec<(String, String, String)> {
        let mut found: Vec<(String, String, String)> =
            run(&["issues", "--format", "json"])["issues"]
                .as_array()
                .expect("issues")
                .iter()
                .filter(|i| i["plugin"] == plugin)
                .map(|i| {
                    (
                        i["resource_name"].as_str().unwrap_or_default().to_string(),
                        i["title"].as_str().unwrap_or_default().to_string(),
                        i["notes"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
        found.sort();
        found
    };

    let report = run(&["sweep", "--format", "json"]);
    assert_eq!(report["sweep"]["status"], "complete", "{report}");

    let trails = items("AWS::CloudTrail::Trail");
    assert_eq!(trails.len(), 2, "{trails:#?}");
    let org = trails
        .iter()
        .find(|t| t["resourceId"] == "org-trail")
        .expect("org-trail");
    assert_eq!(org["configuration"]["isLogging"], true);
    assert_eq!(org["configuration"]["isMultiRegionTrail"], true);
    let account = items("AWS::::Account");
    assert_eq!(account.len(), 1, "{account:#?}");
    assert_eq!(account[0]["resourceId"], ACCOUNT);
    assert_eq!(account[0]["awsRegion"], "global");
    assert_eq!(
        account[0]["configuration"]["cloudTrail"]["trails"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{:#?}",
        account[0]
    );
    let trail_issues = issues("cloudtrail");
    let titles: Vec<(&str, &str)> = trail_issues
        .iter()
        .map(|i| (i.0.as_str(), i.1.as_str()))
        .collect();
    assert_eq!(
        titles,
        [
            ("legacy", "POLICY - CloudTrail is disabled"),
            (
                "legacy",
                "POLICY - CloudTrail is not enabled for multi-region"
            ),
        ]
    );

    let functions = items("AWS::Lambda::Function");
    assert_eq!(functions.len(), 1);
    let f = &functions[0]["configuration"];
    assert_eq!(
        f["environmentVariableNames"],
        serde_json::json!(["API_TOKEN"])
    );
    assert!(
        !functions[0].to_string().contains("s3cr3t-never-recorded"),
        "an environment value was recorded"
    );
    assert_eq!(f["policy"]["Statement"][0]["Sid"], "public", "{f:#}");
    let fn_issues = issues("lambda-function");
    assert_eq!(fn_issues.len(), 1, "{fn_issues:?}");
    assert_eq!(fn_issues[0].1, "Internet Accessible");

    let again = run(&["sweep", "--format", "json"]);
    assert_eq!(again["sweep"]["created"], 0, "{again}");
    assert_eq!(again["sweep"]["modified"], 0, "{again}");

    // Stopping the only logging trail: the trail and the account each change once, and the
    // account-level issue opens.
    aws_sdk_cloudtrail::Client::new(&conf)
        .stop_logging()
        .name("org-trail")
        .send()
        .await
        .expect("stop logging");
    let lambda = aws_sdk_lambda::Client::new(&conf);
    lambda
        .remove_permission()
        .function_name("thumbnailer")
        .statement_id("public")
        .send()
        .await
        .expect("remove permission");
    lambda
        .add_permission()
        .function_name("thumbnailer")
        .statement_id("partner")
        .action("lambda:InvokeFunction")
        .principal(STRANGER)
        .send()
        .await
        .expect("partner permission");
    let changed = run(&["sweep", "--format", "json"]);
    for t in [
        "AWS::CloudTrail::Trail",
        "AWS::::Account",
        "AWS::Lambda::Function",
    ] {
        assert_eq!(scope(&changed, t)["modified"], 1, "{t}: {changed}");
    }
    let trail_issues = issues("cloudtrail");
    assert!(
        trail_issues.contains(&(
            ACCOUNT.to_string(),
            "POLICY - CloudTrail is disabled".to_string(),
            "Trails: [legacy, org-trail] none logging".to_string()
        )),
        "{trail_issues:?}"
    );
    assert_eq!(trail_issues.len(), 4, "{trail_issues:?}");
    let fn_issues = issues("lambda-function");
    let titles: Vec<&str> = fn_issues.iter().map(|i| i.1.as_str()).collect();
    assert_eq!(
        titles,
        ["Cross-Account Root IAM", "Unknown Access"],
        "{fn_issues:?}"
    );
}
