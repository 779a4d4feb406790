//! When each conversation's next follow-up (or letting go) is due, and which drafts a pass
//! makes. Pure: conversations and an injected `now` in, a plan out.
//!
//! Drafts are made only while drafting is open: on a business day, from `draft_time` until
//! `quiet_after` on the seller's clock (SPEC 5). A draft due at another moment — overdue after
//! downtime, held back by the daily limit, snoozed to a weekend, moved by an out-of-office —
//! waits for the next moment drafting opens. Letting go writes no mail, so it happens at any
//! hour.

use chrono::{DateTime, NaiveTime, Utc};

use crate::cadence::calendar::SEARCH_LIMIT_DAYS;
use crate::cadence::Calendar;
use crate::config::{CadenceConfig, DayEnd};
use crate::model::{Conversation, State};

/// The template of the follow-up a prospect asked for ("try us again after the summer").
pub const CHECK_BACK: &str = "check-back";

/// What falls due for a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueKind {
    /// A follow-up draft for this step (1-based) with this template.
    FollowUp { step: u32, template: String },
    /// No reply after the close-the-loop message: let go.
    LetGo,
}

/// The next thing due for a conversation, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub at: DateTime<Utc>,
    pub kind: DueKind,
}

/// What a pass should do now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Drafts to make, oldest due first: (conversation id, the due follow-up).
    pub drafts: Vec<(i64, Due)>,
    /// Conversations to let go.
    pub let_go: Vec<i64>,
    /// Drafts due but held back by the daily limit.
    pub held_back: usize,
    /// Drafts due while drafting is closed (a night, a weekend, a holiday, time away).
    pub deferred: usize,
    /// When the drafts held back or deferred are made: the next moment drafting is open.
    pub waiting_until: Option<DateTime<Utc>>,
    /// When the next thing falls due (for the daemon's timer).
    pub next_wake: Option<DateTime<Utc>>,
}

impl Plan {
    pub fn wake_at(&mut self, at: DateTime<Utc>) {
        self.next_wake = Some(self.next_wake.map_or(at, |w| w.min(at)));
    }
}

/// The cadence rules over a business-day calendar.
pub struct Cadence<'a> {
    pub calendar: &'a Calendar,
    pub config: &'a CadenceConfig,
}

