//! Time (SPEC 3 and 5): drafts appear only on business days between `draft_time` and
//! `quiet_after` in the seller's zone — whether held back by the daily limit, overdue after
//! downtime, snoozed or moved by an out-of-office — and `lookback_days` bounds only what the
//! first start picks up. Through the `nudge` binary with `sync --now` against a real Dovecot;
//! the seller's zone is Europe/Oslo and the holidays Norway's. Then a model of the same rules
//! over random configurations and a year of passes, through the pure planner.

mod support;

use support::mailclient::{MailClient, Message};
use support::nudge::{ok, seller_world, Nudge};
use support::Dovecot;

/// The seller's first message to a prospect, in Sent.
fn opener(to: &str, subject: &str, id: &str, date: &str) -> String {
    Message {
        from: "Kari Nordmann <kari@fjordsalg.no>",
        to,
        subject,
        message_id: id,
        in_reply_to: None,
        date,
        body: "Hei,\n\nHer er tilbudet vi snakket om på messen, med priser for tre år.\n\nHilsen Kari",
        extra: "",
    }
    .render()
}

/// Ingrid's opener, dated `date`.
async fn ingrid(client: &mut MailClient, date: &str) {
    let raw = opener(
        "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        "Tilbud på rammeavtale",
        "a1@fjordsalg.no",
        date,
    );
    client.append("Sent", &raw, &["\\Seen"]).await;
}

/// Per's opener, dated `date`.
async fn per(client: &mut MailClient, date: &str) {
    let raw = opener(
        "Per Olsen <per.olsen@kraftlag.no>",
        "Tilbud på service",
        "a2@fjordsalg.no",
        date,
    );
    client.append("Sent", &raw, &["\\Seen"]).await;
}

async fn world(extra: &str) -> (Dovecot, Nudge, MailClient) {
    seller_world(extra).await
}

async fn drafts(client: &mut MailClient) -> usize {
    client.messages("Drafts").await.len()
}

#[tokio::test]
async fn drafts_held_back_by_the_daily_limit_wait_for_the_next_business_morning() {
    let (_d, nudge, mut client) = world("[cadence]\ndaily_limit = 1\n").await;
    // Both due on Friday 20 November 2026 at 08:30.
    ingrid(&mut client, "Tue, 17 Nov 2026 10:00:00 +0100").await;
    per(&mut client, "Tue, 17 Nov 2026 10:05:00 +0100").await;
    let out = nudge.sync("2026-11-20T09:00:00+01:00");
    assert_eq!(drafts(&mut client).await, 1, "{out}");
    assert!(
        out.contains(
            "1 more drafts are due; the daily limit of 1 holds them until Mon 2026-11-23 08:30"
        ),
        "the next allowed moment, not midnight: {out}"
    );
    // Just after midnight, on the weekend, late on Sunday, and before draft time on Monday.
    for now in [
        "2026-11-21T00:05:00+01:00",
        "2026-11-21T10:00:00+01:00",
        "2026-11-22T23:00:00+01:00",
        "2026-11-23T08:29:00+01:00",
    ] {
        let out = nudge.sync(now);
        assert_eq!(drafts(&mut client).await, 1, "no draft at {now}: {out}");
    }
    let out = nudge.sync("2026-11-23T08:30:00+01:00");
    assert_eq!(drafts(&mut client).await, 2, "Monday at draft time: {out}");
}

