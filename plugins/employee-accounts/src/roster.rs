//! The HR roster: who counts as an employee, from an inline setting or an exported file.
//!
//! Rosters come out of HR systems, so the readers are lenient about layout (extra columns,
//! blank lines, comments, a byte-order mark) and strict about content that would silently
//! weaken matching (an email without `@`, an unterminated quote).

use std::collections::BTreeSet;

use serde_json::Value;
use simian_sdk::Error;

/// One person as HR knows them; any field may be missing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub user: Option<String>,
    pub email: Option<String>,
    pub employee_id: Option<String>,
}

/// Lookup sets, lowercased once so each audit is three set probes.
#[derive(Debug, Default)]
pub(crate) struct Roster {
    users: BTreeSet<String>,
    email_locals: BTreeSet<String>,
    employee_ids: BTreeSet<String>,
}

impl Roster {
    pub fn add(&mut self, entry: Entry) {
        if let Some(user) = entry.user {
            self.users.insert(user.to_lowercase());
        }
        if let Some(local) = entry.email.as_deref().and_then(local_part) {
            self.email_locals.insert(local.to_lowercase());
        }
        if let Some(id) = entry.employee_id {
            self.employee_ids.insert(id.to_lowercase());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.email_locals.is_empty() && self.employee_ids.is_empty()
    }

    pub fn has_user(&self, name: &str) -> bool {
        self.users.contains(&name.to_lowercase())
    }

    pub fn has_email_local_part(&self, name: &str) -> bool {
        self.email_locals.contains(&name.to_lowercase())
    }

    pub fn has_employee_id(&self, id: &str) -> bool {
        self.employee_ids.contains(&id.trim().to_lowercase())
    }
}

/// `bob` of `bob@corp.example`; the last `@` splits, as in RFC 5321 addresses.
fn local_part(email: &str) -> Option<&str> {
    email.rsplit_once('@').map(|(local, _)| local)
}

/// A trimmed, non-empty value, or `None`.
fn field(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// An email must have a local part, or `email-local-part` would match nothing for this
/// person without anyone noticing.
fn check_email(email: &Option<String>) -> Result<(), String> {
    match email {
        Some(e) if local_part(e).is_none_or(str::is_empty) => {
            Err(format!("email `{e}` has no local part before `@`"))
        }
        _ => Ok(()),
    }
}

/// The inline `roster` setting: a list of user names or `{user, email, employee_id}` tables.
pub(crate) fn from_setting(value: &Value) -> Result<Vec<Entry>, Error> {
    let list = value
        .as_array()
        .ok_or_else(|| Error::new("setting `roster` must be a list of user names or tables"))?;
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            inline_entry(v).map_err(|why| Error::new(format!("setting `roster[{i}]`: {why}")))
        })
        .collect()
}

fn inline_entry(value: &Value) -> Result<Entry, String> {
    let entry = match value {
        Value::String(user) => Entry {
            user: field(user),
            ..Entry::default()
        },
        Value::Object(table) => {
            let mut entry = Entry::default();
            for (key, v) in table {
                let text = v
                    .as_str()
                    .ok_or_else(|| format!("`{key}` must be a string, not {v}"))?;
                let slot = match key.as_str() {
                    "user" => &mut entry.user,
                    "email" => &mut entry.email,
                    "employee_id" => &mut entry.employee_id,
                    other => {
                        return Err(format!(
                            "unknown key `{other}` (expected user, email, employee_id)"
                        ));
                    }
                };
                *slot = field(text);
            }
            entry
        }
        other => return Err(format!("must be a user name or a table, not {other}")),
    };
    if entry == Entry::default() {
        return Err("names no user, email or employee_id".to_string());
    }
    check_email(&entry.email)?;
    Ok(entry)
}

/// Read `roster_file`. A failure says how to grant the directory, since inside the sandbox
/// a missing grant and a missing file look alike.
pub(crate) fn load_file(path: &str) -> Result<Vec<Entry>, Error> {
    let setting = |why: String| Error::new(format!("setting `roster_file` ({path}): {why}"));
    if !path.starts_with('/') {
        return Err(setting("must be an absolute path".to_string()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        let dir = match path.rsplit_once('/') {
            Some(("", _)) | None => "/",
            Some((dir, _)) => dir,
        };
        setting(format!(
            "cannot read the roster: {e}; if the file exists, grant its directory in \
             simian.toml: [plugin.employee-accounts.grants] files = {{ dirs = [\"{dir}\"] }}"
        ))
    })?;
    parse_file(path, &text).map_err(setting)
}

/// `.csv` files are CSV with a header row; anything else is one user name per line.
pub(crate) fn parse_file(path: &str, text: &str) -> Result<Vec<Entry>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if path.to_ascii_lowercase().ends_with(".csv") {
        parse_csv(text)
    } else {
        Ok(parse_text(text))
    }
}

