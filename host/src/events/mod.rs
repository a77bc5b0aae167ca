//! CloudTrail events as a trigger: reading them off the SQS queue EventBridge fills, what each
//! names (`map`), and who made a change (`message`'s actor, or `lookup` for what a sweep
//! found).
//!
//! Owns the event side only. It must never make state out of an event: the runtime's refresh
//! re-describes the item with the watcher's own code, and the store decides what changed.

pub mod lookup;
pub mod map;
pub mod message;
pub mod queue;

use serde::Serialize;

/// What became of one received message, for the metrics and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventResult {
    /// Named a watched item: refreshed.
    Mapped,
    /// No table entry (or no named resource): dropped, the sweep is the backstop.
    Unmapped,
    /// Already processed (a redelivery): dropped.
    Duplicate,
    /// The call failed (`errorCode`): it changed nothing.
    FailedCall,
    /// Not an account (or region) simian watches.
    Unwatched,
    /// Not an event at all: dropped so it cannot block the queue.
    Invalid,
    /// The refresh could not describe or record it: left on the queue to come back.
    Retried,
}

impl EventResult {
    pub fn as_str(self) -> &'static str {
        match self {
            EventResult::Mapped => "mapped",
            EventResult::Unmapped => "unmapped",
            EventResult::Duplicate => "duplicate",
            EventResult::FailedCall => "failed-call",
            EventResult::Unwatched => "unwatched",
            EventResult::Invalid => "invalid",
            EventResult::Retried => "retried",
        }
    }
}