#[tokio::test]
async fn overdue_drafts_after_downtime_wait_for_a_business_day_between_draft_time_and_quiet_after()
{
    let (_d, nudge, mut client) = world("").await;
    // Due Thursday 19 November 2026 at 08:30; nudge last ran on Monday.
    ingrid(&mut client, "Mon, 16 Nov 2026 10:00:00 +0100").await;
    nudge.sync("2026-11-16T12:00:00+01:00");
    // Back on Thursday evening, after quiet_after (default 18:00).
    let out = nudge.sync("2026-11-19T18:00:00+01:00");
    assert_eq!(drafts(&mut client).await, 0, "not after 18:00: {out}");
    assert!(
        out.contains("1 drafts are due; they wait for Fri 2026-11-20 08:30"),
        "{out}"
    );
    // Friday before draft time, the weekend, Sunday night.
    for now in [
        "2026-11-20T07:00:00+01:00",
        "2026-11-21T12:00:00+01:00",
        "2026-11-22T23:00:00+01:00",
    ] {
        let out = nudge.sync(now);
        assert_eq!(drafts(&mut client).await, 0, "no draft at {now}: {out}");
    }
    assert_eq!(
        nudge.conversation("Tilbud på rammeavtale").unwrap()["state"],
        "waiting"
    );
    let out = nudge.sync("2026-11-23T08:30:00+01:00");
    assert_eq!(drafts(&mut client).await, 1, "Monday morning: {out}");
}

#[tokio::test]
async fn an_overdue_draft_over_easter_waits_for_the_next_business_day() {
    let (_d, nudge, mut client) = world("").await;
    // Due Tuesday 31 March 2026 at 08:30; nudge last ran the Thursday before. Maundy
    // Thursday, Good Friday and Easter Monday are Norwegian holidays.
    ingrid(&mut client, "Thu, 26 Mar 2026 10:00:00 +0100").await;
    nudge.sync("2026-03-26T12:00:00+01:00");
    for now in [
        "2026-04-02T10:00:00+02:00",
        "2026-04-03T09:00:00+02:00",
        "2026-04-04T00:05:00+02:00",
        "2026-04-06T09:00:00+02:00",
    ] {
        let out = nudge.sync(now);
        assert_eq!(drafts(&mut client).await, 0, "no draft at {now}: {out}");
    }
    let out = nudge.sync("2026-04-07T08:30:00+02:00");
    assert_eq!(drafts(&mut client).await, 1, "{out}");
}

#[tokio::test]
async fn quiet_after_ends_the_drafting_day() {
    let (_d, nudge, mut client) = world("[cadence]\nquiet_after = \"16:00\"\n").await;
    ingrid(&mut client, "Mon, 16 Nov 2026 10:00:00 +0100").await;
    let out = nudge.sync("2026-11-19T16:00:00+01:00");
    assert_eq!(drafts(&mut client).await, 0, "{out}");
    let out = nudge.sync("2026-11-19T15:59:00+01:00");
    assert_eq!(drafts(&mut client).await, 1, "before quiet_after: {out}");
}

#[test]
fn quiet_after_must_come_after_draft_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = "[account]\nemail = \"kari@fjordsalg.no\"\nname = \"Kari\"\ntimezone = \"Europe/Oslo\"\n\n\
                [imap]\nhost = \"imap.example.com\"\nusername = \"kari@fjordsalg.no\"\npassword_env = \"X\"\n\n\
                [cadence]\ndraft_time = \"08:30\"\nquiet_after = \"08:00\"\n";
    std::fs::write(&path, text).unwrap();
    let error = nudge::config::Config::load(&path).unwrap_err().to_string();
    assert!(error.contains("cadence.quiet_after"), "{error}");
    assert!(error.contains("line 13"), "{error}");
    for bad in ["\"8.00\"", "\"25:00\"", "18"] {
        std::fs::write(&path, text.replace("\"08:00\"", bad)).unwrap();
        let error = nudge::config::Config::load(&path).unwrap_err().to_string();
        assert!(error.contains("cadence.quiet_after"), "{bad}: {error}");
    }
    // "24:00": no evening limit.
    std::fs::write(&path, text.replace("\"08:00\"", "\"24:00\"")).unwrap();
    nudge::config::Config::load(&path).expect("24:00 is the end of the day");
}

