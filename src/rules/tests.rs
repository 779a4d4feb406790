//! The rules one defect at a time, without I/O. Each test names the rule it pins.

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::link::Index;
use super::recipients::for_draft;
use super::*;
use crate::config::{Account, Language, TrackMode, Tracking};
use crate::mail::parse::Mailbox;
use crate::model::{Conversation, Message, State};

const SELLER: &str = "kari@fjordsalg.no";
const INGRID: &str = "ingrid.berg@fjordkraft.no";
const PER: &str = "per.olsen@fjordkraft.no";

fn account() -> Account {
    Account {
        email: SELLER.into(),
        name: "Kari Nordmann".into(),
        aliases: vec![],
        own_domains: vec!["fjordsalg.no".into()],
        timezone: chrono_tz::Europe::Oslo,
        language: Language::Nb,
        signature: None,
    }
}

fn tracking() -> Tracking {
    Tracking {
        mode: TrackMode::External,
        lookback_days: 14,
        stop_on_same_domain: true,
        ignore: vec!["*@newsletter.example.com".into()],
    }
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn person(address: &str) -> Mailbox {
    Mailbox {
        address: address.into(),
        name: None,
    }
}

/// The seller's opener in Sent (id 1, thread 1) to `to`.
fn opener(to: &[&str]) -> Message {
    Message {
        id: 1,
        origin: Origin::Sent,
        thread_id: 1,
        message_id: Some("a1@fjordsalg.no".into()),
        from_addr: SELLER.into(),
        from_seller: true,
        to: to.iter().map(|a| person(a)).collect(),
        date: at(16, 9),
        arrived: at(16, 9),
        ..Message::default()
    }
}

/// An inbound message (id 2) of `class` from `from`, in the opener's thread.
fn inbound(from: &str, class: MessageClass, arrived: DateTime<Utc>) -> Message {
    Message {
        id: 2,
        origin: Origin::Inbox,
        thread_id: 1,
        message_id: Some("r1@fjordkraft.no".into()),
        in_reply_to: vec!["a1@fjordsalg.no".into()],
        from_addr: from.into(),
        to: vec![person(SELLER)],
        date: arrived,
        arrived,
        class: Some(class),
        ..Message::default()
    }
}

fn conversation(prospects: &[&str], state: State) -> Conversation {
    Conversation {
        id: 7,
        state,
        ..Conversation::new(
            1,
            "Tilbud",
            prospects.iter().map(|p| p.to_string()).collect(),
            at(16, 9),
            Some(1),
        )
    }
}

fn with<T>(test: impl FnOnce(&Rules<'_>) -> T) -> T {
    let (account, tracking) = (account(), tracking());
    test(&Rules {
        account: &account,
        tracking: &tracking,
        steps_total: 3,
        first_started_at: at(16, 9),
    })
}

fn none() -> HashSet<String> {
    HashSet::new()
}

fn updated(effects: &[Effect]) -> Option<&Conversation> {
    effects.iter().find_map(|e| match e {
        Effect::Update(c, _) => Some(c),
        _ => None,
    })
}

fn suppressions(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Suppress { address, .. } => Some(address.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn only_a_sent_message_is_the_sellers_touch() {
    with(|rules| {
        let mut forged = opener(&["attacker@evil.example"]);
        forged.origin = Origin::Inbox;
        assert!(matches!(rules.role(&forged), Role::Ignore(_)));
        forged.origin = Origin::Other;
        assert!(matches!(rules.role(&forged), Role::Ignore(_)));
        let sent = opener(&[INGRID]);
        assert_eq!(rules.role(&sent), Role::Touch(vec![INGRID.to_string()]));
    });
}

#[test]
fn a_message_to_colleagues_only_is_not_a_touch() {
    with(|rules| {
        let forward = opener(&["lars@fjordsalg.no", "noreply@fjordkraft.no"]);
        assert!(matches!(rules.role(&forward), Role::Ignore(_)));
    });
}

#[test]
fn an_unclassified_message_is_never_a_reply() {
    with(|rules| {
        let mut message = inbound(INGRID, MessageClass::Reply, at(17, 9));
        message.class = None;
        assert!(matches!(rules.role(&message), Role::Ignore(_)));
        let c = conversation(&[INGRID], State::Waiting);
        let list = inbound(INGRID, MessageClass::Automated, at(17, 9));
        let effects = rules.on_inbound(
            &c,
            &list,
            MessageClass::Automated,
            Link::Thread,
            None,
            &none(),
        );
        assert!(effects.is_empty());
    });
}

/// SPEC 4 rule 1, SPEC 13: a stranger's message that carries the seller's opener's
/// Message-ID as its own (a spoofed thread) answers nothing: it is not in the thread, so it
/// is no reply. Without that fact (the seller never sent such an id) it would count.
#[test]
fn a_strangers_message_carrying_the_openers_message_id_is_no_reply() {
    with(|rules| {
        let mut index = Index::default();
        index.insert(conversation(&[INGRID], State::Waiting));
        let mut spoof = inbound("ukjent@stranger.example", MessageClass::Reply, at(17, 9));
        spoof.message_id = Some("a1@fjordsalg.no".into());
        spoof.in_reply_to = vec![];
        assert_eq!(
            rules
                .facts_needed(&index, &spoof)
                .seller_message_id
                .as_deref(),
            Some("a1@fjordsalg.no")
        );
        let echo = Facts {
            echoes_seller_message: true,
            ..Facts::default()
        };
        let decided = rules.decide(&index, &spoof, &echo, &none(), at(17, 9));
        assert!(matches!(decided, Decision::Nothing(_)), "{decided:?}");
        let unknown_id = rules.decide(&index, &spoof, &Facts::default(), &none(), at(17, 9));
        assert_eq!(
            updated(&unknown_id.effects()).map(|c| c.state),
            Some(State::Replied)
        );
        // A message that answers another one is asked nothing.
        spoof.in_reply_to = vec!["r0@fjordkraft.no".into()];
        assert_eq!(rules.facts_needed(&index, &spoof).seller_message_id, None);
    });
}

/// A prospect's broken client that reuses the opener's Message-ID for its reply still
/// answers: it is from the prospect (SPEC 4 rule 2).
#[test]
fn the_prospects_client_reusing_the_openers_message_id_still_replies() {
    with(|rules| {
        let mut index = Index::default();
        index.insert(conversation(&[INGRID], State::Waiting));
        let mut reply = inbound(INGRID, MessageClass::Reply, at(17, 9));
        reply.message_id = Some("a1@fjordsalg.no".into());
        let echo = Facts {
            echoes_seller_message: true,
            ..Facts::default()
        };
        let effects = rules
            .decide(&index, &reply, &echo, &none(), at(17, 9))
            .effects();
        assert_eq!(updated(&effects).map(|c| c.state), Some(State::Replied));
    });
}

#[test]
fn a_bounce_of_someone_who_is_no_prospect_changes_nothing() {
    with(|rules| {
        let c = conversation(&[INGRID], State::Waiting);
        let mut bounce = inbound(
            "mailer-daemon@mx.fjordsalg.no",
            MessageClass::Bounce,
            at(17, 9),
        );
        bounce.bounced_recipient = Some("crm-1@dropbox.crm.example".into());
        let effects = rules.on_inbound(
            &c,
            &bounce,
            MessageClass::Bounce,
            Link::Returned,
            None,
            &none(),
        );
        assert!(
            matches!(effects.as_slice(), [Effect::Note(7, _)]),
            "{effects:?}"
        );
    });
}

#[test]
fn a_bounce_ends_only_the_recipient_that_failed() {
    with(|rules| {
        let c = conversation(&[INGRID, PER], State::Waiting);
        let mut bounce = inbound(
            "mailer-daemon@mx.fjordsalg.no",
            MessageClass::Bounce,
            at(17, 9),
        );
        bounce.bounced_recipient = Some(PER.into());
        let effects = rules.on_inbound(
            &c,
            &bounce,
            MessageClass::Bounce,
            Link::Thread,
            None,
            &none(),
        );
        assert_eq!(suppressions(&effects), vec![PER]);
        assert!(
            updated(&effects).is_none(),
            "Ingrid is still there: {effects:?}"
        );
        // When the last prospect fails, the conversation ends as bounced.
        let suppressed: HashSet<String> = [INGRID.to_string()].into();
        let effects = rules.on_inbound(
            &c,
            &bounce,
            MessageClass::Bounce,
            Link::Thread,
            None,
            &suppressed,
        );
        let after = updated(&effects).expect("bounced");
        assert_eq!(after.state, State::Bounced);
        assert_eq!(after.next_due, None);
    });
}

#[test]
fn a_bounce_never_links_by_address_or_organisation() {
    with(|rules| {
        let mut index = Index::default();
        index.insert(conversation(&[INGRID], State::Waiting));
        let mut bounce = inbound("postmaster@fjordkraft.no", MessageClass::Bounce, at(17, 9));
        bounce.thread_id = 99;
        assert!(index
            .concerned(rules, &bounce, MessageClass::Bounce, None, true)
            .is_empty());
        assert_eq!(
            index.concerned(rules, &bounce, MessageClass::Bounce, Some(1), true),
            vec![(7, Link::Returned)]
        );
        let mut reply = inbound(PER, MessageClass::Reply, at(17, 9));
        reply.thread_id = 99;
        assert_eq!(
            index.concerned(rules, &reply, MessageClass::Reply, None, true),
            vec![(7, Link::SameOrganisation)]
        );
    });
}

#[test]
fn an_opt_out_is_honoured_in_every_state() {
    with(|rules| {
        for state in State::ALL {
            let c = conversation(&[INGRID], state);
            // Whenever it comes: even dated before the last touch.
            let opt_out = inbound(INGRID, MessageClass::OptOut, at(15, 9));
            let effects = rules.on_inbound(
                &c,
                &opt_out,
                MessageClass::OptOut,
                Link::Thread,
                None,
                &none(),
            );
            assert_eq!(suppressions(&effects), vec![INGRID], "{state}");
            let history = effects.iter().any(|e| match e {
                Effect::Update(_, e) | Effect::Note(_, e) => e.kind == EventKind::OptOut,
                _ => false,
            });
            assert!(history, "{state}: {effects:?}");
            if let Some(after) = updated(&effects) {
                assert_eq!(after.state, State::OptedOut);
            }
        }
    });
}

/// An opt-out in the thread that has no sender (no From, or `From: <>`) is honoured, and
/// suppresses nobody: the suppression list holds addresses, never an empty entry.
#[test]
fn an_opt_out_without_a_sender_suppresses_nobody() {
    with(|rules| {
        let c = conversation(&[INGRID], State::Waiting);
        let mut nobody = inbound("", MessageClass::OptOut, at(17, 9));
        let effects = rules.on_inbound(
            &c,
            &nobody,
            MessageClass::OptOut,
            Link::Thread,
            None,
            &none(),
        );
        assert_eq!(updated(&effects).map(|c| c.state), Some(State::OptedOut));
        assert_eq!(suppressions(&effects), Vec::<&str>::new());
        nobody.from_addr = INGRID.into();
        let effects = rules.on_inbound(
            &c,
            &nobody,
            MessageClass::OptOut,
            Link::Thread,
            None,
            &none(),
        );
        assert_eq!(suppressions(&effects), vec![INGRID]);
    });
}

#[test]
fn a_draft_leaves_out_suppressed_robots_and_ignored_and_greets_who_is_left() {
    with(|rules| {
        let mut touch = opener(&[PER, "noreply@fjordkraft.no"]);
        touch.cc = vec![
            person(INGRID),
            person("lars@fjordsalg.no"),
            person("someone@newsletter.example.com"),
            person(SELLER),
        ];
        let suppressed: HashSet<String> = [PER.to_string()].into();
        let r = for_draft(rules, &touch, &suppressed).expect("Ingrid is left");
        assert_eq!(r.greeted.address, INGRID);
        assert_eq!(
            r.to,
            vec![person(INGRID)],
            "the greeted prospect moves to To"
        );
        assert_eq!(
            r.cc,
            vec![person("lars@fjordsalg.no")],
            "the colleague stays copied"
        );
        // A suppressed domain counts too; with nobody left there is no draft.
        let suppressed: HashSet<String> = ["fjordkraft.no".to_string()].into();
        assert_eq!(for_draft(rules, &touch, &suppressed), None);
    });
}

#[test]
fn a_reply_counts_by_arrival_and_by_reference_whatever_its_date_says() {
    let mut c = conversation(&[INGRID], State::Waiting);
    let mut touch = opener(&[INGRID]);
    touch.id = 3;
    touch.message_id = Some("f1@fjordsalg.no".into());
    touch.in_reply_to = vec!["a1@fjordsalg.no".into()];
    touch.date = at(18, 9);
    c.last_touch_at = at(18, 9);
    c.last_touch_message = Some(3);
    // A slow clock: dated before the follow-up, received after it.
    let mut slow = inbound(INGRID, MessageClass::Reply, at(18, 11));
    slow.date = at(17, 8);
    assert!(is_after_last_touch(
        &c,
        &slow,
        Link::Thread,
        Some(&LastTouch::of(&touch))
    ));
    // Names the follow-up: after it, whatever the times.
    let mut answer = inbound(INGRID, MessageClass::Reply, at(18, 8));
    answer.in_reply_to = vec!["f1@fjordsalg.no".into()];
    assert!(is_after_last_touch(
        &c,
        &answer,
        Link::Thread,
        Some(&LastTouch::of(&touch))
    ));
    // Crossed in flight: received before the follow-up, answering the opener.
    let crossed = inbound(INGRID, MessageClass::Reply, at(18, 8));
    assert!(is_after_last_touch(
        &c,
        &crossed,
        Link::Thread,
        Some(&LastTouch::of(&touch))
    ));
    // One the follow-up answered is before it.
    touch.references = vec!["r1@fjordkraft.no".into()];
    assert!(!is_after_last_touch(
        &c,
        &crossed,
        Link::Thread,
        Some(&LastTouch::of(&touch))
    ));
}

/// A Date from a slow clock gives way to the server's INTERNALDATE; one from a fast clock
/// (year 2099) never puts the message after the moment nudge first saw it, where every later
/// touch would read as crossing it.
#[test]
fn a_message_arrives_no_later_than_nudge_first_saw_it() {
    let internal = at(18, 10);
    assert_eq!(arrival(at(17, 8), Some(internal), at(18, 12)), internal);
    assert_eq!(arrival(at(18, 11), Some(internal), at(18, 12)), at(18, 11));
    let future = Utc.with_ymd_and_hms(2099, 12, 31, 23, 59, 59).unwrap();
    assert_eq!(arrival(future, Some(internal), at(18, 12)), at(18, 12));
    assert_eq!(arrival(future, None, at(18, 12)), at(18, 12));
    assert_eq!(arrival(at(17, 8), None, at(18, 12)), at(17, 8));
}

#[test]
fn a_follow_up_that_crossed_a_reply_does_not_start_the_cadence_again() {
    with(|rules| {
        let c = conversation(&[INGRID], State::Waiting);
        let reply = inbound(INGRID, MessageClass::Reply, at(18, 8));
        let effects =
            rules.on_inbound(&c, &reply, MessageClass::Reply, Link::Thread, None, &none());
        let replied = updated(&effects).expect("replied").clone();
        assert_eq!(replied.state, State::Replied);
        let mut follow_up = opener(&[INGRID]);
        follow_up.id = 3;
        follow_up.date = at(18, 9);
        follow_up.in_reply_to = vec!["a1@fjordsalg.no".into()];
        let touch = |message: &Message| {
            rules
                .on_touch(
                    Some(&replied),
                    message,
                    vec![INGRID.into()],
                    &Facts::default(),
                    &none(),
                    at(18, 10),
                )
                .map(|mut effects| effects.remove(0))
        };
        let crossed = touch(&follow_up).expect("recorded");
        assert!(matches!(crossed, Effect::Note(..)), "{crossed:?}");
        follow_up.in_reply_to = vec!["r1@fjordkraft.no".into()];
        let Effect::Update(after, _) = touch(&follow_up).expect("answered") else {
            panic!("the seller answered the reply: the cadence starts again");
        };
        assert_eq!((after.state, after.step), (State::Waiting, 0));
    });
}

#[test]
fn a_reply_to_a_stopped_conversation_is_recorded_with_its_step() {
    with(|rules| {
        let mut c = conversation(&[INGRID], State::Stopped);
        c.step = 1;
        let reply = inbound(INGRID, MessageClass::Reply, at(18, 8));
        let effects =
            rules.on_inbound(&c, &reply, MessageClass::Reply, Link::Thread, None, &none());
        let Some(Effect::Update(after, event)) = effects.first() else {
            panic!("recorded: {effects:?}");
        };
        assert_eq!(after.state, State::Stopped);
        assert_eq!(after.last_inbound_at, Some(at(18, 8)));
        assert_eq!((event.kind, event.step), (EventKind::Reply, Some(1)));
    });
}

#[test]
fn an_ended_conversation_has_no_due_time() {
    let mut c = conversation(&[INGRID], State::Waiting);
    c.next_due = Some(at(19, 7) + Duration::minutes(30));
    for transition in [
        machine::Transition::LetGo,
        machine::Transition::Bounce {
            failed: vec![INGRID.into()],
            ends: true,
        },
        machine::Transition::OptOut {
            who: "Ingrid".into(),
            link: Link::Thread,
        },
    ] {
        let outcome = machine::apply(&c, transition);
        assert!(!outcome.next.state.is_open());
        assert_eq!(outcome.next.next_due, None, "{}", outcome.next.state);
    }
}

#[test]
fn lookback_days_counts_back_from_the_first_start_not_from_now() {
    let (account, tracking) = (account(), tracking());
    // nudge first started on 16 November; the seller wrote on 18 November, and the pass
    // runs three weeks later.
    let rules = Rules {
        account: &account,
        tracking: &tracking,
        steps_total: 3,
        first_started_at: at(16, 9),
    };
    let mut message = opener(&[INGRID]);
    message.date = at(18, 10);
    let later = Utc.with_ymd_and_hms(2026, 12, 9, 9, 0, 0).unwrap();
    let track = |message: &Message, now| {
        rules.on_touch(
            None,
            message,
            vec![INGRID.into()],
            &Facts::default(),
            &none(),
            now,
        )
    };
    assert!(matches!(
        track(&message, later).as_deref(),
        Ok([Effect::Track(..)])
    ));
    // Older than lookback_days at the first start: never tracked, whenever it is seen.
    message.date = at(16, 9) - Duration::days(15);
    assert_eq!(
        track(&message, at(16, 10)),
        Err("older than lookback_days at first start")
    );
    assert_eq!(
        track(&message, later),
        Err("older than lookback_days at first start")
    );
    // Within lookback_days of the first start.
    message.date = at(16, 9) - Duration::days(13);
    assert!(matches!(
        track(&message, later).as_deref(),
        Ok([Effect::Track(..)])
    ));
    // Before the first pass, the first start is now.
    let fresh = Rules {
        first_started_at: later,
        ..rules
    };
    message.date = at(18, 10);
    assert!(fresh
        .on_touch(
            None,
            &message,
            vec![INGRID.into()],
            &Facts::default(),
            &none(),
            later
        )
        .is_err());
}

/// The seller's sent copy of follow-up 1 (id 3), in the opener's thread, sent at `date`.
fn sent_copy(date: DateTime<Utc>) -> Message {
    Message {
        id: 3,
        message_id: Some("sent.1@client.example".into()),
        in_reply_to: vec!["a1@fjordsalg.no".into()],
        date,
        arrived: date,
        ..opener(&[INGRID])
    }
}

fn dismissed_at_19() -> DismissedDraft {
    DismissedDraft {
        step: 1,
        made_at: at(19, 7),
    }
}

/// The facts of a pass in which `c`'s draft was read as dismissed on the 19th.
fn dismissed_facts(c: &Conversation) -> Facts {
    Facts {
        dismissed_drafts: [(c.id, dismissed_at_19())].into(),
        ..Facts::default()
    }
}

#[test]
fn a_sent_copy_after_a_dismissal_revises_it_and_counts_as_the_step() {
    with(|rules| {
        let mut c = conversation(&[INGRID], State::Stopped);
        c.stop_reason = Some(machine::DISMISSED.into());
        let copy = sent_copy(at(19, 9));
        let effects = rules
            .on_touch(
                Some(&c),
                &copy,
                vec![INGRID.into()],
                &dismissed_facts(&c),
                &none(),
                at(19, 10),
            )
            .expect("a touch");
        let [Effect::Update(after, event), Effect::DraftSent {
            conversation_id: 7,
            step: 1,
        }] = effects.as_slice()
        else {
            panic!("revised, and the draft recorded as sent: {effects:?}");
        };
        assert_eq!((after.state, after.step), (State::Waiting, 1));
        assert_eq!(after.stop_reason, None);
        assert_eq!(after.last_touch_message, Some(3));
        assert_eq!(after.last_touch_at, at(19, 9));
        assert_eq!((event.kind, event.step), (EventKind::Touch, Some(1)));
        assert!(event.detail.contains("dismissal is revised"), "{event:?}");
    });
}

#[test]
fn a_revised_dismissal_of_the_last_step_is_closing() {
    let mut c = conversation(&[INGRID], State::Stopped);
    c.step = 2;
    c.stop_reason = Some(machine::DISMISSED.into());
    let copy = sent_copy(at(19, 9));
    let outcome = machine::apply(
        &c,
        machine::Transition::DismissalRevised {
            message: &copy,
            prospects: vec![INGRID.into()],
            step: 3,
            steps_total: 3,
        },
    );
    assert_eq!((outcome.next.state, outcome.next.step), (State::Closing, 3));
    assert!(
        outcome.detail.contains("close-the-loop"),
        "{}",
        outcome.detail
    );
}

#[test]
fn a_skipped_dismissal_is_revised_without_moving_further() {
    with(|rules| {
        // on_dismiss = "skip" left the conversation at step 1, waiting from the dismissal.
        let mut c = conversation(&[INGRID], State::Waiting);
        c.step = 1;
        c.wait_from = Some(at(19, 10));
        let copy = sent_copy(at(19, 9));
        let effects = rules
            .on_touch(
                Some(&c),
                &copy,
                vec![INGRID.into()],
                &dismissed_facts(&c),
                &none(),
                at(19, 11),
            )
            .expect("a touch");
        let after = updated(&effects).expect("updated");
        assert_eq!((after.state, after.step), (State::Waiting, 1));
        assert_eq!(after.wait_from, None, "the wait counts from the send");
        assert!(effects
            .iter()
            .any(|e| matches!(e, Effect::DraftSent { step: 1, .. })));
    });
}

#[test]
fn only_a_later_sent_copy_revises_a_dismissal_of_a_conversation_left_where_it_was() {
    with(|rules| {
        let touch = |c: &Conversation, copy: &Message| {
            rules
                .on_touch(
                    Some(c),
                    copy,
                    vec![INGRID.into()],
                    &dismissed_facts(c),
                    &none(),
                    at(20, 10),
                )
                .expect("a touch")
        };
        let revised = |effects: &[Effect]| {
            effects
                .iter()
                .any(|e| matches!(e, Effect::DraftSent { .. }))
        };
        let mut dismissed = conversation(&[INGRID], State::Stopped);
        dismissed.stop_reason = Some(machine::DISMISSED.into());
        // Written before nudge made the draft: not its sent copy.
        let early = sent_copy(at(18, 15));
        let effects = touch(&dismissed, &early);
        assert!(!revised(&effects), "{effects:?}");
        assert_eq!(updated(&effects).map(|c| c.state), Some(State::Stopped));
        // Stopped by the seller, or ended by a reply: a touch does not undo that.
        let mut stopped = dismissed.clone();
        stopped.stop_reason = Some("stopped by the seller".into());
        let replied = conversation(&[INGRID], State::Replied);
        for c in [&stopped, &replied] {
            let effects = touch(c, &sent_copy(at(19, 9)));
            assert!(!revised(&effects), "{:?}: {effects:?}", c.state);
        }
        assert!(revised(&touch(&dismissed, &sent_copy(at(19, 9)))));
    });
}

fn deferral(phrase: &str, from: Option<chrono::NaiveDate>) -> crate::model::Heard {
    crate::model::Heard {
        deferral: Some(crate::model::Deferral {
            phrase: phrase.into(),
            from,
        }),
        ..Default::default()
    }
}

fn departure(replacements: &[&str]) -> crate::model::Heard {
    crate::model::Heard {
        departure: Some(crate::model::Departure {
            phrase: "har sluttet".into(),
            replacements: replacements.iter().map(|a| a.to_string()).collect(),
        }),
        ..Default::default()
    }
}

fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn a_reply_that_names_a_later_time_defers_the_conversation_and_starts_the_cadence_afresh() {
    with(|rules| {
        let mut c = conversation(&[INGRID], State::Waiting);
        c.step = 2;
        let mut reply = inbound(INGRID, MessageClass::Reply, at(18, 8));
        reply.heard = deferral("ta kontakt etter ferien", Some(date(2027, 8, 1)));
        let effects =
            rules.on_inbound(&c, &reply, MessageClass::Reply, Link::Thread, None, &none());
        let after = updated(&effects).expect("updated");
        assert_eq!(after.state, State::Deferred);
        assert_eq!(after.step, 0, "the check-back opens a fresh cadence");
        assert_eq!(
            after.replied_after_step,
            Some(2),
            "the reply counts for its step"
        );
        assert_eq!(after.heard, reply.heard);
        assert!(after.state.is_open());
        let Some(Effect::Update(_, event)) = effects.first() else {
            panic!("{effects:?}");
        };
        assert_eq!(event.kind, EventKind::Reply);
        assert!(event.detail.contains("2027-08-01"), "{}", event.detail);
        assert!(event.detail.contains("etter ferien"), "{}", event.detail);
    });
}

#[test]
fn a_deferral_nudge_cannot_resolve_or_that_is_past_stays_replied_and_is_remembered() {
    with(|rules| {
        for from in [None, Some(date(2026, 11, 1))] {
            let c = conversation(&[INGRID], State::Waiting);
            let mut reply = inbound(INGRID, MessageClass::Reply, at(18, 8));
            reply.heard = deferral("ikke akkurat nå", from);
            let effects =
                rules.on_inbound(&c, &reply, MessageClass::Reply, Link::Thread, None, &none());
            let after = updated(&effects).expect("updated");
            assert_eq!(after.state, State::Replied, "{from:?}");
            assert_eq!(after.heard.deferral, reply.heard.deferral);
        }
    });
}

#[test]
fn a_prospect_writing_again_while_deferred_is_waiting_on_the_seller() {
    with(|rules| {
        let mut c = conversation(&[INGRID], State::Deferred);
        c.heard = deferral("after the summer", Some(date(2027, 8, 1)));
        c.replied_after_step = Some(1);
        let mut reply = inbound(INGRID, MessageClass::Reply, at(20, 8));
        reply.heard.asks = true;
        let effects =
            rules.on_inbound(&c, &reply, MessageClass::Reply, Link::Thread, None, &none());
        let Some(Effect::Update(after, event)) = effects.first() else {
            panic!("{effects:?}");
        };
        assert_eq!(after.state, State::Replied);
        assert!(after.heard.asks && after.heard.deferral.is_none());
        assert_eq!((event.kind, event.step), (EventKind::WroteAgain, Some(1)));
    });
}

#[test]
fn the_sent_check_back_continues_the_cadence_after_it() {
    with(|rules| {
        let mut c = conversation(&[INGRID], State::Drafted);
        c.heard = deferral("after the summer", Some(date(2027, 8, 1)));
        c.step = 0;
        let mut sent = opener(&[INGRID]);
        sent.id = 9;
        sent.date = at(25, 9);
        let effects = rules
            .on_touch(
                Some(&c),
                &sent,
                vec![INGRID.into()],
                &Facts::default(),
                &none(),
                at(25, 10),
            )
            .expect("a touch");
        let after = updated(&effects).expect("updated");
        assert_eq!((after.state, after.step), (State::Waiting, 1));
        assert_eq!(after.heard, crate::model::Heard::default());
        assert_eq!(after.last_touch_message, Some(9));
    });
}

#[test]
fn a_departure_ends_a_conversation_with_one_prospect_and_suppresses_only_the_leaver() {
    with(|rules| {
        for class in [MessageClass::AutoReply, MessageClass::Reply] {
            let c = conversation(&[INGRID], State::Drafted);
            let mut notice = inbound(INGRID, class, at(18, 8));
            notice.heard = departure(&["kari.hansen@fjordkraft.no"]);
            let effects = rules.on_inbound(&c, &notice, class, Link::Thread, None, &none());
            let after = updated(&effects).expect("updated");
            assert_eq!(after.state, State::Departed, "{class:?}");
            assert_eq!(after.next_due, None);
            assert_eq!(
                after.heard.departure.as_ref().unwrap().replacements,
                vec!["kari.hansen@fjordkraft.no".to_string()]
            );
            assert_eq!(
                suppressions(&effects),
                vec![INGRID],
                "never the replacement"
            );
        }
    });
}

#[test]
fn a_departure_of_one_of_two_prospects_goes_on_with_the_other() {
    with(|rules| {
        let c = conversation(&[INGRID, PER], State::Waiting);
        let mut notice = inbound(INGRID, MessageClass::AutoReply, at(18, 8));
        notice.heard = departure(&[]);
        let effects = rules.on_inbound(
            &c,
            &notice,
            MessageClass::AutoReply,
            Link::Thread,
            None,
            &none(),
        );
        assert!(updated(&effects).is_none(), "{effects:?}");
        assert!(
            matches!(effects.first(), Some(Effect::Note(7, e)) if e.kind == EventKind::Departed)
        );
        assert_eq!(suppressions(&effects), vec![INGRID]);
    });
}

#[test]
fn a_colleague_saying_someone_left_does_not_end_a_conversation_by_organisation() {
    with(|rules| {
        let c = conversation(&[INGRID], State::Waiting);
        let mut notice = inbound(PER, MessageClass::AutoReply, at(18, 8));
        notice.thread_id = 5;
        notice.heard = departure(&[]);
        let effects = rules.on_inbound(
            &c,
            &notice,
            MessageClass::AutoReply,
            Link::SameOrganisation,
            None,
            &none(),
        );
        assert!(effects
            .iter()
            .all(|e| !matches!(e, Effect::Update(c, _) if c.state == State::Departed)));
        assert!(suppressions(&effects).is_empty());
    });
}

#[test]
fn done_ends_following_up_until_the_seller_writes_again() {
    with(|rules| {
        let c = conversation(&[INGRID], State::Replied);
        let outcome = machine::apply(&c, machine::Transition::Done);
        assert_eq!(outcome.next.state, State::Done);
        assert!(!outcome.next.state.is_open());
        assert_eq!(outcome.kind, EventKind::Done);
        // A reply is recorded; the state stays.
        let reply = inbound(INGRID, MessageClass::Reply, at(18, 8));
        let effects = rules.on_inbound(
            &outcome.next,
            &reply,
            MessageClass::Reply,
            Link::Thread,
            None,
            &none(),
        );
        assert_eq!(updated(&effects).map(|c| c.state), Some(State::Done));
        // The seller writes again: the cadence starts over.
        let mut sent = opener(&[INGRID]);
        sent.id = 9;
        sent.date = at(20, 9);
        let effects = rules
            .on_touch(
                Some(&outcome.next),
                &sent,
                vec![INGRID.into()],
                &Facts::default(),
                &none(),
                at(20, 10),
            )
            .expect("a touch");
        let after = updated(&effects).expect("updated");
        assert_eq!((after.state, after.step), (State::Waiting, 0));
        assert_eq!(after.stop_reason, None);
    });
}

#[test]
fn the_sellers_resume_or_snooze_overrides_a_deferral() {
    let mut c = conversation(&[INGRID], State::Deferred);
    c.heard = deferral("after the summer", Some(date(2027, 8, 1)));
    let resumed = machine::apply(
        &c,
        machine::Transition::Resume {
            steps_total: 3,
            now: at(20, 9),
        },
    );
    assert_eq!(resumed.next.state, State::Waiting);
    assert_eq!(resumed.next.heard.deferral, None);
    let snoozed = machine::apply(
        &c,
        machine::Transition::Snooze {
            until: at(25, 7),
            label: "2026-11-25".into(),
        },
    );
    assert_eq!(snoozed.next.state, State::Snoozed);
    assert_eq!(snoozed.next.heard.deferral, None);
    let stopped = machine::apply(
        &c,
        machine::Transition::Stop {
            reason: "stopped by the seller".into(),
            detail: "stopped".into(),
        },
    );
    assert_eq!(stopped.next.state, State::Stopped);
    assert_eq!(stopped.next.next_due, None);
}

fn oslo_calendar() -> crate::cadence::Calendar {
    use chrono::Weekday::*;
    crate::cadence::Calendar::new(
        chrono_tz::Europe::Oslo,
        vec![Mon, Tue, Wed, Thu, Fri],
        vec![crate::config::Country::NO],
        vec![],
        vec![],
    )
}

fn touch(colleague: &str, organisation: &str, at: DateTime<Utc>) -> ColleagueTouch {
    ColleagueTouch {
        colleague: colleague.into(),
        organisation: organisation.into(),
        at,
    }
}

/// The team's overlap: a follow-up waits until `overlap_days` business days have passed
/// since a colleague's latest touch of the organisation, counted on the seller's calendar.
#[test]
fn a_colleagues_recent_touch_holds_the_follow_up_for_the_overlap() {
    let calendar = oslo_calendar();
    let monday = Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 0).unwrap();
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let touches = [touch("ola@fjordsalg.no", "fjordkraft.no", monday)];
    // Ten business days after Monday the 16th: Monday the 30th.
    let held = overlap_wait(&touches, 10, &calendar, monday + Duration::days(4));
    let Some(machine::Transition::Overlap {
        colleague, until, ..
    }) = held
    else {
        panic!("held: {held:?}");
    };
    assert_eq!((colleague.as_str(), until), ("ola@fjordsalg.no", day(30)));
    // On the 30th the wait is over; with no overlap there is none.
    assert!(overlap_wait(&touches, 10, &calendar, monday + Duration::days(14)).is_none());
    assert!(overlap_wait(&touches, 0, &calendar, monday).is_none());
    assert!(overlap_wait(&[], 10, &calendar, monday).is_none());
    // The latest touch decides, whoever made it.
    let later = [
        touches[0].clone(),
        touch(
            "per@fjordsalg.no",
            "fjordkraft.no",
            monday + Duration::days(2),
        ),
    ];
    let Some(machine::Transition::Overlap {
        colleague, until, ..
    }) = overlap_wait(&later, 10, &calendar, monday + Duration::days(4))
    else {
        panic!("held");
    };
    assert_eq!(
        (colleague.as_str(), until),
        (
            "per@fjordsalg.no",
            chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
        )
    );

    // The transition holds the conversation until that business day, and says why.
    let c = Conversation::new(
        1,
        "Tilbud",
        vec!["ingrid@fjordkraft.no".into()],
        monday,
        None,
    );
    let outcome = machine::apply(
        &c,
        machine::Transition::Overlap {
            colleague: "ola@fjordsalg.no".into(),
            organisation: "fjordkraft.no".into(),
            touched: day(16),
            until: day(30),
        },
    );
    assert_eq!(outcome.next.state, c.state, "still waiting");
    assert_eq!(
        calendar.next_business_day_after(outcome.next.not_before.unwrap()),
        day(30)
    );
    assert!(
        outcome.detail.contains("ola@fjordsalg.no"),
        "{}",
        outcome.detail
    );
}

/// Entries joining the suppression list: a conversation ends when every prospect is on it;
/// a waiting draft that may address a new entry is made again without them.
#[test]
fn suppression_ends_a_conversation_or_has_its_draft_made_again() {
    let at = Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 0).unwrap();
    let c = Conversation::new(
        1,
        "Tilbud",
        vec!["ingrid@fjordkraft.no".into(), "per@fjordkraft.no".into()],
        at,
        None,
    );
    let one: HashSet<String> = ["ingrid@fjordkraft.no".to_string()].into();
    assert!(
        heed_suppression(&c, &one, &one, "x").is_none(),
        "Per is left, and no draft waits"
    );
    let mut drafted = c.clone();
    drafted.state = State::Drafted;
    let Some(transition) = heed_suppression(&drafted, &one, &one, "ingrid: opted_out") else {
        panic!("the waiting draft may address Ingrid");
    };
    let outcome = machine::apply(&drafted, transition);
    assert_eq!(
        outcome.next.state,
        State::Waiting,
        "made again at the next due time"
    );
    assert_eq!(outcome.next.step, drafted.step, "the same step");
    assert!(
        outcome.detail.contains("ingrid: opted_out"),
        "{}",
        outcome.detail
    );
    let other: HashSet<String> = ["someone@else.no".to_string()].into();
    assert!(
        heed_suppression(&drafted, &one, &other, "x").is_none(),
        "an older entry changed nothing now"
    );

    let domain: HashSet<String> = ["fjordkraft.no".to_string()].into();
    let Some(machine::Transition::Stop { reason, detail }) = heed_suppression(
        &drafted,
        &domain,
        &domain,
        "fjordkraft.no: manual, seen by ola@fjordsalg.no",
    ) else {
        panic!("the whole domain is suppressed");
    };
    assert_eq!(reason, "suppressed");
    assert!(detail.contains("seen by ola@fjordsalg.no"), "{detail}");
    let mut ended = c.clone();
    ended.state = State::Replied;
    assert!(
        heed_suppression(&ended, &domain, &domain, "x").is_none(),
        "ended already"
    );
}
