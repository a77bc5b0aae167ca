//! Planning one listing: validating it against its scope, loading the scope's stored hashes,
//! and classifying every observed item as new, re-created, modified, ephemeral-only or
//! unchanged, and every missing one as deleted (complete listings only).
//!
//! It must never write: `apply` writes what the plan says, in one transaction.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use tracing::warn;

use super::hash::{Hasher, Hashes, canonical_document};
use super::{StoreError, q};
use crate::item::Item;

/// What one listing covers: every item of one type in one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Scope {
    pub account_id: String,
    pub region: String,
    pub resource_type: String,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.account_id, self.region, self.resource_type
        )
    }
}

/// Below this many items, splitting the hashing across threads costs more than it saves.
const PARALLEL_MIN: usize = 2_000;

/// The stored state of one item, as needed to classify an observation.
#[derive(Debug, Clone)]
pub(super) struct StoredRow {
    pub(super) id: i64,
    pub(super) durable_hash: String,
    pub(super) complete_hash: String,
    pub(super) deleted: bool,
    pub(super) revision_id: Option<i64>,
    pub(super) arn: String,
}

#[derive(Debug)]
pub(super) enum Outcome {
    New,
    Recreated { id: i64 },
    Modified { id: i64 },
    Ephemeral { id: i64, revision_id: i64 },
}

pub(super) struct Planned {
    pub(super) item: Item,
    pub(super) outcome: Outcome,
    pub(super) hashes: Hashes,
    pub(super) document: String,
    pub(super) captured_at_ms: i64,
}

pub(super) struct Deletion {
    pub(super) id: i64,
    pub(super) resource_id: String,
    pub(super) revision_id: i64,
    pub(super) arn: String,
}

pub(super) struct Plan {
    pub(super) changed: Vec<Planned>,
    pub(super) unchanged: u64,
    pub(super) deletions: Vec<Deletion>,
}

/// Reject items from another scope (they would corrupt this scope's deletions) and keep the
/// last of any duplicates.
pub(super) fn validate(scope: &Scope, items: Vec<Item>) -> Result<Vec<Item>, StoreError> {
    for item in &items {
        let field = if item.account_id != scope.account_id {
            "account id"
        } else if item.region != scope.region {
            "region"
        } else if item.resource_type != scope.resource_type {
            "resource type"
        } else {
            continue;
        };
        return Err(StoreError::ScopeMismatch {
            item: item.label(),
            scope: scope.to_string(),
            field,
        });
    }
    let distinct: HashSet<&str> = items.iter().map(|i| i.resource_id.as_str()).collect();
    if distinct.len() == items.len() {
        return Ok(items);
    }
    let duplicates = items.len() - distinct.len();
    drop(distinct);
    warn!(%scope, duplicates, "listing repeats resource ids; keeping the last of each");
    let mut last: HashMap<String, usize> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(item.resource_id.clone(), i);
    }
    Ok(items
        .into_iter()
        .enumerate()
        .filter(|(i, item)| last.get(&item.resource_id) == Some(i))
        .map(|(_, item)| item)
        .collect())
}

pub(super) async fn load_scope(
    tx: &mut Transaction<'static, Any>,
    scope: &Scope,
) -> Result<HashMap<String, StoredRow>, StoreError> {
    let what = "loading the scope's stored hashes";
    let rows = sqlx::query(
        "SELECT id, resource_id, durable_hash, complete_hash, deleted, current_revision_id, arn
         FROM items WHERE account_id = $1 AND region = $2 AND resource_type = $3",
    )
    .bind(&scope.account_id)
    .bind(&scope.region)
    .bind(&scope.resource_type)
    .fetch_all(&mut **tx)
    .await
    .map_err(q(what))?;
    let mut stored = HashMap::with_capacity(rows.len());
    for r in &rows {
        let deleted: i64 = r.try_get("deleted").map_err(q(what))?;
        stored.insert(
            r.try_get::<String, _>("resource_id").map_err(q(what))?,
            StoredRow {
                id: r.try_get("id").map_err(q(what))?,
                durable_hash: r.try_get("durable_hash").map_err(q(what))?,
                complete_hash: r.try_get("complete_hash").map_err(q(what))?,
                deleted: deleted != 0,
                revision_id: r.try_get("current_revision_id").map_err(q(what))?,
                arn: r.try_get("arn").map_err(q(what))?,
            },
        );
    }
    Ok(stored)
}