#[tokio::test]
async fn a_snooze_ending_on_a_saturday_moves_to_monday_at_draft_time() {
    let (_d, nudge, mut client) = world("").await;
    ingrid(&mut client, "Mon, 16 Nov 2026 10:00:00 +0100").await;
    nudge.sync("2026-11-17T09:00:00+01:00");
    let id = nudge.conversation("Tilbud").unwrap()["id"].to_string();
    // Three days from Wednesday 18 November is Saturday 21 November.
    let said = ok(nudge.run(&["snooze", &id, "3d", "--now", "2026-11-18T10:00:00+01:00"]));
    assert!(said.contains("2026-11-23"), "{said}");
    nudge.sync("2026-11-18T10:05:00+01:00");
    assert_eq!(
        nudge.conversation("Tilbud").unwrap()["next_due"],
        "2026-11-23T07:30:00Z"
    );
    for now in ["2026-11-21T09:00:00+01:00", "2026-11-22T12:00:00+01:00"] {
        let out = nudge.sync(now);
        assert_eq!(drafts(&mut client).await, 0, "no draft at {now}: {out}");
    }
    nudge.sync("2026-11-23T08:30:00+01:00");
    assert_eq!(drafts(&mut client).await, 1);
}

#[tokio::test]
async fn a_snooze_until_a_holiday_moves_to_the_next_business_day() {
    let (_d, nudge, mut client) = world("").await;
    ingrid(&mut client, "Mon, 23 Mar 2026 10:00:00 +0100").await;
    nudge.sync("2026-03-24T09:00:00+01:00");
    let id = nudge.conversation("Tilbud").unwrap()["id"].to_string();
    // Good Friday; Easter Monday is a holiday too.
    let said = ok(nudge.run(&[
        "snooze",
        &id,
        "2026-04-03",
        "--now",
        "2026-03-24T10:00:00+01:00",
    ]));
    assert!(said.contains("2026-04-07"), "{said}");
    nudge.sync("2026-04-03T09:00:00+02:00");
    assert_eq!(drafts(&mut client).await, 0, "not on Good Friday");
    assert_eq!(
        nudge.conversation("Tilbud").unwrap()["next_due"],
        "2026-04-07T06:30:00Z"
    );
    nudge.sync("2026-04-06T09:00:00+02:00");
    assert_eq!(drafts(&mut client).await, 0, "not on Easter Monday");
    nudge.sync("2026-04-07T08:30:00+02:00");
    assert_eq!(drafts(&mut client).await, 1);
}

#[tokio::test]
async fn an_out_of_office_return_date_on_a_holiday_moves_to_the_next_business_day() {
    let (_d, nudge, mut client) = world("").await;
    ingrid(&mut client, "Mon, 30 Mar 2026 10:00:00 +0200").await;
    // Back on Maundy Thursday, a Norwegian holiday like Good Friday and Easter Monday.
    let ooo = Message {
        from: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
        to: "Kari Nordmann <kari@fjordsalg.no>",
        subject: "Automatisk svar: Tilbud på rammeavtale",
        message_id: "ooo@fjordkraft.no",
        in_reply_to: Some("a1@fjordsalg.no"),
        date: "Mon, 30 Mar 2026 10:00:05 +0200",
        body: "Jeg er på ferie og er tilbake torsdag 02.04.2026. Haster det, ring sentralbordet.",
        extra: "Auto-Submitted: auto-replied",
    };
    client.append("INBOX", &ooo.render(), &[]).await;
    nudge.sync("2026-03-30T12:00:00+02:00");
    assert_eq!(
        nudge.conversation("Tilbud").unwrap()["next_due"],
        "2026-04-07T06:30:00Z",
        "Tuesday after Easter, at 08:30"
    );
    for now in [
        "2026-04-02T09:00:00+02:00",
        "2026-04-03T09:00:00+02:00",
        "2026-04-06T09:00:00+02:00",
    ] {
        let out = nudge.sync(now);
        assert_eq!(drafts(&mut client).await, 0, "no draft at {now}: {out}");
    }
    nudge.sync("2026-04-07T08:30:00+02:00");
    assert_eq!(drafts(&mut client).await, 1);
}

