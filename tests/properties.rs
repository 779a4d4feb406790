//! Property tests of the conversation's rules over generated mailboxes: whatever strangers,
//! colleagues and clocks put into INBOX and Sent, the invariants of SPEC 2–7 hold.
//!
//! The case count and seed are fixed so a run is repeatable; set `NUDGE_PROPTEST_SEED` to try
//! another seed. A failure prints the seed and the smallest failing mailbox.

mod support;

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use nudge::config::{Account, TrackMode, Tracking};
use nudge::mail::parse::Mailbox;
use nudge::model::{
    Conversation, Deferral, Departure, Heard, Message, MessageClass, Origin, State,
};
use nudge::rules::link::Index;
use nudge::rules::{inert, recipients, recipients_read, Effect, Facts, LastTouch, Rules};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestRunner};

const SELLER: &str = "kari@fjordsalg.no";
const CASES: u32 = 400;

/// People who write and are written to: prospects at a few organisations, free mail, the
/// seller and a colleague, robots, and an address the seller ignores.
const PEOPLE: &[&str] = &[
    "ingrid.berg@fjordkraft.no",
    "per.olsen@fjordkraft.no",
    "anne@bergen.kommune.no",
    "ole@voss.kommune.no",
    "ola.hansen@gmail.com",
    "kari@fjordsalg.no",
    "kari.nordmann@fjordsalg.no",
    "lars@fjordsalg.no",
    "noreply@fjordkraft.no",
    "someone@newsletter.example.com",
    "attacker@evil.example",
];

fn account() -> Account {
    support::nudge::seller_account()
}

fn tracking() -> Tracking {
    Tracking {
        mode: TrackMode::External,
        lookback_days: 14,
        stop_on_same_domain: true,
        ignore: vec!["*@newsletter.example.com".into()],
    }
}

/// The rules the properties hold for: three steps, first started at [`start`].
fn rules_for<'a>(account: &'a Account, tracking: &'a Tracking) -> Rules<'a> {
    Rules {
        account,
        tracking,
        steps_total: 3,
        first_started_at: start(),
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 0).unwrap()
}

fn mailboxes(indices: &[usize]) -> Vec<Mailbox> {
    indices
        .iter()
        .map(|&i| Mailbox {
            address: PEOPLE[i % PEOPLE.len()].to_string(),
            name: None,
        })
        .collect()
}

/// A generated message, before it is numbered and threaded.
#[derive(Debug, Clone)]
struct Draw {
    origin: Origin,
    from: usize,
    to: Vec<usize>,
    cc: Vec<usize>,
    class: MessageClass,
    /// Minutes after the start; the Date header may lie by `skew` minutes.
    minutes: i64,
    skew: i64,
    /// In the conversation's thread (else a thread of its own).
    in_thread: bool,
    /// Names the latest message of the seller's in the thread.
    names_last: bool,
    /// A bounce's failed recipient.
    failed: Option<usize>,
    /// What its text says beyond its class.
    heard: Said,
    /// List mail, or automatic (Auto-Submitted) mail of the seller's.
    automated: bool,
}

/// What a generated message's text says (SPEC 15).
#[derive(Debug, Clone)]
enum Said {
    Nothing,
    /// "Try us again …": days after the message (may be past), or no time understood.
    Deferral(Option<i64>),
    /// "… has left; please contact …" these people instead.
    Departure(Vec<usize>),
    Asks,
}

fn said() -> impl Strategy<Value = Said> {
    prop_oneof![
        6 => Just(Said::Nothing),
        2 => prop::option::of(-30i64..400).prop_map(Said::Deferral),
        2 => prop::collection::vec(0..PEOPLE.len(), 0..3).prop_map(Said::Departure),
        1 => Just(Said::Asks),
    ]
}

