//! Between the contract's records and the SDK's types. Everything moves (no clones): items
//! and issues cross this boundary on the hot path.

use crate::accounts::{Classification, Relation};
use crate::bindings::simian::plugin::accounts as wit_accounts;
use crate::bindings::simian::plugin::types as wit;
use crate::{Change, ChangeKind, CheckInfo, HostError, Issue, Item, PluginInfo, PluginKind};

pub(crate) fn host_error(e: wit::HostError) -> HostError {
    match e {
        wit::HostError::Denied(why) => HostError::Denied(why),
        wit::HostError::Invalid(why) => HostError::Invalid(why),
        wit::HostError::Timeout => HostError::Timeout,
        wit::HostError::TooLarge(why) => HostError::TooLarge(why),
        wit::HostError::Failed(why) => HostError::Failed(why),
    }
}

pub(crate) fn classification(
    result: Result<wit_accounts::Classification, wit::HostError>,
) -> Result<Classification, HostError> {
    let c = result.map_err(host_error)?;
    Ok(Classification {
        relation: match c.relation {
            wit_accounts::Relation::Same => Relation::Same,
            wit_accounts::Relation::Friendly => Relation::Friendly,
            wit_accounts::Relation::ThirdParty => Relation::ThirdParty,
            wit_accounts::Relation::Unknown => Relation::Unknown,
        },
        account_id: c.account_id,
        name: c.name,
    })
}

pub(crate) fn item_from_wit(item: wit::Item) -> Item {
    Item {
        resource_type: item.resource_type,
        resource_id: item.resource_id,
        resource_name: item.resource_name,
        arn: item.arn,
        account_id: item.account_id,
        region: item.region,
        capture_time: item.capture_time,
        configuration: item.configuration,
        supplementary_configuration: item.supplementary_configuration,
        tags: item.tags.into_iter().map(|t| (t.key, t.value)).collect(),
    }
}

fn issue_from_wit(issue: wit::Issue) -> Issue {
    Issue {
        check_id: issue.check_id,
        title: issue.title,
        score: issue.score,
        notes: issue.notes,
        remediation: issue.remediation,
    }
}

pub(crate) fn issue_to_wit(issue: Issue) -> wit::Issue {
    wit::Issue {
        check_id: issue.check_id,
        title: issue.title,
        score: issue.score,
        notes: issue.notes,
        remediation: issue.remediation,
    }
}

pub(crate) fn change_from_wit(change: wit::Change) -> Change {
    let issues = |list: Vec<wit::Issue>| list.into_iter().map(issue_from_wit).collect();
    Change {
        kind: match change.kind {
            wit::ChangeKind::Created => ChangeKind::Created,
            wit::ChangeKind::Modified => ChangeKind::Modified,
            wit::ChangeKind::Deleted => ChangeKind::Deleted,
        },
        item: item_from_wit(change.item),
        previous_configuration: change.previous_configuration,
        new_issues: issues(change.new_issues),
        regressed_issues: issues(change.regressed_issues),
        fixed_issues: issues(change.fixed_issues),
        still_open_issues: issues(change.still_open_issues),
    }
}

pub(crate) fn info_to_wit(info: PluginInfo) -> wit::PluginInfo {
    wit::PluginInfo {
        id: info.id,
        version: info.version,
        kind: match info.kind {
            PluginKind::Auditor => wit::PluginKind::Auditor,
            PluginKind::Notifier => wit::PluginKind::Notifier,
        },
        description: info.description,
        resource_types: info.resource_types,
        checks: info.checks.into_iter().map(check_to_wit).collect(),
    }
}

fn check_to_wit(check: CheckInfo) -> wit::CheckInfo {
    wit::CheckInfo {
        id: check.id,
        title: check.title,
        score: check.score,
        description: check.description,
    }
}