#[tokio::test]
async fn lookback_bounds_only_the_first_start() {
    let (_d, nudge, mut client) = world("").await;
    // First start on Monday 2 November 2026; an opener from long before is left alone.
    per(&mut client, "Mon, 5 Oct 2026 10:00:00 +0200").await;
    nudge.sync("2026-11-02T09:00:00+01:00");
    assert!(nudge.conversation("Tilbud på service").is_none());
    // Kari writes on Wednesday, then the laptop stays off for three weeks.
    ingrid(&mut client, "Wed, 4 Nov 2026 10:00:00 +0100").await;
    let out = nudge.sync("2026-11-25T09:00:00+01:00");
    let c = nudge
        .conversation("Tilbud på rammeavtale")
        .unwrap_or_else(|| panic!("tracked after the break: {out}"));
    assert_eq!(c["state"], "drafted", "{out}");
    assert_eq!(drafts(&mut client).await, 1);
    assert!(
        nudge.conversation("Tilbud på service").is_none(),
        "still older than the lookback at first start"
    );
}

#[tokio::test]
async fn a_new_store_applies_the_lookback_from_its_own_first_start() {
    let (_d, nudge, mut client) = world("").await;
    ingrid(&mut client, "Wed, 4 Nov 2026 10:00:00 +0100").await;
    nudge.sync("2026-11-05T09:00:00+01:00");
    assert!(nudge.conversation("Tilbud på rammeavtale").is_some());
    // The store is reset three weeks later: a first start again.
    nudge.reset_store().await;
    nudge.sync("2026-11-26T09:00:00+01:00");
    assert!(
        nudge.conversation("Tilbud på rammeavtale").is_none(),
        "older than lookback_days at this first start"
    );
}