/// Hash every item and compare with the stored rows. CPU-bound: runs off the async threads,
/// split across cores for large listings.
// Long because hashing runs inline for small listings and split across threads for large
// ones, and both paths feed the same comparison with the stored rows.
pub(super) fn classify(
    items: Vec<Item>,
    stored: HashMap<String, StoredRow>,
    resource_type: &str,
    complete: bool,
    now: i64,
) -> Plan {
    let threads = if items.len() < PARALLEL_MIN {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    };
    let chunk = items.len().div_ceil(threads).max(1);
    let judge = |offset: usize, slice: &[Item]| {
        let mut hasher = Hasher::for_type(resource_type);
        let mut out = Vec::new();
        for (i, item) in slice.iter().enumerate() {
            let envelope = item.to_envelope();
            let hashes = hasher.hash_envelope(&envelope);
            let outcome = match stored.get(&item.resource_id) {
                None => Outcome::New,
                Some(s) if s.deleted => Outcome::Recreated { id: s.id },
                Some(s) if s.durable_hash != hashes.durable => Outcome::Modified { id: s.id },
                Some(s) if s.complete_hash != hashes.complete => match s.revision_id {
                    Some(revision_id) => Outcome::Ephemeral {
                        id: s.id,
                        revision_id,
                    },
                    None => Outcome::Modified { id: s.id },
                },
                Some(_) => continue,
            };
            let document = canonical_document(&envelope);
            let captured_at_ms = parse_capture_ms(&item.capture_time).unwrap_or(now);
            out.push((offset + i, outcome, hashes, document, captured_at_ms));
        }
        out
    };
    let mut found = if threads == 1 {
        judge(0, &items)
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = items
                .chunks(chunk)
                .enumerate()
                .map(|(n, slice)| {
                    let judge = &judge;
                    s.spawn(move || judge(n * chunk, slice))
                })
                .collect();
            handles
                .into_iter()
                // A panicking hasher thread re-panics here; spawn_blocking reports it.
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    found.sort_by_key(|f| f.0);

    let deletions = if complete {
        let seen: HashSet<&str> = items.iter().map(|i| i.resource_id.as_str()).collect();
        let mut gone: Vec<Deletion> = stored
            .iter()
            .filter(|(rid, s)| !s.deleted && !seen.contains(rid.as_str()))
            .filter_map(|(rid, s)| match s.revision_id {
                Some(revision_id) => Some(Deletion {
                    id: s.id,
                    resource_id: rid.clone(),
                    revision_id,
                    arn: s.arn.clone(),
                }),
                None => {
                    warn!(
                        item = s.id,
                        "stored item has no revision; cannot record its deletion"
                    );
                    None
                }
            })
            .collect();
        gone.sort_by_key(|d| d.id);
        gone
    } else {
        Vec::new()
    };

    let unchanged = (items.len() - found.len()) as u64;
    let mut found = found.into_iter().peekable();
    let mut changed = Vec::with_capacity(found.len());
    for (i, item) in items.into_iter().enumerate() {
        if found.peek().is_some_and(|f| f.0 == i)
            && let Some((_, outcome, hashes, document, captured_at_ms)) = found.next()
        {
            changed.push(Planned {
                item,
                outcome,
                hashes,
                document,
                captured_at_ms,
            });
        }
    }
    Plan {
        changed,
        unchanged,
        deletions,
    }
}

/// RFC 3339 (`2024-05-01T12:00:00.123Z`, `…+02:00`) to unix milliseconds.
pub(crate) fn parse_capture_ms(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = b.get(from..to)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = &b[start..i];
        if digits.is_empty() {
            return None;
        }
        for k in 0..3 {
            millis = millis * 10 + digits.get(k).map_or(0, |d| i64::from(d - b'0'));
        }
    }
    let offset_min = match b.get(i) {
        None | Some(b'Z') | Some(b'z') if b.len() <= i + 1 => 0,
        Some(&sign) if sign == b'+' || sign == b'-' => {
            let (h, m) = if b.len() == i + 6 && b[i + 3] == b':' {
                (num(i + 1, i + 3)?, num(i + 4, i + 6)?)
            } else if b.len() == i + 5 {
                (num(i + 1, i + 3)?, num(i + 3, i + 5)?)
            } else {
                return None;
            };
            let total = h * 60 + m;
            if sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1_000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_times() {
        assert_eq!(parse_capture_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_capture_ms("2024-02-29T12:34:56.789Z"),
            Some(1_709_210_096_789)
        );
        assert_eq!(
            parse_capture_ms("2024-02-29T14:34:56.7+02:00"),
            Some(1_709_210_096_700)
        );
        assert_eq!(
            parse_capture_ms("2024-02-29T12:34:56"),
            Some(1_709_210_096_000)
        );
        assert_eq!(parse_capture_ms(""), None);
        assert_eq!(parse_capture_ms("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_capture_ms("2024-01-01T00:00:00Zjunk"), None);
    }

    fn envelope(id: &str, tag: &str, last_used: &str) -> Item {
        let doc = serde_json::json!([{
            "resourceType": "AWS::IAM::User",
            "resourceId": id,
            "resourceName": id,
            "arn": format!("arn:aws:iam::123456789012:user/{id}"),
            "accountId": "123456789012",
            "awsRegion": "global",
            "configurationItemCaptureTime": "2026-11-22T00:00:00Z",
            "configuration": {
                "userName": id,
                "accessKeys": [{"accessKeyId": "AKIA1", "lastUsedDate": last_used}]
            },
            "tags": {"team": tag}
        }]);
        Item::parse_document(&doc.to_string(), "plan-test")
            .expect("item")
            .remove(0)
    }

    fn stored(id: i64, item: &Item, deleted: bool) -> StoredRow {
        StoredRow {
            id,
            durable_hash: crate::store::durable_hash(item),
            complete_hash: crate::store::complete_hash(item),
            deleted,
            revision_id: Some(id * 10),
            arn: item.arn.clone(),
        }
    }

    /// Every outcome, decided from hashes alone: durable changes are revisions, ephemeral-only
    /// changes are not, and only a complete listing deletes what it did not see.
    #[test]
    fn a_listing_is_classified_against_the_stored_hashes() {
        let old = |id: &str| envelope(id, "old", "2026-01-01T00:00:00Z");
        let mut rows = HashMap::new();
        rows.insert("same".to_string(), stored(1, &old("same"), false));
        rows.insert("ephemeral".to_string(), stored(2, &old("ephemeral"), false));
        rows.insert("modified".to_string(), stored(3, &old("modified"), false));
        rows.insert("back".to_string(), stored(4, &old("back"), true));
        rows.insert("gone".to_string(), stored(5, &old("gone"), false));
        let listing = vec![
            old("same"),
            envelope("ephemeral", "old", "2026-11-01T00:00:00Z"),
            envelope("modified", "new", "2026-01-01T00:00:00Z"),
            old("back"),
            old("new"),
        ];
        let outcome = |plan: &Plan, id: &str| {
            plan.changed
                .iter()
                .find(|p| p.item.resource_id == id)
                .map(|p| format!("{:?}", p.outcome))
        };

        let plan = classify(listing.clone(), rows.clone(), "AWS::IAM::User", true, 0);
        assert_eq!(plan.unchanged, 1);
        assert_eq!(outcome(&plan, "same"), None);
        assert_eq!(
            outcome(&plan, "ephemeral").as_deref(),
            Some("Ephemeral { id: 2, revision_id: 20 }")
        );
        assert_eq!(
            outcome(&plan, "modified").as_deref(),
            Some("Modified { id: 3 }")
        );
        assert_eq!(
            outcome(&plan, "back").as_deref(),
            Some("Recreated { id: 4 }")
        );
        assert_eq!(outcome(&plan, "new").as_deref(), Some("New"));
        let deleted: Vec<i64> = plan.deletions.iter().map(|d| d.id).collect();
        assert_eq!(deleted, [5]);

        // A failed listing proves nothing about what it did not see.
        let partial = classify(listing, rows, "AWS::IAM::User", false, 0);
        assert!(partial.deletions.is_empty());
        assert_eq!(partial.changed.len(), plan.changed.len());
    }
}