/// One user name per line; `#` starts a comment (IAM names cannot contain `#`).
fn parse_text(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|line| field(line.split('#').next().unwrap_or_default()))
        .map(|user| Entry {
            user: Some(user),
            ..Entry::default()
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Column {
    User,
    Email,
    EmployeeId,
}

fn column(header: &str) -> Option<Column> {
    match header.trim().to_ascii_lowercase().as_str() {
        "user" | "username" | "user_name" => Some(Column::User),
        "email" => Some(Column::Email),
        "employee_id" | "employeeid" => Some(Column::EmployeeId),
        _ => None,
    }
}

/// CSV with a header row naming at least one of user/username, email, employee_id; other
/// columns (names, departments) are ignored.
fn parse_csv(text: &str) -> Result<Vec<Entry>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let headers = csv_fields(header).map_err(|why| format!("line 1: {why}"))?;
    let columns: Vec<Option<Column>> = headers.iter().map(|h| column(h)).collect();
    if columns.iter().all(Option::is_none) {
        return Err(format!(
            "the CSV header has none of the columns user, username, email, employee_id \
             (found: {})",
            headers.join(", ")
        ));
    }
    let mut entries = Vec::new();
    for (index, line) in lines {
        let at = |why: String| format!("line {}: {why}", index + 1);
        let mut entry = Entry::default();
        for (value, column) in csv_fields(line).map_err(at)?.iter().zip(&columns) {
            let slot = match column {
                Some(Column::User) => &mut entry.user,
                Some(Column::Email) => &mut entry.email,
                Some(Column::EmployeeId) => &mut entry.employee_id,
                None => continue,
            };
            *slot = field(value);
        }
        check_email(&entry.email).map_err(at)?;
        // A row for someone with only other columns filled (a name, a desk) matches nothing.
        if entry != Entry::default() {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// The fields of one CSV line: commas separate, a field in double quotes may contain commas
/// and `""` for a quote. Quoted line breaks are not supported (rosters do not need them).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        value.push('"');
                    }
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => return Err("unterminated quoted field".to_string()),
                }
            }
            // Anything between the closing quote and the next comma is kept, as spreadsheets do.
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
        }
        fields.push(value);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_handle_quotes_and_commas() {
        assert_eq!(csv_fields("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(
            csv_fields(r#""Doe, Jane",jdoe,"say ""hi""""#).unwrap(),
            ["Doe, Jane", "jdoe", r#"say "hi""#]
        );
        assert_eq!(csv_fields("").unwrap(), [""]);
        assert_eq!(csv_fields("x,").unwrap(), ["x", ""]);
        assert!(csv_fields(r#"a,"open"#).is_err());
    }

    #[test]
    fn csv_header_is_case_insensitive_and_extra_columns_are_ignored() {
        let text = "\u{feff}Name,UserName,EMAIL,Employee_ID\n\
                    \"Doe, Jane\",jdoe,Jane.Doe@corp.example,E1\n\
                    \n\
                    Nobody,,,\n\
                    Sam,,sam@corp.example,\n";
        let entries = parse_file("/hr/roster.CSV", text).unwrap();
        assert_eq!(
            entries,
            [
                Entry {
                    user: Some("jdoe".into()),
                    email: Some("Jane.Doe@corp.example".into()),
                    employee_id: Some("E1".into()),
                },
                Entry {
                    user: None,
                    email: Some("sam@corp.example".into()),
                    employee_id: None,
                },
            ]
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = parse_csv("name,department\nJane,Ops\n").unwrap_err();
        assert!(e.contains("found: name, department"), "{e}");
        let e = parse_csv("user,email\nbob,bob.corp.example\n").unwrap_err();
        assert!(e.starts_with("line 2: email `bob.corp.example`"), "{e}");
        let e = parse_csv("user,email\n\nbob,\"bob@x\n").unwrap_err();
        assert_eq!(e, "line 3: unterminated quoted field");
    }

    #[test]
    fn text_roster_skips_comments_and_blanks() {
        let entries = parse_file("/hr/users.txt", "# HR export\nalice\n\n  bob  # ops\n#x\n")
            .unwrap()
            .into_iter()
            .map(|e| e.user.unwrap())
            .collect::<Vec<_>>();
        assert_eq!(entries, ["alice", "bob"]);
    }

    #[test]
    fn roster_lookups_ignore_case() {
        let mut roster = Roster::default();
        assert!(roster.is_empty());
        roster.add(Entry {
            user: Some("Alice".into()),
            email: Some("Bob.Smith@corp.example".into()),
            employee_id: Some("E42".into()),
        });
        assert!(!roster.is_empty());
        assert!(roster.has_user("alice"));
        assert!(!roster.has_user("bob.smith"));
        assert!(roster.has_email_local_part("bob.smith"));
        assert!(!roster.has_email_local_part("alice"));
        assert!(roster.has_employee_id(" e42 "));
        assert!(!roster.has_employee_id("E4"));
    }
}
