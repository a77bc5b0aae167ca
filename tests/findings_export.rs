//! Findings out, through the real binary on SQLite and PostgreSQL: `simian issues --format
//! jsonl|csv|ocsf` and `simian report --format ocsf` over a store holding an issue in each
//! state of its life (new, seen again, fixed, justified, regressed, retired). Every OCSF
//! finding is validated against the vendored OCSF 1.6.0 schema, and its activity, status and
//! severity are asserted per issue.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use serde_json::{Value, json};
use simian::item::Item;
use simian::store::{AuditedBy, FoundIssue, Listing, Scope, Store};
use simian_tests::Env;
use simian_tests::ocsf::Schema;
use simian_tests::pg::on_postgres;
use simian_tests::report::ok_json;

const ACCOUNT: &str = "123456789012";
const HOSTILE_TITLE: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";
const HOSTILE_NAME: &str = "@SUM(1+1)";

/// What each seeded issue must export as: (activity_id, status_id, severity_id, is_alert).
struct Case {
    group: &'static str,
    name: &'static str,
    score: u32,
    expect: (u64, u64, u64, bool),
}

const CASES: &[Case] = &[
    // Found by one audit, never fixed: Create / New; score 10 is High.
    Case {
        group: "sg-new",
        name: HOSTILE_NAME,
        score: 10,
        expect: (1, 1, 4, true),
    },
    // Found again by a later audit: Create / In Progress; 5 is Medium.
    Case {
        group: "sg-again",
        name: "again",
        score: 5,
        expect: (1, 2, 3, true),
    },
    // Fixed: Close / Resolved; 1 is Low.
    Case {
        group: "sg-fixed",
        name: "fixed",
        score: 1,
        expect: (3, 4, 2, false),
    },
    // Justified: Create / Suppressed, no alert; 0 is Informational.
    Case {
        group: "sg-justified",
        name: "justified",
        score: 0,
        expect: (1, 3, 1, false),
    },
    // Fixed, then back: Update / In Progress; 20 is Critical.
    Case {
        group: "sg-regressed",
        name: "regressed",
        score: 20,
        expect: (2, 2, 5, true),
    },
    // Its plugin was unloaded: Close / Archived; 3 is Low.
    Case {
        group: "sg-retired",
        name: "retired",
        score: 3,
        expect: (3, 5, 2, false),
    },
];

fn arn(group: &str) -> String {
    format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{group}")
}

fn group(id: &str, name: &str) -> Item {
    Item::from_envelope(&json!({
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": id,
        "resourceName": name,
        "arn": arn(id),
        "accountId": ACCOUNT,
        "awsRegion": "us-east-1",
        "configurationItemCaptureTime": "2026-11-01T00:00:00Z",
        "configuration": {"groupId": id, "groupName": name, "ipPermissions": []}
    }))
    .expect("valid security group")
}

fn finding(case: &Case) -> FoundIssue {
    FoundIssue {
        check_id: "internet-accessible-ingress".into(),
        title: if case.group == "sg-new" {
            HOSTILE_TITLE.into()
        } else {
            "Internet Accessible".into()
        },
        score: case.score,
        notes: format!(
            "Entity: [cidr:0.0.0.0/0] Access: [ingress:tcp:22] on {}",
            case.group
        ),
        remediation: (case.group == "sg-new").then(|| "Remove the 0.0.0.0/0 rule.".to_string()),
        disabled: false,
    }
}

fn pause() {
    // Audits a few milliseconds apart, so "seen again" is visible in last_seen.
    std::thread::sleep(std::time::Duration::from_millis(5));
}

