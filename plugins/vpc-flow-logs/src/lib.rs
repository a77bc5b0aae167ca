//! VPCs whose traffic no active flow log records: without one, an incident in the VPC leaves
//! no network trail (Security Monkey's "Flow Logs not enabled for VPC").

use serde::Deserialize;
use simian_sdk::prelude::*;

const CHECK_ID: &str = "flow-logs-disabled";
const TITLE: &str = "Flow Logs not enabled for VPC";
const SCORE: u32 = 5;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vpc {
    #[serde(default)]
    flow_logs: Vec<FlowLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlowLog {
    flow_log_id: Option<String>,
    flow_log_status: Option<String>,
}

pub struct VpcFlowLogs;

impl Auditor for VpcFlowLogs {
    fn new() -> Result<Self, Error> {
        Ok(VpcFlowLogs)
    }

    fn checks() -> Vec<CheckInfo> {
        Checks::new()
            .check(
                CHECK_ID,
                TITLE,
                SCORE,
                "No active flow log records the VPC's traffic.",
            )
            .into()
    }

    fn audit(&self, item: &Item) -> Result<Vec<Issue>, Error> {
        let vpc: Vpc = item.configuration()?;
        let active = vpc
            .flow_logs
            .iter()
            .any(|f| f.flow_log_status.as_deref() == Some("ACTIVE"));
        if active {
            return Ok(Vec::new());
        }
        // The inactive ones are the evidence: enabling one makes this issue fixed, adding a
        // broken one is another state.
        let inactive: Vec<&str> = vpc
            .flow_logs
            .iter()
            .filter_map(|f| f.flow_log_id.as_deref())
            .collect();
        let notes = if inactive.is_empty() {
            "Flow Logs: [none]".to_string()
        } else {
            format!("Flow Logs: [{}] none active", inactive.join(", "))
        };
        Ok(
            vec![Issue::new(CHECK_ID, TITLE, SCORE).notes(notes).remediation(
            "Create a flow log for the VPC (to CloudWatch Logs or S3) so its traffic is recorded.",
        )],
        )
    }
}

register_auditor!(VpcFlowLogs);

#[cfg(test)]
mod tests;
