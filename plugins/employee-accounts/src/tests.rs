use std::path::Path;

use serde_json::json;
use simian_sdk::testing::{TestHost, audit_with};
use simian_sdk::{Auditor, Error, Issue, Item};

use crate::EmployeeAccounts;

const DEFAULT_NOTES_TAIL: &str = "Roster: [no match by user-name, email-local-part]";

fn user(name: &str) -> Item {
    user_at(name, "/")
}

fn user_at(name: &str, path: &str) -> Item {
    Item::new("AWS::IAM::User", format!("AIDA{}", name.to_uppercase()))
        .with_name(name)
        .with_account("111111111111")
        .with_region("global")
        .with_arn(format!("arn:aws:iam::111111111111:user{path}{name}"))
        .with_configuration(&json!({"userName": name, "path": path, "userId": "AIDA1"}))
}

/// The roster most tests use: a plain name, a person known by email, one by employee id.
fn host() -> TestHost {
    TestHost::new().setting(
        "roster",
        json!([
            "alice",
            {"user": "Bob", "email": "bob.smith@corp.example", "employee_id": "E123"},
            {"email": "carol@corp.example"},
            {"employee_id": "E777"}
        ]),
    )
}

fn audit(host: &TestHost, item: Item) -> Result<Vec<Issue>, Error> {
    let mut results = audit_with::<EmployeeAccounts>(host, &[item]);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn issues(host: &TestHost, item: Item) -> Vec<Issue> {
    audit(host, item).expect("audited")
}

/// The error `new()` fails with, as every item reports it.
fn start_error(host: &TestHost) -> String {
    let e = audit(host, user("alice")).expect_err("new() should fail");
    let message = e.message().to_string();
    assert!(message.starts_with("plugin failed to start: "), "{message}");
    message
}

#[test]
fn unmatched_user_is_flagged_with_deterministic_notes() {
    let found = issues(&host(), user("mallory"));
    assert_eq!(found.len(), 1);
    let issue = &found[0];
    assert_eq!(issue.check_id, "not-an-employee");
    assert_eq!(issue.title, "IAM user does not match an employee");
    assert_eq!(issue.score, 5);
    assert_eq!(
        issue.notes,
        format!("Entity: [user:mallory] {DEFAULT_NOTES_TAIL}")
    );
    let remediation = issue.remediation.as_deref().expect("remediation");
    assert!(
        remediation.starts_with("If mallory belongs to an employee"),
        "{remediation}"
    );
    assert!(remediation.contains("delete the user"), "{remediation}");
    // Same item, same answer: the host's issue identity depends on it.
    assert_eq!(issues(&host(), user("mallory")), found);
}

#[test]
fn matched_by_user_name_ignoring_case() {
    assert!(issues(&host(), user("alice")).is_empty());
    assert!(issues(&host(), user("ALICE")).is_empty());
    assert!(issues(&host(), user("bob")).is_empty());
    // A prefix is not a match.
    assert_eq!(issues(&host(), user("alice2")).len(), 1);
}

#[test]
fn matched_by_email_local_part() {
    assert!(issues(&host(), user("bob.smith")).is_empty());
    assert!(issues(&host(), user("Carol")).is_empty());
    // The domain is not a user name.
    assert_eq!(issues(&host(), user("corp.example")).len(), 1);
    // Without the mode, the same users are strangers.
    let by_name = host().setting("match_by", json!(["user-name"]));
    let found = issues(&by_name, user("carol"));
    assert_eq!(
        found[0].notes,
        "Entity: [user:carol] Roster: [no match by user-name]"
    );
    assert!(issues(&by_name, user("alice")).is_empty());
}

#[test]
fn user_name_mode_can_be_left_out() {
    let by_email = host().setting("match_by", json!("email-local-part"));
    assert!(issues(&by_email, user("carol")).is_empty());
    let found = issues(&by_email, user("alice"));
    assert_eq!(
        found[0].notes,
        "Entity: [user:alice] Roster: [no match by email-local-part]"
    );
}

#[test]
fn matched_by_employee_id_tag() {
    let host = host().setting(
        "match_by",
        json!(["user-name", "email-local-part", "tag:employee-id"]),
    );
    assert!(issues(&host, user("svc-payroll").with_tag("employee-id", "E777")).is_empty());
    assert!(issues(&host, user("x").with_tag("employee-id", " e123 ")).is_empty());
    let notes = "Entity: [user:svc-payroll] Roster: [no match by user-name, \
                 email-local-part, tag:employee-id]";
    // No tag, an unknown id, or the id under another (case-sensitive) tag key.
    for item in [
        user("svc-payroll"),
        user("svc-payroll").with_tag("employee-id", "E999"),
        user("svc-payroll").with_tag("Employee-Id", "E777"),
    ] {
        let found = issues(&host, item);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].notes, notes);
    }
    // The tag only counts when the operator asked for it.
    let found = issues(
        &self::host(),
        user("svc-payroll").with_tag("employee-id", "E777"),
    );
    assert_eq!(found.len(), 1);
}