/// A store with one issue per case, each walked through its life with the store's own
/// lifecycle (as the audit pipeline records it).
async fn seed(url: &str) {
    let store = Store::open(url).await.expect("store opens");
    let scope = Scope {
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        resource_type: "AWS::EC2::SecurityGroup".into(),
    };
    let sweep = store.begin_sweep().await.expect("begin");
    let items = CASES.iter().map(|c| group(c.group, c.name)).collect();
    store
        .apply_listing(sweep, &scope, Listing::Complete(items))
        .await
        .expect("apply");
    store.finish_sweep(sweep).await.expect("finish");
    let rules = AuditedBy {
        plugin: "security-group".into(),
        version: "1.4.0".into(),
        generation: 1,
    };
    let elsewhere = AuditedBy {
        plugin: "old-rules".into(),
        version: "0.9.0".into(),
        generation: 1,
    };
    for case in CASES {
        let item = store
            .item_by_arn(&arn(case.group))
            .await
            .expect("read")
            .expect("item");
        let found = [finding(case)];
        let by = if case.group == "sg-retired" {
            &elsewhere
        } else {
            &rules
        };
        let first = store
            .record_audit(item.id, by, &found)
            .await
            .expect("audit");
        pause();
        match case.group {
            "sg-again" => {
                store
                    .record_audit(item.id, by, &found)
                    .await
                    .expect("audit");
            }
            "sg-fixed" => {
                store.record_audit(item.id, by, &[]).await.expect("audit");
            }
            "sg-justified" => {
                assert!(
                    store
                        .justify(first[0].issue_id, "bastion host", "alice", None)
                        .await
                        .expect("justify")
                );
            }
            "sg-regressed" => {
                store.record_audit(item.id, by, &[]).await.expect("audit");
                pause();
                store
                    .record_audit(item.id, by, &found)
                    .await
                    .expect("audit");
            }
            "sg-retired" => {
                assert_eq!(
                    store
                        .retire_plugin_issues("old-rules")
                        .await
                        .expect("retire"),
                    1
                );
            }
            _ => {}
        }
    }
    store.close().await;
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "simian failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn expected_uid(case: &Case) -> String {
    let f = finding(case);
    let plugin = if case.group == "sg-retired" {
        "old-rules"
    } else {
        "security-group"
    };
    simian::findings::finding_uid(&arn(case.group), plugin, &f.check_id, &f.notes)
}