fn draw() -> impl Strategy<Value = Draw> {
    (
        prop_oneof![
            4 => Just(Origin::Inbox),
            4 => Just(Origin::Sent),
            1 => Just(Origin::Drafts),
            1 => Just(Origin::Other)
        ],
        0..PEOPLE.len(),
        prop::collection::vec(0..PEOPLE.len(), 0..3),
        prop::collection::vec(0..PEOPLE.len(), 0..3),
        prop_oneof![
            Just(MessageClass::Reply),
            Just(MessageClass::AutoReply),
            Just(MessageClass::OptOut),
            Just(MessageClass::Bounce),
            Just(MessageClass::Automated)
        ],
        0i64..20_000,
        -3000i64..3000,
        any::<bool>(),
        any::<bool>(),
        (
            prop::option::of(0..PEOPLE.len()),
            said(),
            prop::bool::weighted(0.2),
        ),
    )
        .prop_map(
            |(
                origin,
                from,
                to,
                cc,
                class,
                minutes,
                skew,
                in_thread,
                names_last,
                (failed, heard, automated),
            )| Draw {
                origin,
                from,
                to,
                cc,
                class,
                minutes,
                skew,
                in_thread,
                names_last,
                failed,
                heard,
                automated,
            },
        )
}

/// The opener (a touch from Sent to `to`) and the generated messages, numbered and threaded.
fn mailbox(to: &[usize], draws: &[Draw]) -> Vec<Message> {
    let opener = Message {
        id: 1,
        folder: "Sent".into(),
        origin: Origin::Sent,
        thread_id: 1,
        message_id: Some("m1@fjordsalg.no".into()),
        from_addr: SELLER.into(),
        from_seller: true,
        to: mailboxes(to),
        subject: "Tilbud".into(),
        date: start(),
        arrived: start(),
        has_body: true,
        ..Message::default()
    };
    let mut out = vec![opener];
    let mut sorted = draws.to_vec();
    sorted.sort_by_key(|d| d.minutes);
    for (i, d) in sorted.iter().enumerate() {
        let id = i as i64 + 2;
        let from = PEOPLE[d.from % PEOPLE.len()].to_string();
        let from_seller = account().is_seller(&from);
        let arrived = start() + Duration::minutes(d.minutes + 1);
        let last_seller = out
            .iter()
            .rev()
            .find(|m| m.origin == Origin::Sent && m.thread_id == 1)
            .and_then(|m| m.message_id.clone());
        let in_reply_to = match (d.in_thread, d.names_last) {
            (true, true) => last_seller.into_iter().collect(),
            (true, false) => vec!["m1@fjordsalg.no".to_string()],
            _ => vec![],
        };
        out.push(Message {
            id,
            folder: "X".into(),
            origin: d.origin,
            thread_id: if d.in_thread { 1 } else { id },
            message_id: Some(format!("m{id}@x")),
            in_reply_to: in_reply_to.clone(),
            references: in_reply_to,
            from_addr: from,
            from_seller,
            to: mailboxes(&d.to),
            cc: mailboxes(&d.cc),
            subject: "Re: Tilbud".into(),
            date: arrived + Duration::minutes(d.skew),
            arrived,
            class: (!(from_seller && d.origin == Origin::Sent)).then_some(d.class),
            bounced_message_id: (d.class == MessageClass::Bounce && d.in_thread)
                .then(|| "m1@fjordsalg.no".to_string()),
            bounced_recipient: d.failed.map(|f| PEOPLE[f % PEOPLE.len()].to_string()),
            has_body: true,
            heard: heard_of(&d.heard, arrived),
            automated: d.automated,
            ..Message::default()
        });
    }
    out
}

/// What the text of a generated message says, as the store keeps it.
fn heard_of(said: &Said, arrived: DateTime<Utc>) -> Heard {
    match said {
        Said::Nothing => Heard::default(),
        Said::Deferral(days) => Heard {
            deferral: Some(Deferral {
                phrase: "try us again later".into(),
                from: days.map(|d| arrived.date_naive() + Duration::days(d)),
            }),
            ..Heard::default()
        },
        Said::Departure(instead) => Heard {
            departure: Some(Departure {
                phrase: "has left".into(),
                replacements: instead
                    .iter()
                    .map(|i| PEOPLE[i % PEOPLE.len()].to_string())
                    .collect(),
            }),
            ..Heard::default()
        },
        Said::Asks => Heard {
            asks: true,
            ..Heard::default()
        },
    }
}

