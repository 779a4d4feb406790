//! What a reply says beyond its class: a deferral ("try us again after the summer"), a
//! departure ("Ingrid no longer works here, please contact per@…"), and whether it asks the
//! seller something.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A reply that says "come back later".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferral {
    /// The prospect's own words that decided, as written.
    pub phrase: String,
    /// The first day of the period the prospect named; `None` when none can be resolved.
    pub from: Option<NaiveDate>,
}

/// A reply or auto-reply saying the person has left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Departure {
    /// The words that decided, as written.
    pub phrase: String,
    /// The addresses the text names to contact instead, lower-case.
    pub replacements: Vec<String>,
}

/// What the new text of an inbound message of `class` says beyond its class.
pub fn hear(
    _new_text: &str,
    _received: NaiveDate,
    _sender: &str,
    _class: crate::mail::classify::MessageClass,
) -> crate::model::Heard {
    crate::model::Heard::default()
}