async fn exports(url: String) {
    seed(&url).await;
    let env = Env::new(&format!(
        "[storage]\nurl = \"{url}\"\n[[accounts]]\nid = \"{ACCOUNT}\"\nname = \"prod\"\nregions = [\"us-east-1\"]\n"
    ));
    let schema = Schema::v1_6_0();
    assert_eq!(schema.version(), "1.6.0");

    // The JSON listing: the reference for ids and fields.
    let all = ok_json(&env.cli(&["issues", "--status", "all", "--format", "json"]));
    let by_id: BTreeMap<i64, Value> = all["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| (i["id"].as_i64().expect("id"), i.clone()))
        .collect();
    assert_eq!(by_id.len(), CASES.len());
    let id_of = |group: &str| -> i64 {
        *by_id
            .iter()
            .find(|(_, i)| i["arn"] == arn(group))
            .unwrap_or_else(|| panic!("no issue on {group}"))
            .0
    };

    // JSON Lines: one issue per line, the same fields as the JSON listing.
    let jsonl = lines(&env.cli(&["issues", "--status", "all", "--format", "jsonl"]));
    assert_eq!(jsonl.len(), CASES.len());
    for line in &jsonl {
        assert_eq!(Some(line), by_id.get(&line["id"].as_i64().expect("id")));
    }

    // CSV: plain UTF-8, CRLF records, parses back to the same issues, formulas defused.
    let text = stdout(&env.cli(&["issues", "--status", "all", "--format", "csv"]));
    assert!(!text.starts_with('\u{feff}'), "no byte-order mark");
    assert!(text.starts_with("finding_uid,issue_id,status,"), "{text}");
    assert_eq!(text.matches("\r\n").count(), CASES.len() + 1);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), CASES.len());
    let csv_ids: BTreeSet<i64> = records
        .iter()
        .map(|r| r[col("issue_id")].parse().expect("id"))
        .collect();
    assert_eq!(csv_ids, by_id.keys().copied().collect());
    let hostile = records
        .iter()
        .find(|r| r[col("arn")] == arn("sg-new"))
        .expect("the hostile row");
    assert_eq!(&hostile[col("title")], format!("'{HOSTILE_TITLE}"));
    assert_eq!(&hostile[col("resource_name")], format!("'{HOSTILE_NAME}"));
    assert_eq!(&hostile[col("finding_uid")], expected_uid(&CASES[0]));
    let statuses: BTreeMap<String, String> = records
        .iter()
        .map(|r| (r[col("arn")].to_string(), r[col("status")].to_string()))
        .collect();
    assert_eq!(statuses[&arn("sg-fixed")], "fixed");
    assert_eq!(statuses[&arn("sg-retired")], "retired");
    assert_eq!(statuses[&arn("sg-regressed")], "open");

    // OCSF: every finding valid against the 1.6.0 schema, and each state as it should be.
    let ocsf = lines(&env.cli(&["issues", "--status", "all", "--format", "ocsf"]));
    assert_eq!(ocsf.len(), CASES.len());
    for f in &ocsf {
        let errors = schema.validate("detection_finding", f);
        assert!(errors.is_empty(), "{errors:#?}\n{f:#}");
    }
    for case in CASES {
        let id = id_of(case.group);
        let f = ocsf
            .iter()
            .find(|f| f["unmapped"]["simian_issue_id"] == id)
            .unwrap_or_else(|| panic!("no finding for {}", case.group));
        let got = (
            f["activity_id"].as_u64().expect("activity"),
            f["status_id"].as_u64().expect("status"),
            f["severity_id"].as_u64().expect("severity"),
            f["is_alert"].as_bool().expect("is_alert"),
        );
        assert_eq!(got, case.expect, "{}: {f:#}", case.group);
        assert_eq!(f["type_uid"], 200400 + got.0, "{}", case.group);
        assert_eq!(
            f["finding_info"]["uid"],
            expected_uid(case),
            "{}",
            case.group
        );
        assert_ne!(f["finding_info"]["uid"], id.to_string());
        assert_eq!(f["resources"][0]["uid"], arn(case.group));
        assert_eq!(f["resources"][0]["type"], "AWS::EC2::SecurityGroup");
        assert_eq!(f["cloud"]["account"]["uid"], ACCOUNT);
        assert_eq!(f["cloud"]["account"]["name"], "prod");
        assert_eq!(f["cloud"]["region"], "us-east-1");
        assert_eq!(f["risk_score"], case.score);
        assert_eq!(f["metadata"]["version"], "1.6.0");
        assert_eq!(f["metadata"]["product"]["name"], "simian");
        let issue = &by_id[&id];
        assert_eq!(f["finding_info"]["first_seen_time"], issue["first_seen_ms"]);
        assert_eq!(f["finding_info"]["last_seen_time"], issue["last_seen_ms"]);
        let plugin = if case.group == "sg-retired" {
            "old-rules"
        } else {
            "security-group"
        };
        assert_eq!(
            f["finding_info"]["analytic"],
            json!({
                "uid": format!("{plugin}/internet-accessible-ingress"),
                "name": issue["title"],
                "type_id": 1,
                "type": "Rule",
                "version": if plugin == "old-rules" { "0.9.0" } else { "1.4.0" },
            })
        );
    }
    let new = ocsf
        .iter()
        .find(|f| f["resources"][0]["uid"] == arn("sg-new"))
        .expect("new");
    assert_eq!(new["remediation"]["desc"], "Remove the 0.0.0.0/0 rule.");
    assert_eq!(new["finding_info"]["title"], HOSTILE_TITLE);
    let justified = ocsf
        .iter()
        .find(|f| f["resources"][0]["uid"] == arn("sg-justified"))
        .expect("justified");
    assert_eq!(justified["comment"], "Justified by alice: bastion host");
    assert!(justified.get("remediation").is_none());

    // The default listing is the open issues (the justified one included).
    let open = lines(&env.cli(&["issues", "--format", "ocsf"]));
    let open_groups: BTreeSet<String> = open
        .iter()
        .map(|f| {
            f["resources"][0]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let want: BTreeSet<String> = ["sg-new", "sg-again", "sg-justified", "sg-regressed"]
        .iter()
        .map(|g| arn(g))
        .collect();
    assert_eq!(open_groups, want);

    // The report's findings: its open issues, under its filter.
    let report = lines(&env.cli(&["report", "--format", "ocsf"]));
    assert_eq!(report.len(), 4);
    for f in &report {
        assert!(schema.validate("detection_finding", f).is_empty());
        assert_ne!(f["activity_id"], 3);
    }
    let serious = lines(&env.cli(&["report", "--min-score", "5", "--format", "ocsf"]));
    let mut scores: Vec<u64> = serious
        .iter()
        .map(|f| f["risk_score"].as_u64().unwrap_or(0))
        .collect();
    scores.sort_unstable();
    assert_eq!(scores, [5, 10, 20]);

    // The existing formats are unchanged.
    let table = stdout(&env.cli(&["issues", "--status", "all"]));
    assert!(table.contains("(6 issues)"), "{table}");
    let report_json = ok_json(&env.cli(&["report", "--format", "json"]));
    assert_eq!(report_json["items"].as_array().map(Vec::len), Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    exports(format!("sqlite://{}/store.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_on_postgres() {
    on_postgres("findings_export", exports).await;
}

/// A finding the mapping produced, as JSON.
fn valid_finding() -> Value {
    let rows = simian::store::IssueRow {
        issue: simian::store::StoredIssue {
            id: 1,
            item_id: 1,
            plugin: "security-group".into(),
            check_id: "unknown-access".into(),
            title: "Unknown Access".into(),
            score: 10,
            notes: "Entity: [account:999999999999]".into(),
            remediation: None,
            open: true,
            first_seen_ms: 1_000,
            last_seen_ms: 2_000,
            fixed_ms: None,
            regressions: 0,
            plugin_version: "1.0.0".into(),
            plugin_generation: 1,
            justification: None,
            disabled: false,
            retired: false,
        },
        arn: arn("sg-x"),
        resource_type: "AWS::EC2::SecurityGroup".into(),
        resource_name: "x".into(),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
    };
    let context = simian::findings::ocsf::Context::new("0.1.0");
    serde_json::to_value(simian::findings::ocsf::detection_finding(&rows, &context)).expect("json")
}

#[test]
fn the_validator_catches_missing_required_attributes_bad_enums_and_inconsistent_ids() {
    let schema = Schema::v1_6_0();
    let good = valid_finding();
    assert_eq!(
        schema.validate("detection_finding", &good),
        Vec::<String>::new()
    );

    let mut bad = good.clone();
    bad["finding_info"]
        .as_object_mut()
        .expect("object")
        .remove("uid");
    bad.as_object_mut().expect("object").remove("time");
    bad["severity_id"] = json!(42);
    bad["status_id"] = json!(9);
    bad["type_uid"] = json!(200403);
    bad["cloud"]["account"]["type_id"] = json!(77);
    bad["finding_info"]["analytic"]["colour"] = json!("red");
    bad["resources"][0]["name"] = json!(5);
    let errors = schema.validate("detection_finding", &bad).join("\n");
    for expected in [
        "finding_info.uid: required by finding_info but missing",
        "time: required by detection_finding but missing",
        "severity_id: 42 is not in the enum",
        "status_id: 9 is not in the enum",
        "type_uid: 200403 is not 200401",
        "cloud.account.type_id: 77 is not in the enum",
        "finding_info.analytic.colour: not an attribute of analytic",
        "resources[0].name: 5 is not a string_t",
    ] {
        assert!(
            errors.contains(expected),
            "missing {expected:?} in:\n{errors}"
        );
    }

    // Profile-gated attributes: `cloud` is required once the cloud profile is applied, and
    // is not an attribute at all without it.
    let mut no_cloud = good.clone();
    no_cloud.as_object_mut().expect("object").remove("cloud");
    let errors = schema.validate("detection_finding", &no_cloud).join("\n");
    assert!(
        errors.contains("cloud: required by detection_finding"),
        "{errors}"
    );
    let mut no_profile = good.clone();
    no_profile["metadata"]["profiles"] = json!([]);
    let errors = schema.validate("detection_finding", &no_profile).join("\n");
    assert!(errors.contains("cloud: belongs to profile"), "{errors}");
    assert!(
        errors.contains("resources[0].region: belongs to profile"),
        "{errors}"
    );

    // Wrong captions beside their enums (the class's own included).
    let mut caption = good;
    caption["severity"] = json!("Low");
    caption["type_name"] = json!("Detection Finding: Close");
    caption["class_uid"] = json!(2001);
    let errors = schema.validate("detection_finding", &caption).join("\n");
    assert!(
        errors.contains("severity: \"Low\" is not the caption of severity_id 4"),
        "{errors}"
    );
    assert!(
        errors.contains(
            "type_name: \"Detection Finding: Close\" is not the caption of type_uid 200401"
        ),
        "{errors}"
    );
    assert!(errors.contains("class_uid: 2001 is not 2004"), "{errors}");
    assert!(
        errors.contains("class_uid: 2001 is not in the enum [\"2004\"]"),
        "{errors}"
    );
}
