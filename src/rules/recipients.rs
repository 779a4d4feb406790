//! Who a follow-up draft is addressed to (SPEC 6): the recipients of the seller's last touch
//! (a message from the Sent folder), minus the seller's own addresses, suppressed addresses
//! and domains, robots and `ignore` matches. Colleagues the seller copied stay copied.

use super::{Rules, Suppressed};
use crate::mail::parse::Mailbox;
use crate::model::Message;

/// The addressees of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients {
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// The prospect the draft greets: the first prospect in To, else in Cc.
    pub greeted: Mailbox,
}

impl Recipients {
    /// Every address on the draft.
    pub fn all(&self) -> impl Iterator<Item = &Mailbox> {
        self.to.iter().chain(self.cc.iter())
    }
}

/// The recipients of a follow-up to `last_touch`; `None` when no prospect is left to write
/// to (then there is no draft and the conversation stops).
pub fn for_draft(
    rules: &Rules<'_>,
    last_touch: &Message,
    suppressed: &dyn Suppressed,
) -> Option<Recipients> {
    let mut seen: Vec<String> = Vec::new();
    let mut keep = |list: &[Mailbox]| -> Vec<Mailbox> {
        let mut out = Vec::new();
        for m in list {
            let address = m.address.to_ascii_lowercase();
            if address.is_empty() || seen.contains(&address) {
                continue;
            }
            seen.push(address.clone());
            let colleague = rules.is_own_side(&address) && !rules.account.is_seller(&address);
            let prospect = rules.is_prospect(&address);
            if (colleague || prospect) && !suppressed.is_suppressed(&address) {
                out.push(Mailbox {
                    address,
                    name: m.name.clone(),
                });
            }
        }
        out
    };
    let mut to = keep(&last_touch.to);
    let mut cc = keep(&last_touch.cc);
    let is_prospect = |m: &Mailbox| rules.is_prospect(&m.address);
    let greeted = to
        .iter()
        .find(|m| is_prospect(m))
        .or_else(|| cc.iter().find(|m| is_prospect(m)))
        .cloned()?;
    if !to.iter().any(is_prospect) {
        // The prospect moves from Cc to To: a follow-up is addressed to the person it greets.
        cc.retain(|m| m.address != greeted.address);
        to.insert(0, greeted.clone());
    }
    Some(Recipients { to, cc, greeted })
}