/// Runs a mailbox through the rules as a pass does: in arrival order, each message decided
/// with the conversations and suppressions as they stand. Returns every conversation after
/// each message, with the message that led to it.
fn play(rules: &Rules<'_>, messages: &[Message]) -> Vec<(Message, Vec<Effect>, Index)> {
    let mut index = Index::default();
    let mut suppressed: HashSet<String> = HashSet::new();
    let mut next_id = 1;
    let mut trace = Vec::new();
    let mut ordered = messages.to_vec();
    ordered.sort_by_key(|m| (m.arrived, m.id));
    for message in &ordered {
        let mut facts = Facts::default();
        for id in rules.touches_needed(&index, message, &facts) {
            let touch = index.get(id).and_then(|c| c.last_touch_message);
            if let Some(found) = messages.iter().find(|m| Some(m.id) == touch) {
                facts.last_touches.insert(id, LastTouch::of(found));
            }
        }
        if message.class == Some(MessageClass::Bounce) {
            facts.returned_thread = message.bounced_message_id.as_ref().map(|_| 1);
        }
        let effects = rules
            .decide(&index, message, &facts, &suppressed, start())
            .effects();
        for effect in &effects {
            match effect {
                Effect::Track(c, _) => {
                    let mut c = c.clone();
                    c.id = next_id;
                    next_id += 1;
                    index.insert(c);
                }
                Effect::Update(c, _) => index.insert(c.clone()),
                Effect::Note(..) | Effect::DraftSent { .. } => {}
                Effect::Suppress { address, .. } => {
                    suppressed.insert(address.clone());
                }
            }
        }
        trace.push((message.clone(), effects, index.clone()));
    }
    trace
}

fn conversations(index: &Index) -> Vec<Conversation> {
    (1..10).filter_map(|id| index.get(id).cloned()).collect()
}

