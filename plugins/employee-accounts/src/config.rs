//! The operator's settings, validated once in `new()`: a typo here would otherwise flag
//! (or excuse) every user in every account, so each mistake is an error naming the field.

use serde_json::Value;
use simian_sdk::{Error, settings};

use crate::roster::{self, Roster};

const KNOWN: &[&str] = &[
    "score",
    "roster",
    "roster_file",
    "match_by",
    "ignore",
    "ignore_paths",
];

/// One way a user can be matched to the roster, as written in `match_by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MatchBy {
    /// The user name equals a roster user.
    UserName,
    /// The user name equals the local part of a roster email.
    EmailLocalPart,
    /// The user's tag of this name equals a roster employee id.
    Tag(String),
}

impl MatchBy {
    fn parse(text: &str) -> Result<MatchBy, String> {
        match text {
            "user-name" => Ok(MatchBy::UserName),
            "email-local-part" => Ok(MatchBy::EmailLocalPart),
            _ => match text.strip_prefix("tag:") {
                Some(key) if !key.is_empty() => Ok(MatchBy::Tag(key.to_string())),
                _ => Err(format!(
                    "unknown mode `{text}` (expected user-name, email-local-part or tag:<tag key>)"
                )),
            },
        }
    }

    /// As the operator wrote it; used in notes.
    pub fn label(&self) -> String {
        match self {
            MatchBy::UserName => "user-name".to_string(),
            MatchBy::EmailLocalPart => "email-local-part".to_string(),
            MatchBy::Tag(key) => format!("tag:{key}"),
        }
    }
}

pub(crate) struct Config {
    pub score: u32,
    pub match_by: Vec<MatchBy>,
    /// Glob patterns on the user name.
    pub ignore: Vec<String>,
    /// IAM path prefixes as glob patterns (`/service/` becomes `/service/*`).
    pub ignore_paths: Vec<String>,
    pub roster: Roster,
}

impl Config {
    pub fn from_settings() -> Result<Config, Error> {
        reject_unknown_settings()?;
        let match_by = match_by()?;
        let roster = roster()?;
        Ok(Config {
            score: settings::get_or("score", 5)?,
            match_by,
            ignore: string_list("ignore")?,
            // Paths nest (`/service/ci/`), so a configured path covers everything below it.
            ignore_paths: string_list("ignore_paths")?
                .into_iter()
                .map(|p| format!("{p}*"))
                .collect(),
            roster,
        })
    }
}

fn reject_unknown_settings() -> Result<(), Error> {
    if let Value::Object(all) = settings::all()?
        && let Some(key) = all.keys().find(|k| !KNOWN.contains(&k.as_str()))
    {
        return Err(Error::new(format!(
            "unknown setting `{key}` (known: {})",
            KNOWN.join(", ")
        )));
    }
    Ok(())
}

/// A list of strings; a single string is read as a list of one.
fn string_list(key: &str) -> Result<Vec<String>, Error> {
    let not_strings = || Error::new(format!("setting `{key}` must be a list of strings"));
    match settings::get::<Value>(key)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s]),
        Some(Value::Array(list)) => list
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(not_strings()),
            })
            .collect(),
        Some(_) => Err(not_strings()),
    }
}

fn match_by() -> Result<Vec<MatchBy>, Error> {
    let written = match settings::get::<Value>("match_by")? {
        None | Some(Value::Null) => return Ok(vec![MatchBy::UserName, MatchBy::EmailLocalPart]),
        Some(_) => string_list("match_by")?,
    };
    let mut modes = Vec::new();
    for text in &written {
        let mode = MatchBy::parse(text.trim())
            .map_err(|why| Error::new(format!("setting `match_by`: {why}")))?;
        // Repeats would only repeat themselves in the notes.
        if !modes.contains(&mode) {
            modes.push(mode);
        }
    }
    if modes.is_empty() {
        return Err(Error::new(
            "setting `match_by` is empty: no user could ever match the roster",
        ));
    }
    Ok(modes)
}

/// The inline `roster` and the entries of `roster_file`, together; at least one is required.
fn roster() -> Result<Roster, Error> {
    let inline = settings::get::<Value>("roster")?.filter(|v| !v.is_null());
    let file = settings::get_str("roster_file")?;
    if inline.is_none() && file.is_none() {
        return Err(Error::new(
            "no roster: set `roster` (a list of users) or `roster_file` (an absolute path)",
        ));
    }
    let mut roster = Roster::default();
    for entry in inline
        .as_ref()
        .map(roster::from_setting)
        .transpose()?
        .unwrap_or_default()
    {
        roster.add(entry);
    }
    if let Some(path) = &file {
        for entry in roster::load_file(path)? {
            roster.add(entry);
        }
    }
    // An empty roster would flag every user in every account: surely an export gone wrong.
    if roster.is_empty() {
        return Err(Error::new(
            "the roster (`roster`, `roster_file`) names nobody; refusing to flag every user",
        ));
    }
    Ok(roster)
}