#[test]
fn repeated_modes_are_listed_once() {
    let host = host().setting("match_by", json!(["user-name", "user-name", "tag:emp"]));
    let found = issues(&host, user("zed"));
    assert_eq!(
        found[0].notes,
        "Entity: [user:zed] Roster: [no match by user-name, tag:emp]"
    );
}

#[test]
fn ignore_patterns_skip_service_accounts_by_name() {
    let host = host().setting("ignore", json!(["ci-*", "svc-?"]));
    assert!(issues(&host, user("ci-deploy")).is_empty());
    assert!(issues(&host, user("CI-Release")).is_empty());
    assert!(issues(&host, user("svc-a")).is_empty());
    assert_eq!(issues(&host, user("svc-ab")).len(), 1);
    assert_eq!(issues(&host, user("deploy-ci")).len(), 1);
}

#[test]
fn ignore_paths_cover_the_path_and_below() {
    let host = host().setting("ignore_paths", json!(["/service/"]));
    assert!(issues(&host, user_at("build", "/service/")).is_empty());
    assert!(issues(&host, user_at("build", "/service/ci/")).is_empty());
    assert_eq!(issues(&host, user_at("build", "/")).len(), 1);
    assert_eq!(issues(&host, user_at("build", "/services/")).len(), 1);
    assert_eq!(issues(&host, user_at("build", "/team/service/")).len(), 1);
}

#[test]
fn score_setting_changes_the_score() {
    let found = issues(&host().setting("score", 9), user("mallory"));
    assert_eq!(found[0].score, 9);
    let e = start_error(&host().setting("score", "high"));
    assert!(e.contains("setting `score`"), "{e}");
    let e = start_error(&host().setting("score", -1));
    assert!(e.contains("setting `score`"), "{e}");
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write roster");
    path.to_str().expect("utf-8 temp path").to_string()
}

#[test]
fn roster_file_csv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "roster.csv",
        "Name,Username,Email,Employee_ID,Department\n\
         \"Doe, Jane\",jdoe,jane.doe@corp.example,E1,\"Ops, EMEA\"\n\
         Sam Roe,,sroe@corp.example,E2,Finance\n",
    );
    let host = TestHost::new()
        .setting("roster_file", path.as_str())
        .setting(
            "match_by",
            json!(["user-name", "email-local-part", "tag:emp"]),
        );
    assert!(issues(&host, user("jdoe")).is_empty());
    assert!(issues(&host, user("jane.doe")).is_empty());
    assert!(issues(&host, user("sroe")).is_empty());
    assert!(issues(&host, user("robot").with_tag("emp", "E2")).is_empty());
    // Other columns are not matched against.
    assert_eq!(issues(&host, user("Finance")).len(), 1);
    assert_eq!(issues(&host, user("robot").with_tag("emp", "E3")).len(), 1);
}

#[test]
fn roster_file_text_merges_with_inline_roster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        dir.path(),
        "roster.txt",
        "# exported 2026-11-01\ndave\n\n  erin   # contractor\n",
    );
    let host = TestHost::new()
        .setting("roster_file", path.as_str())
        .setting("roster", json!(["frank"]));
    for name in ["dave", "erin", "frank"] {
        assert!(issues(&host, user(name)).is_empty(), "{name}");
    }
    assert_eq!(issues(&host, user("contractor")).len(), 1);
    assert_eq!(issues(&host, user("# exported 2026-11-01")).len(), 1);
}