impl Cadence<'_> {
    /// The next thing due for a conversation; `None` when nothing is (a draft is waiting for
    /// the seller, or the conversation has ended). A follow-up is due at a moment drafting is
    /// open: a snooze or return date that ends on a non-business day moves to the next
    /// business day's `draft_time`.
    pub fn next(&self, c: &Conversation) -> Option<Due> {
        let steps = &self.config.steps;
        let base = c
            .wait_from
            .map_or(c.last_touch_at, |w| w.max(c.last_touch_at));
        let draft_time = self.config.draft_time;
        let (mut at, kind) = match c.state {
            State::Waiting | State::Snoozed if (c.step as usize) < steps.len() => {
                let step = &steps[c.step as usize];
                (
                    self.calendar
                        .due_after(base, step.after_business_days, draft_time),
                    DueKind::FollowUp {
                        step: c.step + 1,
                        template: step.template.clone(),
                    },
                )
            }
            State::Waiting | State::Snoozed | State::Closing => (
                self.calendar
                    .due_after(base, self.config.let_go_after_business_days, draft_time),
                DueKind::LetGo,
            ),
            State::Deferred => {
                // The check-back is due on the first business day of the period the
                // prospect named (SPEC 15).
                let from = c.heard.deferral.as_ref().and_then(|d| d.from)?;
                let day = self.calendar.first_business_day_on_or_after(from);
                (
                    self.calendar.at_local(day, draft_time),
                    DueKind::FollowUp {
                        step: c.step + 1,
                        template: CHECK_BACK.to_string(),
                    },
                )
            }
            _ => return None,
        };
        if let Some(back) = c.not_before {
            // An out-of-office: not before the first business day after the return date.
            let resume = self.calendar.next_business_day_after(back);
            at = at.max(self.calendar.at_local(resume, draft_time));
        }
        if let Some(until) = c.snoozed_until {
            at = at.max(until);
        }
        if matches!(kind, DueKind::FollowUp { .. }) {
            at = self.next_drafting_moment(at);
        }
        Some(Due { at, kind })
    }

    /// True when drafting is open at `at`: a business day, and the seller's clock shows
    /// `draft_time` or later and is before `quiet_after`. When a fall-back change shows the
    /// hour before `quiet_after` again after drafting closed, it stays closed.
    pub fn may_draft_at(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.calendar.zone());
        let (date, time) = (local.date_naive(), local.time());
        self.calendar.is_business_day(date)
            && time >= self.config.draft_time
            && self.config.quiet_after.is_after(time)
            && at < self.drafting_closes(date)
    }

    /// The first moment at or after `from` when drafting is open. Drafting opens at a
    /// business day's `draft_time` (the end of the gap when a spring-forward change skips
    /// it; the second showing when a fall-back change shows it twice and `from` is past the
    /// first). Gives up after [`SEARCH_LIMIT_DAYS`] and returns the last opening looked at.
    pub fn next_drafting_moment(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        if self.may_draft_at(from) {
            return from;
        }
        let mut date = self.calendar.local_date(from);
        let mut last = from;
        for _ in 0..SEARCH_LIMIT_DAYS {
            if self.calendar.is_business_day(date) {
                for opens in self.calendar.instants_of(date, self.config.draft_time) {
                    if opens >= from && self.may_draft_at(opens) {
                        return opens;
                    }
                    last = last.max(opens);
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        last
    }

    /// The instant drafting closes on `date`: the first one whose clock shows `quiet_after`
    /// or later (midnight for "24:00").
    fn drafting_closes(&self, date: chrono::NaiveDate) -> DateTime<Utc> {
        match self.config.quiet_after {
            DayEnd::At(time) => self.calendar.at_local(date, time),
            DayEnd::EndOfDay => match date.succ_opt() {
                Some(next) => self.calendar.at_local(next, NaiveTime::MIN),
                None => DateTime::<Utc>::MAX_UTC,
            },
        }
    }

    /// What to do at `now`, given how many drafts were already made today.
    pub fn plan(
        &self,
        conversations: &[Conversation],
        now: DateTime<Utc>,
        made_today: u32,
    ) -> Plan {
        self.plan_with_more(conversations, now, made_today, 0)
    }

    /// [`Cadence::plan`] when `more_due` further drafts are due, of conversations not given
    /// because they come after at least as many given ones as the day has room for: they
    /// are held back (or wait for drafting to open) with the rest.
    pub fn plan_with_more(
        &self,
        conversations: &[Conversation],
        now: DateTime<Utc>,
        made_today: u32,
        more_due: usize,
    ) -> Plan {
        let mut plan = Plan::default();
        let mut due_drafts: Vec<(i64, Due)> = Vec::new();
        for c in conversations {
            let Some(due) = self.next(c) else {
                continue;
            };
            if due.at > now {
                plan.wake_at(due.at);
                continue;
            }
            match due.kind {
                DueKind::LetGo => plan.let_go.push(c.id),
                DueKind::FollowUp { .. } => due_drafts.push((c.id, due)),
            }
        }
        if due_drafts.is_empty() && more_due == 0 {
            return plan;
        }
        if !self.may_draft_at(now) {
            // A night, a weekend, a holiday or time away: everything waits for the opening.
            plan.deferred = due_drafts.len() + more_due;
            let opens = self.next_drafting_moment(now);
            plan.waiting_until = Some(opens);
            plan.wake_at(opens);
            return plan;
        }
        // Oldest due first; ties by conversation age.
        due_drafts.sort_by_key(|(id, due)| (due.at, *id));
        let room = self.config.daily_limit.saturating_sub(made_today) as usize;
        plan.held_back = (due_drafts.len() + more_due).saturating_sub(room);
        if plan.held_back > 0 {
            // The rest wait for the next business day's draft time.
            let today = self.calendar.local_date(now);
            let opens = self.next_drafting_moment(self.drafting_closes(today));
            plan.waiting_until = Some(opens);
            plan.wake_at(opens);
        }
        due_drafts.truncate(room);
        plan.drafts = due_drafts;
        plan
    }

    /// The start of the seller's local day of `now`, for counting today's drafts.
    pub fn start_of_day(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = self.calendar.local_date(now);
        self.calendar.at_local(today, NaiveTime::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Country, OnDismiss, Step};
    use chrono::{NaiveDate, NaiveTime, TimeZone, Weekday};

    fn config(daily_limit: u32) -> CadenceConfig {
        use Weekday::*;
        CadenceConfig {
            draft_time: NaiveTime::from_hms_opt(8, 30, 0).unwrap(),
            quiet_after: DayEnd::At(NaiveTime::from_hms_opt(18, 0, 0).unwrap()),
            daily_limit,
            holidays: vec![Country::NO],
            extra_holidays: vec![],
            away: vec![],
            on_dismiss: OnDismiss::Stop,
            steps: vec![
                Step {
                    after_business_days: 3,
                    template: "followup-1".into(),
                },
                Step {
                    after_business_days: 7,
                    template: "followup-2".into(),
                },
                Step {
                    after_business_days: 10,
                    template: "close-the-loop".into(),
                },
            ],
            let_go_after_business_days: 10,
            workdays: vec![Mon, Tue, Wed, Thu, Fri],
        }
    }

    fn calendar() -> Calendar {
        use Weekday::*;
        Calendar::new(
            chrono_tz::Europe::Oslo,
            vec![Mon, Tue, Wed, Thu, Fri],
            vec![Country::NO],
            vec![],
            vec![],
        )
    }

    fn oslo(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Europe::Oslo
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn conversation(id: i64, touch: DateTime<Utc>, state: State, step: u32) -> Conversation {
        Conversation {
            id,
            state,
            step,
            ..Conversation::new(id, "", vec![], touch, None)
        }
    }

    #[test]
    fn steps_follow_the_cadence() {
        let cal = calendar();
        let cfg = config(20);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        // Opener Tuesday 10 Nov 2026 → follow-up 1 on Friday 13 Nov at 08:30.
        let c = conversation(1, oslo(2026, 11, 10, 10, 15), State::Waiting, 0);
        let due = cadence.next(&c).unwrap();
        assert_eq!(due.at, oslo(2026, 11, 13, 8, 30));
        assert_eq!(
            due.kind,
            DueKind::FollowUp {
                step: 1,
                template: "followup-1".into()
            }
        );
        // Follow-up 1 sent Friday 13 Nov → follow-up 2 seven business days later: Tue 24 Nov.
        let c = conversation(1, oslo(2026, 11, 13, 9, 0), State::Waiting, 1);
        assert_eq!(cadence.next(&c).unwrap().at, oslo(2026, 11, 24, 8, 30));
        // Close-the-loop sent → let go ten business days later.
        let c = conversation(1, oslo(2026, 11, 24, 9, 0), State::Closing, 3);
        let due = cadence.next(&c).unwrap();
        assert_eq!(due.kind, DueKind::LetGo);
        assert_eq!(due.at, oslo(2026, 12, 8, 8, 30));
        // Nothing is due while a draft waits, or after the end.
        for state in [State::Drafted, State::Replied, State::LetGo, State::Stopped] {
            assert!(cadence
                .next(&conversation(1, oslo(2026, 11, 10, 10, 0), state, 0))
                .is_none());
        }
    }

    #[test]
    fn an_out_of_office_moves_the_due_day() {
        let cal = calendar();
        let cfg = config(20);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        let mut c = conversation(1, oslo(2026, 11, 10, 10, 15), State::Waiting, 0);
        c.not_before = Some(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()); // a Friday
        assert_eq!(cadence.next(&c).unwrap().at, oslo(2026, 11, 30, 8, 30));
        // A return date before the regular due day changes nothing.
        c.not_before = Some(NaiveDate::from_ymd_opt(2026, 11, 11).unwrap());
        assert_eq!(cadence.next(&c).unwrap().at, oslo(2026, 11, 13, 8, 30));
    }

    #[test]
    fn the_daily_limit_takes_the_oldest_due_first() {
        let cal = calendar();
        let cfg = config(2);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        let conversations = vec![
            conversation(1, oslo(2026, 11, 10, 12, 0), State::Waiting, 0),
            conversation(2, oslo(2026, 11, 9, 12, 0), State::Waiting, 0),
            conversation(3, oslo(2026, 11, 11, 12, 0), State::Waiting, 0),
            conversation(4, oslo(2026, 11, 5, 12, 0), State::Waiting, 0),
        ];
        let now = oslo(2026, 11, 16, 8, 30);
        let plan = cadence.plan(&conversations, now, 0);
        let ids: Vec<i64> = plan.drafts.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![4, 2]);
        assert_eq!(plan.held_back, 2);
        assert_eq!(plan.next_wake, Some(oslo(2026, 11, 17, 8, 30)));
        // One already made today leaves room for one more.
        assert_eq!(cadence.plan(&conversations, now, 1).drafts.len(), 1);
    }

    /// Drafts due of conversations a pass did not read (after as many read ones as the day
    /// has room for) are held back, or wait for drafting to open, with the rest.
    #[test]
    fn drafts_due_but_not_read_are_counted_with_the_rest() {
        let cal = calendar();
        let cfg = config(2);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        let conversations = vec![
            conversation(4, oslo(2026, 11, 5, 12, 0), State::Waiting, 0),
            conversation(2, oslo(2026, 11, 9, 12, 0), State::Waiting, 0),
        ];
        let now = oslo(2026, 11, 16, 8, 30);
        let plan = cadence.plan_with_more(&conversations, now, 0, 3);
        let ids: Vec<i64> = plan.drafts.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![4, 2]);
        assert_eq!(plan.held_back, 3);
        assert_eq!(plan.waiting_until, Some(oslo(2026, 11, 17, 8, 30)));
        // Nothing read, the day full: all are held back until the next morning.
        let plan = cadence.plan_with_more(&[], now, 2, 5);
        assert!(plan.drafts.is_empty());
        assert_eq!(plan.held_back, 5);
        assert_eq!(plan.next_wake, Some(oslo(2026, 11, 17, 8, 30)));
        // At night they wait for the opening.
        let plan = cadence.plan_with_more(&[], oslo(2026, 11, 16, 22, 0), 0, 4);
        assert_eq!(plan.deferred, 4);
        assert_eq!(plan.waiting_until, Some(oslo(2026, 11, 17, 8, 30)));
    }

    #[test]
    fn not_due_before_draft_time_on_the_due_day() {
        let cal = calendar();
        let cfg = config(20);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        let c = vec![conversation(
            1,
            oslo(2026, 11, 10, 10, 15),
            State::Waiting,
            0,
        )];
        assert!(
            cadence
                .plan(&c, oslo(2026, 11, 12, 23, 0), 0)
                .drafts
                .is_empty(),
            "the day before"
        );
        assert!(cadence
            .plan(&c, oslo(2026, 11, 13, 8, 29), 0)
            .drafts
            .is_empty());
        assert_eq!(
            cadence.plan(&c, oslo(2026, 11, 13, 8, 30), 0).drafts.len(),
            1
        );
        assert_eq!(
            cadence.plan(&c, oslo(2026, 11, 19, 15, 0), 0).drafts.len(),
            1,
            "overdue"
        );
    }

    #[test]
    fn drafting_is_open_on_business_days_from_draft_time_until_quiet_after() {
        let cal = calendar();
        let mut cfg = config(20);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        // Friday 20 November 2026.
        assert!(!cadence.may_draft_at(oslo(2026, 11, 20, 8, 29)));
        assert!(cadence.may_draft_at(oslo(2026, 11, 20, 8, 30)));
        assert!(cadence.may_draft_at(oslo(2026, 11, 20, 17, 59)));
        assert!(!cadence.may_draft_at(oslo(2026, 11, 20, 18, 0)));
        assert!(!cadence.may_draft_at(oslo(2026, 11, 21, 10, 0)), "Saturday");
        assert!(
            !cadence.may_draft_at(oslo(2026, 12, 25, 10, 0)),
            "Christmas Day"
        );
        // From Friday evening, the next opening is Monday morning.
        assert_eq!(
            cadence.next_drafting_moment(oslo(2026, 11, 20, 18, 0)),
            oslo(2026, 11, 23, 8, 30)
        );
        assert_eq!(
            cadence.next_drafting_moment(oslo(2026, 11, 20, 12, 0)),
            oslo(2026, 11, 20, 12, 0)
        );
        // "24:00": until midnight.
        cfg.quiet_after = DayEnd::EndOfDay;
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        assert!(cadence.may_draft_at(oslo(2026, 11, 20, 23, 59)));
        assert!(!cadence.may_draft_at(oslo(2026, 11, 21, 0, 0)));
    }

    #[test]
    fn overdue_drafts_wait_for_the_next_opening_and_letting_go_does_not() {
        let cal = calendar();
        let cfg = config(20);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        let conversations = vec![
            // Due Thursday 19 November at 08:30.
            conversation(1, oslo(2026, 11, 16, 10, 0), State::Waiting, 0),
            // Let go due Tuesday 8 December at 08:30.
            conversation(2, oslo(2026, 11, 24, 9, 0), State::Closing, 3),
        ];
        // Sunday 22 November, 23:00: nothing is drafted; the wake-up is Monday 08:30.
        let plan = cadence.plan(&conversations, oslo(2026, 11, 22, 23, 0), 0);
        assert!(plan.drafts.is_empty());
        assert_eq!(plan.deferred, 1);
        assert_eq!(plan.waiting_until, Some(oslo(2026, 11, 23, 8, 30)));
        assert_eq!(plan.next_wake, Some(oslo(2026, 11, 23, 8, 30)));
        // Saturday 12 December at night: letting go happens, the draft still waits.
        let plan = cadence.plan(&conversations, oslo(2026, 12, 12, 23, 0), 0);
        assert_eq!(plan.let_go, vec![2]);
        assert!(plan.drafts.is_empty());
        assert_eq!(plan.next_wake, Some(oslo(2026, 12, 14, 8, 30)));
    }

    #[test]
    fn the_daily_limit_holds_drafts_until_the_next_business_morning() {
        let cal = calendar();
        let cfg = config(1);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        let conversations = vec![
            conversation(1, oslo(2026, 11, 17, 10, 0), State::Waiting, 0),
            conversation(2, oslo(2026, 11, 17, 11, 0), State::Waiting, 0),
        ];
        // Friday 20 November: one now, the other on Monday, not just after midnight.
        let plan = cadence.plan(&conversations, oslo(2026, 11, 20, 9, 0), 0);
        assert_eq!(plan.drafts.len(), 1);
        assert_eq!(plan.held_back, 1);
        assert_eq!(plan.waiting_until, Some(oslo(2026, 11, 23, 8, 30)));
        assert_eq!(plan.next_wake, Some(oslo(2026, 11, 23, 8, 30)));
        let plan = cadence.plan(&conversations[1..], oslo(2026, 11, 21, 0, 5), 0);
        assert!(plan.drafts.is_empty(), "not on Saturday at 00:05");
    }

    #[test]
    fn a_snooze_ending_on_a_day_off_moves_to_the_next_business_morning() {
        let cal = calendar();
        let cfg = config(20);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        let mut c = conversation(1, oslo(2026, 11, 16, 10, 0), State::Snoozed, 0);
        // Until Saturday 21 November at draft time (as stored by an older version).
        c.snoozed_until = Some(oslo(2026, 11, 21, 8, 30));
        assert_eq!(cadence.next(&c).unwrap().at, oslo(2026, 11, 23, 8, 30));
        // An out-of-office back on Christmas Eve (a Thursday): Monday 28 December.
        c.snoozed_until = None;
        c.not_before = Some(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap());
        assert_eq!(cadence.next(&c).unwrap().at, oslo(2026, 12, 28, 8, 30));
    }

    /// A deferral to "after the summer" (1 August 2027, a Sunday) is due on the first
    /// business day of the period, Monday 2 August, with the check-back; nothing is due for
    /// the departed or the done.
    #[test]
    fn a_deferral_is_due_on_the_first_business_day_of_the_period_it_names() {
        let cal = calendar();
        let cfg = config(20);
        let cadence = Cadence {
            calendar: &cal,
            config: &cfg,
        };
        let mut c = conversation(1, oslo(2026, 6, 10, 10, 15), State::Deferred, 0);
        c.heard.deferral = Some(crate::model::Deferral {
            phrase: "etter ferien".into(),
            from: Some(NaiveDate::from_ymd_opt(2027, 8, 1).unwrap()),
        });
        let due = cadence.next(&c).unwrap();
        assert_eq!(due.at, oslo(2027, 8, 2, 8, 30));
        assert_eq!(
            due.kind,
            DueKind::FollowUp {
                step: 1,
                template: CHECK_BACK.into()
            }
        );
        // An out-of-office on top of it moves it further.
        c.not_before = Some(NaiveDate::from_ymd_opt(2027, 8, 4).unwrap());
        assert_eq!(cadence.next(&c).unwrap().at, oslo(2027, 8, 5, 8, 30));
        // Without a date there is nothing to wait for.
        c.heard.deferral = None;
        assert!(cadence.next(&c).is_none());
        for state in [State::Departed, State::Done] {
            assert!(cadence
                .next(&conversation(1, oslo(2026, 11, 10, 10, 0), state, 0))
                .is_none());
        }
    }
}