fn run(name: &str, test: impl Fn(Vec<usize>, Vec<Draw>) -> Result<(), TestCaseError>) {
    let seed: u64 = std::env::var("NUDGE_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6e75_6467_6521);
    let config = ProptestConfig {
        cases: CASES,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = (
        prop::collection::vec(0..PEOPLE.len(), 1..4),
        prop::collection::vec(draw(), 0..12),
    );
    if let Err(e) = runner.run(&strategy, |(to, draws)| test(to, draws)) {
        panic!("{name} failed with NUDGE_PROPTEST_SEED={seed}: {e}");
    }
}

#[test]
fn a_drafts_recipients_are_prospects_of_a_sent_touch_minus_the_suppression_list() {
    let (account, tracking) = (account(), tracking());
    let rules = rules_for(&account, &tracking);
    run("draft recipients", |to, draws| {
        let messages = mailbox(&to, &draws);
        let trace = play(&rules, &messages);
        let suppressed: HashSet<String> = trace
            .iter()
            .flat_map(|(_, effects, _)| effects)
            .filter_map(|e| match e {
                Effect::Suppress { address, .. } => Some(address.clone()),
                _ => None,
            })
            .collect();
        let index = trace.last().map(|(_, _, i)| i.clone()).unwrap_or_default();
        for c in conversations(&index) {
            let Some(touch) = messages.iter().find(|m| Some(m.id) == c.last_touch_message) else {
                continue;
            };
            prop_assert_eq!(touch.origin, Origin::Sent, "the last touch is from Sent");
            prop_assert!(touch.from_seller);
            if let Some(r) = recipients::for_draft(&rules, touch, &suppressed) {
                let prospects = rules.prospects(touch);
                for m in r.all() {
                    prop_assert!(
                        touch.recipients().any(|t| t.address == m.address),
                        "{} is not a recipient of the touch",
                        m.address
                    );
                    prop_assert!(
                        !suppressed.contains(&m.address),
                        "{} is suppressed",
                        m.address
                    );
                    prop_assert!(!account.is_seller(&m.address));
                    if !rules.is_own_side(&m.address) {
                        prop_assert!(
                            prospects.contains(&m.address),
                            "{} is no prospect",
                            m.address
                        );
                    }
                }
                prop_assert!(r.to.contains(&r.greeted), "the greeted prospect is in To");
                prop_assert!(prospects.contains(&r.greeted.address));
            }
        }
        Ok(())
    });
}

#[test]
fn no_draft_after_a_reply_opt_out_or_bounce_of_its_prospect() {
    let (account, tracking) = (account(), tracking());
    let rules = rules_for(&account, &tracking);
    run("no draft after an answer", |to, draws| {
        let messages = mailbox(&to, &draws);
        for (message, effects, index) in play(&rules, &messages) {
            for effect in &effects {
                let Effect::Update(c, _) = effect else {
                    continue;
                };
                let after = index.get(c.id).expect("indexed");
                match message.class {
                    Some(MessageClass::Reply) | Some(MessageClass::OptOut)
                        if message.origin == Origin::Inbox =>
                    {
                        // Open after a reply only when it named a later day: the check-back.
                        let later = message
                            .heard
                            .deferral
                            .as_ref()
                            .and_then(|d| d.from)
                            .is_some_and(|from| from > message.arrived.date_naive());
                        prop_assert!(
                            !after.state.is_open() || (after.state == State::Deferred && later),
                            "{:?} left the conversation {}",
                            message.class,
                            after.state
                        );
                    }
                    Some(MessageClass::Bounce) if message.origin == Origin::Inbox => {
                        // Only a bounce that ends its last prospect changes the state.
                        prop_assert!(matches!(after.state, State::Bounced | State::OptedOut));
                    }
                    _ => {}
                }
                prop_assert!(
                    after.state.is_open() || after.next_due.is_none(),
                    "an ended conversation has no due time"
                );
            }
        }
        Ok(())
    });
}

#[test]
fn only_sent_changes_who_gets_a_draft_and_colleagues_only_change_nothing() {
    let (account, tracking) = (account(), tracking());
    let rules = rules_for(&account, &tracking);
    run("provenance", |to, draws| {
        let messages = mailbox(&to, &draws);
        let mut before: Vec<Conversation> = Vec::new();
        for (message, effects, index) in play(&rules, &messages) {
            let now = conversations(&index);
            let from_sent_touch = message.origin == Origin::Sent
                && message.from_seller
                && !rules.prospects(&message).is_empty();
            if !from_sent_touch {
                prop_assert!(
                    !effects.iter().any(|e| matches!(e, Effect::Track(..))),
                    "only a Sent touch starts a conversation"
                );
                for (old, new) in before.iter().zip(now.iter()) {
                    prop_assert_eq!(&old.prospects, &new.prospects);
                    prop_assert_eq!(old.last_touch_message, new.last_touch_message);
                    prop_assert_eq!(old.last_touch_at, new.last_touch_at);
                    if message.origin == Origin::Sent {
                        // To colleagues only: the schedule does not move.
                        prop_assert_eq!(old, new);
                    }
                }
            }
            before = now;
        }
        Ok(())
    });
}

/// A message the store marks applied as it stores it ([`inert`]: list mail, drafts, mail
/// ignored for its folder or writer) changes nothing, whatever the conversations are when it
/// comes.
#[test]
fn a_message_stored_as_applied_changes_nothing() {
    let (account, tracking) = (account(), tracking());
    let rules = rules_for(&account, &tracking);
    run("inert", |to, draws| {
        let messages = mailbox(&to, &draws);
        for (message, effects, _) in play(&rules, &messages) {
            if inert(
                message.origin,
                message.from_seller,
                message.automated,
                message.class,
            ) {
                prop_assert!(effects.is_empty(), "{message:?} made {effects:?}");
            }
        }
        Ok(())
    });
}

/// The recipients the store does not keep ([`recipients_read`]: those of mail from others)
/// change nothing: the same mailbox without them makes the same effects, message by message.
#[test]
fn the_recipients_the_store_drops_change_nothing() {
    let (account, tracking) = (account(), tracking());
    let rules = rules_for(&account, &tracking);
    run("recipients dropped", |to, draws| {
        let messages = mailbox(&to, &draws);
        let mut kept = messages.clone();
        for m in &mut kept {
            if !recipients_read(m.from_seller) {
                m.to.clear();
                m.cc.clear();
            }
        }
        let whole = play(&rules, &messages);
        let lean = play(&rules, &kept);
        for ((message, effects, _), (_, lean_effects, _)) in whole.iter().zip(&lean) {
            prop_assert_eq!(
                format!("{effects:?}"),
                format!("{lean_effects:?}"),
                "{:?}",
                message
            );
        }
        Ok(())
    });
}

/// What a prospect says never adds anyone: the addresses a departure names never become
/// prospects or recipients (only a Sent touch makes them so), a departure suppresses only
/// its sender, and a deferral waits for a day after the reply.
#[test]
fn what_a_prospect_says_adds_nobody_and_a_deferral_waits_for_a_later_day() {
    let (account, tracking) = (account(), tracking());
    let rules = rules_for(&account, &tracking);
    run("what a prospect says", |to, draws| {
        let messages = mailbox(&to, &draws);
        let written_to: HashSet<String> = messages
            .iter()
            .filter(|m| m.origin == Origin::Sent && m.from_seller)
            .flat_map(|m| m.recipients().map(|r| r.address.to_ascii_lowercase()))
            .collect();
        for (message, effects, index) in play(&rules, &messages) {
            for effect in &effects {
                if let Effect::Suppress { address, reason } = effect {
                    if reason == "departed" {
                        prop_assert_eq!(address, &message.from_addr.to_ascii_lowercase());
                    }
                }
            }
            for c in conversations(&index) {
                for p in &c.prospects {
                    prop_assert!(written_to.contains(p), "{} was never written to", p);
                }
                if c.state == State::Deferred {
                    let from = c.heard.deferral.as_ref().and_then(|d| d.from);
                    let replied = c.last_inbound_at.map(|at| at.date_naive());
                    prop_assert!(
                        from.is_some() && replied.is_some() && from > replied,
                        "deferred to {:?} after a reply on {:?}",
                        from,
                        replied
                    );
                }
                if matches!(c.state, State::Departed | State::Done) {
                    prop_assert_eq!(c.next_due, None);
                }
            }
        }
        Ok(())
    });
}

/// The team's suppression list, whatever it holds and whatever was added last: a
/// conversation that goes on never has every prospect suppressed; one that ends had; a draft
/// is made again only while one waits and a new entry names one of its prospects; an ended
/// conversation is left alone.
#[test]
fn the_suppression_list_ends_or_redrafts_exactly_when_it_must() {
    use nudge::rules::machine::Transition;
    use nudge::rules::{heed_suppression, Suppressed};
    let states = [
        State::Waiting,
        State::Drafted,
        State::Closing,
        State::Snoozed,
        State::Replied,
        State::Stopped,
        State::LetGo,
    ];
    let strategy = (
        prop::collection::vec(0..PEOPLE.len(), 1..4),
        prop::collection::vec(0..PEOPLE.len(), 0..4),
        prop::collection::vec(0..PEOPLE.len(), 0..3),
        0..states.len(),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(ProptestConfig {
        cases: CASES,
        rng_seed: RngSeed::Fixed(0x7465_616d),
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&strategy, |(prospects, listed, new, state, by_domain)| {
        let address = |i: usize| PEOPLE[i].to_ascii_lowercase();
        let entry = |i: usize| {
            let a = address(i);
            if by_domain {
                a.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or(a)
            } else {
                a
            }
        };
        let newly: HashSet<String> = new.iter().map(|&i| entry(i)).collect();
        let suppressed: HashSet<String> = listed
            .iter()
            .map(|&i| entry(i))
            .chain(newly.iter().cloned())
            .collect();
        let mut c = Conversation::new(
            1,
            "Tilbud",
            prospects.iter().map(|&i| address(i)).collect(),
            start(),
            None,
        );
        c.prospects.dedup();
        c.state = states[state];
        let all = c.prospects.iter().all(|p| suppressed.is_suppressed(p));
        let named = c.prospects.iter().any(|p| newly.is_suppressed(p));
        match heed_suppression(&c, &suppressed, &newly, "why") {
            None => prop_assert!(
                !c.state.is_open() || !(all || (c.state == State::Drafted && named)),
                "left alone: {c:?}"
            ),
            Some(Transition::Stop { .. }) => prop_assert!(c.state.is_open() && all),
            Some(Transition::Redraft { .. }) => {
                prop_assert!(c.state == State::Drafted && named && !all)
            }
            Some(other) => prop_assert!(false, "unexpected {other:?}"),
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("suppression: {e}");
    }
}