#[test]
fn missing_roster_file_names_setting_path_and_grant() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("gone.csv");
    let path = path.to_str().expect("utf-8 temp path");
    let e = start_error(&TestHost::new().setting("roster_file", path));
    assert!(
        e.contains(&format!("setting `roster_file` ({path})")),
        "{e}"
    );
    let dir = dir.path().to_str().expect("utf-8 temp path");
    let grant = format!("[plugin.employee-accounts.grants] files = {{ dirs = [\"{dir}\"] }}");
    assert!(e.contains(&grant), "{e}");
}

#[test]
fn roster_file_problems_are_errors() {
    let e = start_error(&TestHost::new().setting("roster_file", "hr/roster.csv"));
    assert!(
        e.contains("setting `roster_file` (hr/roster.csv): must be an absolute path"),
        "{e}"
    );
    let e = start_error(&TestHost::new().setting("roster_file", json!(["/a"])));
    assert!(e.contains("setting `roster_file` must be a string"), "{e}");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(dir.path(), "r.csv", "user,email\nbob,\"bob@x\n");
    let e = start_error(&TestHost::new().setting("roster_file", path.as_str()));
    assert!(e.contains("line 2: unterminated quoted field"), "{e}");
    let path = write(dir.path(), "empty.csv", "user,email\n");
    let e = start_error(&TestHost::new().setting("roster_file", path.as_str()));
    assert!(e.contains("names nobody"), "{e}");
}

#[test]
fn bad_settings_name_the_field() {
    let cases: [(TestHost, &str); 9] = [
        (TestHost::new(), "no roster: set `roster`"),
        (
            TestHost::new().setting("roster", "alice"),
            "setting `roster` must be a list",
        ),
        (
            TestHost::new().setting("roster", json!(["alice", 7])),
            "setting `roster[1]`: must be a user name or a table, not 7",
        ),
        (
            TestHost::new().setting("roster", json!([{"user": "a", "mail": "a@x"}])),
            "setting `roster[0]`: unknown key `mail`",
        ),
        (
            TestHost::new().setting("roster", json!([{"email": "nobody"}])),
            "setting `roster[0]`: email `nobody` has no local part",
        ),
        (
            host().setting("match_by", json!(["user-name", "name"])),
            "setting `match_by`: unknown mode `name`",
        ),
        (
            host().setting("match_by", json!([])),
            "setting `match_by` is empty",
        ),
        (
            host().setting("ignore", json!(["ci-*", 3])),
            "setting `ignore` must be a list of strings",
        ),
        (
            host().setting("mach_by", json!(["user-name"])),
            "unknown setting `mach_by`",
        ),
    ];
    for (host, expected) in cases {
        let e = start_error(&host);
        assert!(e.contains(expected), "expected `{expected}` in: {e}");
    }
}

#[test]
fn user_name_falls_back_to_the_resource_name() {
    let item = Item::new("AWS::IAM::User", "AIDA9")
        .with_name("ghost")
        .with_configuration(&json!({"userName": null}));
    let found = issues(&host(), item);
    assert_eq!(
        found[0].notes,
        format!("Entity: [user:ghost] {DEFAULT_NOTES_TAIL}")
    );
}

#[test]
fn malformed_items_are_errors() {
    let nameless = Item::new("AWS::IAM::User", "AIDA9").with_configuration(&json!({}));
    let e = audit(&host(), nameless).expect_err("no name");
    assert!(
        e.message()
            .contains("AWS::IAM::User AIDA9: `userName` is missing"),
        "{e}"
    );
    let wrong =
        Item::new("AWS::IAM::User", "AIDA9").with_configuration(&json!({"userName": ["alice"]}));
    let e = audit(&host(), wrong).expect_err("wrong type");
    assert!(
        e.message()
            .contains("configuration of AWS::IAM::User AIDA9"),
        "{e}"
    );
}

#[test]
fn the_checks_are_listed() {
    let checks = EmployeeAccounts::checks();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].id, "not-an-employee");
    assert_eq!(checks[0].title, "IAM user does not match an employee");
    assert_eq!(checks[0].score, 5);
}