/// The model of the time rules: random configurations (time zones with daylight-saving
/// changes, holidays, time away, daily limits, drafting hours) and random passes over a year,
/// through the pure planner, with the seller sending drafts at any hour. No draft is ever
/// made outside business days × [draft_time, quiet_after) on the seller's clock.
///
/// The case count and seed are fixed so a run is repeatable; set `NUDGE_PROPTEST_SEED` to try
/// another seed.
mod model {
    use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
    use chrono_tz::Tz;
    use nudge::cadence::Calendar;
    use nudge::config::{Away, CadenceConfig, Country, DayEnd, OnDismiss, Step};
    use nudge::model::{Conversation, Message, State};
    use nudge::rules::machine::{self, Transition};
    use nudge::schedule::{Cadence, DueKind};
    use proptest::prelude::*;
    use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestRunner};

    const CASES: u32 = 160;

    /// Zones with daylight-saving changes at 01:00 UTC, at 02:00 local, at midnight
    /// (Santiago), in the southern hemisphere (Sydney), and none.
    const ZONES: &[Tz] = &[
        chrono_tz::Europe::Oslo,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Sydney,
        chrono_tz::Europe::London,
        chrono_tz::America::Santiago,
        chrono_tz::Asia::Tokyo,
    ];

    const COUNTRIES: &[Country] = &[
        Country::NO,
        Country::SE,
        Country::DK,
        Country::FI,
        Country::DE,
        Country::GB,
        Country::US,
    ];

    /// Times of day around the changes (02:00–03:00 local in Europe and the US, midnight in
    /// Santiago) and ordinary ones.
    const EDGE_MINUTES: &[u32] = &[0, 30, 60, 90, 120, 135, 150, 179, 180, 510, 1410];

    #[derive(Debug, Clone)]
    struct Spec {
        /// Minutes from the start of the run (before it: tracked earlier).
        touch: i64,
        /// 0 waiting, 1 snoozed, 2 closing.
        state: u8,
        step: u32,
        /// Days from the start.
        out_of_office: Option<i64>,
        /// Minutes from the start.
        snoozed: Option<i64>,
    }

    #[derive(Debug, Clone)]
    struct World {
        zone: usize,
        countries: Vec<usize>,
        /// 0 Monday–Friday, 1 Sunday–Thursday, 2 every day, 3 Monday–Saturday.
        week: u8,
        /// (day of the run, length in days).
        away: Vec<(i64, i64)>,
        extra_days_off: Vec<i64>,
        daily_limit: u32,
        draft_minutes: u32,
        /// Minutes after draft time; past midnight is "24:00".
        open_minutes: u32,
        steps: Vec<u32>,
        let_go: u32,
        /// Minutes from 2026-01-01 00:00 UTC.
        start: i64,
        conversations: Vec<Spec>,
        /// Minutes between passes.
        gaps: Vec<i64>,
        /// Minutes from a draft until the seller sends it (none: it stays in Drafts).
        sends: Vec<Option<i64>>,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            -60 * 24 * 40i64..60 * 24 * 300,
            0u8..3,
            0u32..3,
            prop::option::of(-5i64..300),
            prop::option::of(0i64..60 * 24 * 300),
        )
            .prop_map(|(touch, state, step, out_of_office, snoozed)| Spec {
                touch,
                state,
                step,
                out_of_office,
                snoozed,
            })
    }

    fn world() -> impl Strategy<Value = World> {
        let calendar = (
            0..ZONES.len(),
            prop::collection::vec(0..COUNTRIES.len(), 0..3),
            prop_oneof![6 => Just(0u8), 1 => Just(1u8), 2 => Just(2u8), 1 => Just(3u8)],
            prop::collection::vec((0i64..365, 1i64..25), 0..3),
            prop::collection::vec(0i64..365, 0..4),
        );
        let hours = (
            1u32..6,
            prop_oneof![
                1 => (0u32..1439).boxed(),
                1 => prop::sample::select(EDGE_MINUTES).boxed()
            ],
            prop_oneof![
                3 => 1u32..720,
                1 => 1u32..1440,
                1 => prop::sample::select(vec![1u32, 30, 60, 90]),
            ],
            prop::collection::vec(1u32..12, 1..4),
            1u32..12,
        );
        let run = (
            0i64..60 * 24 * 365,
            prop::collection::vec(spec(), 1..14),
            prop::collection::vec(
                prop_oneof![
                    3 => 1i64..120,
                    3 => 60i64..60 * 30,
                    2 => 60 * 24i64..60 * 24 * 16
                ],
                40..160,
            ),
            prop::collection::vec(
                prop_oneof![4 => (0i64..60 * 24 * 6).prop_map(Some), 1 => Just(None)],
                1..6,
            ),
        );
        (calendar, hours, run).prop_map(
            |(
                (zone, countries, week, away, extra_days_off),
                (daily_limit, draft_minutes, open_minutes, steps, let_go),
                (start, conversations, gaps, sends),
            )| World {
                zone,
                countries,
                week,
                away,
                extra_days_off,
                daily_limit,
                draft_minutes: draft_minutes.min(1438),
                open_minutes,
                steps,
                let_go,
                start,
                conversations,
                gaps,
                sends,
            },
        )
    }

    fn year_start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn day(offset: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Duration::days(offset)
    }

    fn minutes(m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap()
    }

    fn setup(w: &World) -> (Calendar, CadenceConfig) {
        use Weekday::*;
        let workdays = match w.week {
            0 => vec![Mon, Tue, Wed, Thu, Fri],
            1 => vec![Sun, Mon, Tue, Wed, Thu],
            2 => vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun],
            _ => vec![Mon, Tue, Wed, Thu, Fri, Sat],
        };
        let countries: Vec<Country> = w.countries.iter().map(|&i| COUNTRIES[i]).collect();
        let extra: Vec<NaiveDate> = w.extra_days_off.iter().map(|&d| day(d)).collect();
        let away: Vec<Away> = w
            .away
            .iter()
            .map(|&(from, length)| Away {
                from: day(from),
                to: day(from + length - 1),
            })
            .collect();
        let quiet = w.draft_minutes + w.open_minutes;
        let config = CadenceConfig {
            draft_time: minutes(w.draft_minutes),
            quiet_after: if quiet >= 1440 {
                DayEnd::EndOfDay
            } else {
                DayEnd::At(minutes(quiet))
            },
            daily_limit: w.daily_limit,
            holidays: countries.clone(),
            extra_holidays: extra.clone(),
            away: away.clone(),
            on_dismiss: OnDismiss::Stop,
            steps: w
                .steps
                .iter()
                .enumerate()
                .map(|(i, &days)| Step {
                    after_business_days: days,
                    template: format!("step-{i}"),
                })
                .collect(),
            let_go_after_business_days: w.let_go,
            workdays: workdays.clone(),
        };
        let calendar = Calendar::new(ZONES[w.zone], workdays, countries, extra, away);
        (calendar, config)
    }

    /// The rule itself, read off the seller's clock: a business day, at or after draft time,
    /// before quiet_after.
    fn open_on_the_clock(calendar: &Calendar, config: &CadenceConfig, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&calendar.zone());
        calendar.is_business_day(local.date_naive())
            && local.time() >= config.draft_time
            && config.quiet_after.is_after(local.time())
    }

    fn conversations(w: &World, steps_total: u32) -> Vec<Conversation> {
        let start = year_start() + Duration::minutes(w.start);
        w.conversations
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let touch = start + Duration::minutes(spec.touch);
                let mut c = Conversation::new(i as i64 + 1, "", vec![], touch, None);
                c.id = i as i64 + 1;
                match spec.state {
                    0 => c.step = spec.step.min(steps_total - 1),
                    1 => {
                        c.state = State::Snoozed;
                        c.step = spec.step.min(steps_total - 1);
                    }
                    _ => {
                        c.state = State::Closing;
                        c.step = steps_total;
                    }
                }
                c.not_before = spec
                    .out_of_office
                    .map(|d| start.date_naive() + Duration::days(d));
                c.snoozed_until = spec.snoozed.map(|m| start + Duration::minutes(m));
                c
            })
            .collect()
    }

    fn check(w: &World) -> Result<(), TestCaseError> {
        let (calendar, config) = setup(w);
        let cadence = Cadence {
            calendar: &calendar,
            config: &config,
        };
        let steps_total = config.steps.len() as u32;
        let mut conversations = conversations(w, steps_total);
        // When each draft was made, and when the seller sends the waiting ones.
        let mut made: Vec<DateTime<Utc>> = Vec::new();
        let mut sends: Vec<(i64, DateTime<Utc>)> = Vec::new();
        let mut now = year_start() + Duration::minutes(w.start);
        let mut message_id = 100;
        for (pass, gap) in w.gaps.iter().enumerate() {
            now += Duration::minutes(*gap);
            // The seller sent drafts since the last pass, at any hour of any day.
            sends.sort_by_key(|(_, at)| *at);
            while let Some(&(id, at)) = sends.first().filter(|(_, at)| *at <= now) {
                sends.remove(0);
                message_id += 1;
                let message = Message {
                    id: message_id,
                    date: at,
                    arrived: at,
                    ..Message::default()
                };
                if let Some(c) = conversations.iter_mut().find(|c| c.id == id) {
                    let outcome = machine::apply(
                        c,
                        Transition::Touch {
                            message: &message,
                            prospects: vec![],
                            steps_total,
                        },
                    );
                    *c = outcome.next;
                }
            }
            // Every follow-up is due at a moment drafting is open.
            for c in &conversations {
                if let Some(due) = cadence.next(c) {
                    if matches!(due.kind, DueKind::FollowUp { .. }) {
                        prop_assert!(
                            open_on_the_clock(&calendar, &config, due.at),
                            "#{} due at {} ({})",
                            c.id,
                            due.at,
                            due.at.with_timezone(&calendar.zone())
                        );
                    }
                }
            }
            let open: Vec<Conversation> = conversations
                .iter()
                .filter(|c| c.state.is_open())
                .cloned()
                .collect();
            let today = cadence.start_of_day(now);
            let made_today = made.iter().filter(|&&at| at >= today).count() as u32;
            let plan = cadence.plan(&open, now, made_today);
            let local = now.with_timezone(&calendar.zone());
            if !plan.drafts.is_empty() {
                prop_assert!(
                    open_on_the_clock(&calendar, &config, now),
                    "pass {pass}: {} drafts at {local}",
                    plan.drafts.len()
                );
            }
            prop_assert!(made_today + plan.drafts.len() as u32 <= config.daily_limit);
            if cadence.may_draft_at(now) {
                prop_assert!(open_on_the_clock(&calendar, &config, now), "{local}");
            }
            if let Some(wake) = plan.next_wake {
                prop_assert!(wake > now, "pass {pass}: wakes at {wake}, now {now}");
            }
            if plan.held_back + plan.deferred > 0 {
                prop_assert!(plan.deferred == 0 || plan.drafts.is_empty());
                let until = plan.waiting_until.expect("a waiting draft has a time");
                prop_assert!(until > now);
                prop_assert!(plan.next_wake.is_some_and(|wake| wake <= until));
                prop_assert!(
                    open_on_the_clock(&calendar, &config, until),
                    "pass {pass}: waits for {}",
                    until.with_timezone(&calendar.zone())
                );
                if plan.held_back > 0 {
                    prop_assert!(
                        calendar.local_date(until) > local.date_naive(),
                        "the daily limit holds drafts until another day"
                    );
                }
                // Nothing opens earlier.
                let span = until - now;
                for k in 0..24 {
                    let probe = now + span * k / 24;
                    prop_assert!(
                        plan.held_back > 0 || !cadence.may_draft_at(probe),
                        "opens at {probe} before {until}"
                    );
                }
                prop_assert!(!cadence.may_draft_at(until - Duration::seconds(1)));
            } else {
                // Whatever is due and allowed is made.
                let due = open.iter().filter(|c| {
                    cadence
                        .next(c)
                        .is_some_and(|d| d.at <= now && matches!(d.kind, DueKind::FollowUp { .. }))
                });
                prop_assert_eq!(due.count(), plan.drafts.len());
            }
            for (id, due) in &plan.drafts {
                prop_assert!(due.at <= now);
                made.push(now);
                let Some(c) = conversations.iter_mut().find(|c| c.id == *id) else {
                    continue;
                };
                let DueKind::FollowUp { step, .. } = due.kind else {
                    continue;
                };
                let outcome = machine::apply(
                    c,
                    Transition::Drafted {
                        step,
                        description: String::new(),
                        language: "nb".into(),
                    },
                );
                *c = outcome.next;
                let delay = w.sends[(*id as usize + made.len()) % w.sends.len()];
                if let Some(minutes) = delay {
                    sends.push((*id, now + Duration::minutes(minutes)));
                }
            }
            for id in &plan.let_go {
                if let Some(c) = conversations.iter_mut().find(|c| c.id == *id) {
                    *c = machine::apply(c, Transition::LetGo).next;
                }
            }
        }
        Ok(())
    }

    fn runner(cases: u32) -> (TestRunner, u64) {
        let seed: u64 = std::env::var("NUDGE_PROPTEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x7469_6d65);
        let config = ProptestConfig {
            cases,
            rng_seed: RngSeed::Fixed(seed),
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        (TestRunner::new(config), seed)
    }

    #[test]
    fn no_draft_is_ever_made_outside_business_days_between_draft_time_and_quiet_after() {
        let (mut runner, seed) = runner(CASES);
        if let Err(e) = runner.run(&world(), |w| check(&w)) {
            panic!("the time model failed with NUDGE_PROPTEST_SEED={seed}: {e}");
        }
    }

    /// The instants of 2026 at which `zone`'s offset from UTC changes.
    fn changes(zone: Tz) -> Vec<DateTime<Utc>> {
        use chrono::Offset;
        let offset = |at: DateTime<Utc>| at.with_timezone(&zone).offset().fix();
        let mut found = Vec::new();
        let mut at = year_start();
        while at < year_start() + Duration::days(366) {
            let next = at + Duration::hours(1);
            if offset(at) != offset(next) {
                // To the minute.
                let change = (1..=60)
                    .map(|m| at + Duration::minutes(m))
                    .find(|&m| offset(m) != offset(at))
                    .unwrap_or(next);
                found.push(change);
            }
            at = next;
        }
        found
    }

    /// Around every daylight-saving change of the year, minute by minute: drafting is open
    /// only when the seller's clock allows it, and it opens at the first such minute.
    #[test]
    fn drafting_opens_at_the_first_allowed_minute_around_daylight_saving_changes() {
        let mut cases = Vec::new();
        for (zone_index, &zone) in ZONES.iter().enumerate() {
            for change in changes(zone) {
                cases.push((zone_index, change));
            }
        }
        assert!(
            cases.len() >= 10,
            "the zones change their clocks: {cases:?}"
        );
        let strategy = (
            prop::sample::select(cases),
            -36i64 * 60..36 * 60,
            prop::sample::select(EDGE_MINUTES),
            prop_oneof![
                1u32..240,
                prop::sample::select(vec![1u32, 29, 30, 60, 90, 1440])
            ],
            // Or drafting closes at one of the edge times itself.
            prop::option::of(prop::sample::select(EDGE_MINUTES)),
            prop_oneof![Just(2u8), Just(0u8)],
        );
        let (mut runner, seed) = runner(600);
        let result = runner.run(
            &strategy,
            |((zone, change), offset, draft_minutes, open_minutes, closes, week)| {
                let draft_minutes = draft_minutes.min(1438);
                let open_minutes = match closes {
                    Some(closes) if closes > draft_minutes => closes - draft_minutes,
                    _ => open_minutes,
                };
                let w = World {
                    zone,
                    countries: vec![],
                    week,
                    away: vec![],
                    extra_days_off: vec![],
                    daily_limit: 3,
                    draft_minutes,
                    open_minutes,
                    steps: vec![1],
                    let_go: 1,
                    start: 0,
                    conversations: vec![],
                    gaps: vec![],
                    sends: vec![None],
                };
                let (calendar, config) = setup(&w);
                let cadence = Cadence {
                    calendar: &calendar,
                    config: &config,
                };
                let from = change + Duration::minutes(offset);
                let opens = cadence.next_drafting_moment(from);
                prop_assert!(opens >= from);
                prop_assert!(
                    open_on_the_clock(&calendar, &config, opens),
                    "opens at {}",
                    opens.with_timezone(&calendar.zone())
                );
                // Two days minute by minute: open only when the clock allows it, and from
                // any minute drafting next opens at the first open minute.
                let minutes: Vec<DateTime<Utc>> =
                    (0..48 * 60).map(|m| from + Duration::minutes(m)).collect();
                let open: Vec<bool> = minutes.iter().map(|&m| cadence.may_draft_at(m)).collect();
                let mut first_open: Vec<Option<DateTime<Utc>>> = vec![None; minutes.len()];
                let mut next = None;
                for i in (0..minutes.len()).rev() {
                    if open[i] {
                        prop_assert!(open_on_the_clock(&calendar, &config, minutes[i]));
                        next = Some(minutes[i]);
                    }
                    first_open[i] = next;
                }
                for i in (0..minutes.len()).step_by(7) {
                    if let Some(expected) = first_open[i] {
                        prop_assert_eq!(
                            cadence.next_drafting_moment(minutes[i]),
                            expected,
                            "from {}",
                            minutes[i].with_timezone(&calendar.zone())
                        );
                    }
                }
                prop_assert_eq!(
                    Some(opens).filter(|&o| o < minutes[minutes.len() - 1]),
                    first_open[0]
                );
                // A conversation due before `from`: drafted at `opens`, not before.
                let mut c = Conversation::new(1, "", vec![], from - Duration::days(10), None);
                c.id = 1;
                let due = cadence.next(&c).expect("due");
                prop_assert!(open_on_the_clock(&calendar, &config, due.at));
                let plan = cadence.plan(std::slice::from_ref(&c), from, 0);
                prop_assert_eq!(plan.drafts.is_empty(), opens > from);
                if opens > from {
                    prop_assert_eq!(plan.waiting_until, Some(opens));
                    prop_assert_eq!(plan.next_wake, Some(opens));
                }
                Ok(())
            },
        );
        if let Err(e) = result {
            panic!("the daylight-saving model failed with NUDGE_PROPTEST_SEED={seed}: {e}");
        }
    }
}
