//! The weekly summary (SPEC 8): the numbers of the seven days before it is due, rendered with
//! Tera as plain text and HTML (auto-escaped), mailed to the seller, or appended to INBOX when
//! there is no SMTP server configured.
//!
//! Once per ISO week, never in the week nudge first started. Order, for at most once: the
//! week is recorded as `sending` before the mail goes out and `sent` after; a stop in between
//! leaves `sending`, and that week's summary is not sent again (a lost summary is better
//! than a duplicate flood after repeated crashes). An attempt that certainly did not reach
//! the server (no connection, TLS, login, a refusal: see [`crate::smtp::Undelivered`]) is
//! recorded with its error and tried again at the passes after it that week, waiting 5
//! minutes, then doubling up to an hour; one that may have delivered is never tried again.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::cadence::Calendar;
use crate::compose::draft::{month_name, strip_reply_prefixes, weekday_name};
use crate::compose::templates::tera_error_text;
use crate::config::{Config, Language};
use crate::display::neutralise;
use crate::error::{Error, Result};
use crate::model::{Conversation, EventKind, State};
use crate::store::Store;

/// Counts at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Numbers {
    pub tracked: u32,
    pub new_this_week: u32,
    pub replies: u32,
    pub drafts_waiting: u32,
    pub let_go: u32,
    pub bounced: u32,
    pub opted_out: u32,
    pub dismissed: u32,
    pub came_back: u32,
}

/// The reply rate after one step of the cadence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rate {
    pub step: u32,
    pub is_close: bool,
    pub reached: u32,
    pub replied: u32,
    pub percent: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingDraft {
    pub subject: String,
    pub prospect: String,
    pub age_days: i64,
    pub step: u32,
    pub is_close: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replied {
    pub subject: String,
    pub prospect: String,
    pub after_step: u32,
    pub after_close: bool,
    pub came_back: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetGo {
    pub subject: String,
    pub prospect: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueNext {
    pub subject: String,
    pub prospect: String,
    pub due: String,
    pub step: u32,
    pub is_close: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingOnYou {
    pub subject: String,
    pub prospect: String,
    pub business_days: i64,
    /// The reply asks the seller something or asks for something to be done.
    pub asks: bool,
}

/// A prospect who asked to hear back later, and when nudge will draft the check-back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComingBack {
    pub subject: String,
    pub prospect: String,
    /// The prospect's own words.
    pub phrase: String,
    /// The day of the check-back, written the language's way.
    pub on: String,
}

/// A prospect who said "not now" without a time nudge could understand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotNow {
    pub subject: String,
    pub prospect: String,
    pub phrase: String,
}

/// Someone who has left, and the addresses the notice named instead: for the seller to
/// consider, never written to by nudge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewContacts {
    pub subject: String,
    /// Who left.
    pub prospect: String,
    /// The addresses named instead, joined by ", ".
    pub addresses: String,
}

/// A prospect's organisation a colleague of the seller's team wrote to lately (`[team]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Colleague {
    /// The seller's conversation with the organisation.
    pub subject: String,
    pub prospect: String,
    /// The colleague's address, and the organisation (its domain) they wrote to.
    pub colleague: String,
    pub organisation: String,
    /// When the colleague last wrote, as a short date in the seller's language.
    pub on: String,
}

/// At most this many entries in each list of the summary. A week with more is a busy one, and a
/// long list is read by nobody: Gmail clips a message whose HTML passes about 102 KB, and the
/// seller acts on the first few anyway. The rest is counted in [`Summary::more`] and shown as
/// "and N more"; the numbers at a glance ([`Numbers`]) always count everything.
pub const LIST_LIMIT: usize = 10;

/// At most this many characters of a subject or a prospect are shown: the rest is cut, with
/// "…". Subjects are written by strangers, and one of thousands of characters would fill the
/// summary on its own.
pub const SHOWN_CHARS: usize = 200;

/// How many entries of each list were left out, beyond [`LIST_LIMIT`]: 0 when the list is
/// whole. Templates show "and N more" under a list when its count is not 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct More {
    pub drafts_waiting: u32,
    pub replied: u32,
    pub let_go: u32,
    pub due_next_week: u32,
    pub waiting_on_you: u32,
    pub coming_back: u32,
    pub not_now: u32,
    pub new_contacts: u32,
    pub colleagues: u32,
}

/// Everything the summary templates see.
///
/// The lists come most useful first, and [`Summary::fit`] keeps the head of each:
/// - `drafts_waiting`: oldest first, the drafts going stale while the seller looks away;
/// - `replied` and `let_go`: latest first, the ones the seller is least likely to have seen;
/// - `due_next_week`: soonest first, the order they will arrive in Drafts;
/// - `waiting_on_you`: longest waiting first, the prospects most at risk of going cold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub seller_first_name: String,
    pub week: u32,
    /// "2026-W48", the store's key.
    #[serde(skip)]
    pub week_key: String,
    pub period: String,
    pub n: Numbers,
    pub rates: Vec<Rate>,
    pub drafts_waiting: Vec<WaitingDraft>,
    pub replied: Vec<Replied>,
    pub let_go: Vec<LetGo>,
    pub due_next_week: Vec<DueNext>,
    pub waiting_on_you: Vec<WaitingOnYou>,
    /// Prospects who asked to hear back later, soonest first.
    pub coming_back: Vec<ComingBack>,
    /// Prospects who said "not now" this week without a time.
    pub not_now: Vec<NotNow>,
    /// People who left this week, and whom their notices named instead.
    pub new_contacts: Vec<NewContacts>,
    /// Open conversations whose organisation a colleague of the team wrote to lately,
    /// latest first (empty without a team).
    pub colleagues: Vec<Colleague>,
    /// What each list leaves out.
    pub more: More,
}

impl Summary {
    /// Cuts every list to [`LIST_LIMIT`] entries, keeping the first ones, and adds what it
    /// leaves out to [`Summary::more`]. Doing it twice changes nothing.
    pub fn fit(&mut self) {
        self.fit_to(LIST_LIMIT);
    }

    /// [`Summary::fit`] to `limit` entries a list.
    pub fn fit_to(&mut self, limit: usize) {
        fn keep<T>(list: &mut Vec<T>, more: &mut u32, limit: usize) {
            let left_out = list.len().saturating_sub(limit);
            *more = more.saturating_add(u32::try_from(left_out).unwrap_or(u32::MAX));
            list.truncate(limit);
        }
        let more = &mut self.more;
        keep(&mut self.drafts_waiting, &mut more.drafts_waiting, limit);
        keep(&mut self.replied, &mut more.replied, limit);
        keep(&mut self.let_go, &mut more.let_go, limit);
        keep(&mut self.due_next_week, &mut more.due_next_week, limit);
        keep(&mut self.waiting_on_you, &mut more.waiting_on_you, limit);
        keep(&mut self.coming_back, &mut more.coming_back, limit);
        keep(&mut self.not_now, &mut more.not_now, limit);
        keep(&mut self.new_contacts, &mut more.new_contacts, limit);
        keep(&mut self.colleagues, &mut more.colleagues, limit);
    }

    /// A realistic week, for previews, the README's picture and tests of the rendering.
    pub fn sample() -> Summary {
        let s = |t: &str| t.to_string();
        Summary {
            seller_first_name: s("Kari"),
            week: 48,
            week_key: s("2026-W48"),
            period: s("16–22 November 2026"),
            n: Numbers {
                tracked: 23,
                new_this_week: 6,
                replies: 4,
                drafts_waiting: 3,
                let_go: 1,
                bounced: 1,
                opted_out: 0,
                dismissed: 1,
                came_back: 1,
            },
            rates: vec![
                Rate {
                    step: 0,
                    is_close: false,
                    reached: 52,
                    replied: 11,
                    percent: 21,
                },
                Rate {
                    step: 1,
                    is_close: false,
                    reached: 31,
                    replied: 9,
                    percent: 29,
                },
                Rate {
                    step: 2,
                    is_close: false,
                    reached: 17,
                    replied: 3,
                    percent: 18,
                },
                Rate {
                    step: 3,
                    is_close: true,
                    reached: 9,
                    replied: 4,
                    percent: 44,
                },
            ],
            drafts_waiting: vec![
                WaitingDraft {
                    subject: s("Tilbud på rammeavtale"),
                    prospect: s("ingrid.berg@fjordkraft.no"),
                    age_days: 2,
                    step: 1,
                    is_close: false,
                },
                WaitingDraft {
                    subject: s("Offert på licenser"),
                    prospect: s("anna.svensson@nordichandel.se"),
                    age_days: 1,
                    step: 2,
                    is_close: false,
                },
                WaitingDraft {
                    subject: s("Proposal for your site team"),
                    prospect: s("james.wright@thamesbuild.co.uk"),
                    age_days: 0,
                    step: 3,
                    is_close: true,
                },
            ],
            replied: vec![
                Replied {
                    subject: s("Tilbud på flådestyring"),
                    prospect: s("mette.jensen@dansktransport.dk"),
                    after_step: 1,
                    after_close: false,
                    came_back: false,
                },
                Replied {
                    subject: s("Angebot für Ihre Niederlassung"),
                    prospect: s("k.weber@bergbau-gmbh.de"),
                    after_step: 3,
                    after_close: true,
                    came_back: true,
                },
            ],
            let_go: vec![LetGo {
                subject: s("Demo av plattformen"),
                prospect: s("ola.hansen@gmail.com"),
            }],
            due_next_week: vec![DueNext {
                subject: s("Servicetilbud 2027"),
                prospect: s("per@nordlys.no"),
                due: s("Tue 24 Nov"),
                step: 1,
                is_close: false,
            }],
            waiting_on_you: vec![WaitingOnYou {
                subject: s("Spørsmål om prisen"),
                prospect: s("siri@havbruk.no"),
                business_days: 3,
                asks: true,
            }],
            coming_back: vec![ComingBack {
                subject: s("Rammeavtale for 2027"),
                prospect: s("tor@fjellbygg.no"),
                phrase: s("ta kontakt igjen etter ferien"),
                on: s("2. august"),
            }],
            not_now: vec![NotNow {
                subject: s("Demo av plattformen"),
                prospect: s("liv@tromsosjomat.no"),
                phrase: s("ikke akkurat nå"),
            }],
            new_contacts: vec![NewContacts {
                subject: s("Tilbud på kjølelager"),
                prospect: s("ola@kystfisk.no"),
                addresses: s("per.olsen@kystfisk.no"),
            }],
            colleagues: vec![Colleague {
                subject: s("Tilbud på rammeavtale"),
                prospect: s("ingrid.berg@fjordkraft.no"),
                colleague: s("ola@fjordsalg.no"),
                organisation: s("fjordkraft.no"),
                on: s("Thu 19 Nov"),
            }],
            more: More::default(),
        }
    }
}

/// When this week's summary is due (local weekday and time), as an instant.
pub fn due_this_week(config: &Config, calendar: &Calendar, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = calendar.local_date(now);
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let day = monday + Duration::days(i64::from(config.summary.weekday.num_days_from_monday()));
    calendar.at_local(day, config.summary.time)
}

/// The ISO week key of a local date: "2026-W48".
pub fn week_key(date: NaiveDate) -> String {
    let week = date.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

fn prospect_of(c: &Conversation) -> String {
    c.prospects.first().cloned().unwrap_or_default()
}

/// Computes the summary due at `due` (covering the seven days before it).
pub async fn compute(
    store: &Store,
    config: &Config,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Summary> {
    let calendar = Calendar::from_config(config);
    let zone = config.account.timezone;
    let language = config.account.language;
    let from = due - Duration::days(7);
    let conversations = store.conversations().await?;
    let by_id = |id: i64| conversations.iter().find(|c| c.id == id);
    let steps = config.cadence.steps.len() as u32;
    let events = store.events_between(from, due).await?;
    let mut n = Numbers::default();
    let mut replied = Vec::new();
    let mut let_go = Vec::new();
    for (id, event) in &events {
        let Some(c) = by_id(*id) else { continue };
        match event.kind {
            EventKind::Tracked => n.new_this_week += 1,
            EventKind::Reply => {
                n.replies += 1;
                let came_back = event.detail.contains("came back after close");
                n.came_back += u32::from(came_back);
                // The step the reply came after, as recorded then: the seller may have
                // answered since and the conversation started over.
                let after_step = event.step.or(c.replied_after_step).unwrap_or(c.step);
                replied.push(Replied {
                    subject: strip_reply_prefixes(&c.subject),
                    prospect: prospect_of(c),
                    after_step,
                    after_close: after_step >= steps,
                    came_back,
                });
            }
            EventKind::LetGo => {
                n.let_go += 1;
                let_go.push(LetGo {
                    subject: strip_reply_prefixes(&c.subject),
                    prospect: prospect_of(c),
                });
            }
            EventKind::Bounce => n.bounced += 1,
            EventKind::OptOut => n.opted_out += 1,
            EventKind::Dismissed => n.dismissed += 1,
            _ => {}
        }
    }
    n.tracked = conversations.iter().filter(|c| c.state.is_open()).count() as u32;

    let mut waiting = store.waiting_drafts().await?;
    waiting.sort_by_key(|d| (d.created_at, d.id));
    let mut drafts_waiting = Vec::new();
    for draft in waiting {
        let Some(c) = by_id(draft.conversation_id) else {
            continue;
        };
        drafts_waiting.push(WaitingDraft {
            subject: strip_reply_prefixes(&c.subject),
            prospect: prospect_of(c),
            age_days: (now - draft.created_at).num_days().max(0),
            step: draft.step,
            is_close: draft.step >= steps,
        });
    }
    n.drafts_waiting = drafts_waiting.len() as u32;

    // Reply rate by step, over every conversation nudge has followed. The history keeps the
    // step of each touch and reply, so a conversation that started over still counts.
    let epoch = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or(from);
    let history = store.events_between(epoch, due).await?;
    let mut reached: HashMap<i64, u32> = conversations
        .iter()
        .map(|c| (c.id, c.replied_after_step.unwrap_or(c.step)))
        .collect();
    let mut answered: HashSet<(i64, u32)> = conversations
        .iter()
        .filter_map(|c| c.replied_after_step.map(|s| (c.id, s)))
        .collect();
    for (id, event) in &history {
        let Some(step) = event.step else { continue };
        // A draft the seller has not sent (or deleted) reached nobody.
        if matches!(event.kind, EventKind::Drafted | EventKind::Dismissed) {
            continue;
        }
        let max = reached.entry(*id).or_insert(step);
        *max = (*max).max(step);
        if event.kind == EventKind::Reply {
            answered.insert((*id, step));
        }
    }
    let mut rates = Vec::new();
    for step in 0..=steps {
        let reached = reached.values().filter(|&&s| s >= step).count() as u32;
        let answered = answered.iter().filter(|(_, s)| *s == step).count() as u32;
        rates.push(Rate {
            step,
            is_close: step == steps && step > 0,
            reached,
            replied: answered,
            percent: (answered * 100).checked_div(reached).unwrap_or(0),
        });
    }

    let week_end = now + Duration::days(7);
    let mut due_next_week: Vec<(DateTime<Utc>, DueNext)> = conversations
        .iter()
        .filter(|c| matches!(c.state, State::Waiting | State::Snoozed))
        .filter_map(|c| c.next_due.filter(|d| *d < week_end).map(|d| (d, c)))
        .map(|(d, c)| {
            let step = c.step + 1;
            (
                d,
                DueNext {
                    subject: strip_reply_prefixes(&c.subject),
                    prospect: prospect_of(c),
                    due: short_date(d.with_timezone(&zone).date_naive(), language),
                    step,
                    is_close: step >= steps,
                },
            )
        })
        .collect();
    due_next_week.sort_by_key(|(d, _)| *d);

    let today = calendar.local_date(now);
    let recent = now - Duration::days(i64::from(config.summary.waiting_on_you_days));
    let mut waiting_on_you: Vec<(bool, WaitingOnYou)> = conversations
        .iter()
        .filter(|c| matches!(c.state, State::Replied | State::Stopped))
        .filter_map(|c| {
            let inbound = c.last_inbound_at.filter(|i| *i > c.last_touch_at)?;
            let mut day = calendar.local_date(inbound);
            let mut days = 0;
            while day < today && days < 1000 {
                day = calendar.next_business_day_after(day);
                if day <= today {
                    days += 1;
                }
            }
            (days >= 2).then(|| {
                let entry = WaitingOnYou {
                    subject: strip_reply_prefixes(&c.subject),
                    prospect: prospect_of(c),
                    business_days: days,
                    asks: c.heard.asks,
                };
                (inbound >= recent, entry)
            })
        })
        .collect();
    // A recent reply that asks something first (the seller owes an answer), then the other
    // recent ones, then the older; longest waiting first within each.
    waiting_on_you.sort_by_key(|(recent, w)| {
        (
            !(*recent && w.asks),
            !*recent,
            std::cmp::Reverse(w.business_days),
        )
    });
    let waiting_on_you: Vec<WaitingOnYou> = waiting_on_you.into_iter().map(|(_, w)| w).collect();

    // What prospects said that nudge acts on (SPEC 15).
    let cadence = crate::schedule::Cadence {
        calendar: &calendar,
        config: &config.cadence,
    };
    let mut coming_back: Vec<(DateTime<Utc>, ComingBack)> = conversations
        .iter()
        .filter(|c| c.state == State::Deferred)
        .filter_map(|c| {
            let deferral = c.heard.deferral.as_ref()?;
            let at = cadence.next(c)?.at;
            Some((
                at,
                ComingBack {
                    subject: strip_reply_prefixes(&c.subject),
                    prospect: prospect_of(c),
                    phrase: deferral.phrase.clone(),
                    on: short_date(at.with_timezone(&zone).date_naive(), language),
                },
            ))
        })
        .collect();
    coming_back.sort_by_key(|(at, _)| *at);
    let this_week = |c: &Conversation| c.last_inbound_at.is_some_and(|i| i >= from && i < due);
    let not_now: Vec<NotNow> = conversations
        .iter()
        .filter(|c| matches!(c.state, State::Replied | State::Stopped) && this_week(c))
        .filter_map(|c| {
            let deferral = c.heard.deferral.as_ref().filter(|d| d.from.is_none())?;
            Some(NotNow {
                subject: strip_reply_prefixes(&c.subject),
                prospect: prospect_of(c),
                phrase: deferral.phrase.clone(),
            })
        })
        .collect();
    let new_contacts: Vec<NewContacts> = conversations
        .iter()
        .filter(|c| c.state == State::Departed && this_week(c))
        .filter_map(|c| {
            let departure = c
                .heard
                .departure
                .as_ref()
                .filter(|d| !d.replacements.is_empty())?;
            Some(NewContacts {
                subject: strip_reply_prefixes(&c.subject),
                prospect: prospect_of(c),
                addresses: departure.replacements.join(", "),
            })
        })
        .collect();
    let colleagues = colleagues_talking(store, config, &conversations, due).await?;
    // The events come oldest first.
    replied.reverse();
    let_go.reverse();

    let local_due = calendar.local_date(due);
    let first_day = calendar.local_date(from);
    let last_day = local_due - Duration::days(1);
    let mut summary = Summary {
        seller_first_name: config
            .account
            .name
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string(),
        week: local_due.iso_week().week(),
        week_key: week_key(local_due),
        period: period(first_day, last_day, language),
        n,
        rates,
        drafts_waiting,
        replied,
        let_go,
        due_next_week: due_next_week.into_iter().map(|(_, d)| d).collect(),
        waiting_on_you,
        coming_back: coming_back.into_iter().map(|(_, c)| c).collect(),
        not_now,
        new_contacts,
        colleagues,
        more: More::default(),
    };
    summary.fit();
    Ok(summary)
}

/// The open conversations whose organisation a colleague of the team wrote to within the
/// team's overlap (at least the week), latest first: who else is talking to them.
async fn colleagues_talking(
    store: &Store,
    config: &Config,
    conversations: &[Conversation],
    due: DateTime<Utc>,
) -> Result<Vec<Colleague>> {
    let Some(team) = &config.team else {
        return Ok(Vec::new());
    };
    let calendar = Calendar::from_config(config);
    let organisation = |address: &str| {
        crate::mail::address::organisation_domain(&crate::mail::address::domain(address))
    };
    let open: Vec<&Conversation> = conversations.iter().filter(|c| c.state.is_open()).collect();
    let mut organisations: Vec<String> = open
        .iter()
        .flat_map(|c| c.prospects.iter().map(|p| organisation(p)))
        .filter(|o| !o.is_empty())
        .collect();
    organisations.sort_unstable();
    organisations.dedup();
    let days = i64::from(team.overlap_days.max(5)) * 2 + 7;
    let mut touches = store
        .colleague_touches(&organisations, due - Duration::days(days))
        .await?;
    touches.sort_by_key(|b| std::cmp::Reverse(b.at));
    let language = config.account.language;
    let mut out = Vec::new();
    for touch in &touches {
        for c in open.iter().filter(|c| {
            c.prospects
                .iter()
                .any(|p| organisation(p) == touch.organisation)
        }) {
            out.push(Colleague {
                subject: strip_reply_prefixes(&c.subject),
                prospect: prospect_of(c),
                colleague: touch.colleague.clone(),
                organisation: touch.organisation.clone(),
                on: short_date(calendar.local_date(touch.at), language),
            });
        }
    }
    Ok(out)
}

/// "16–22 November 2026", "16.–22. november 2026", …
pub(crate) fn period(from: NaiveDate, to: NaiveDate, language: Language) -> String {
    let dot = if matches!(
        language,
        Language::Nb | Language::Da | Language::Fi | Language::De
    ) {
        "."
    } else {
        ""
    };
    let month = |d: NaiveDate| month_name(language, d.month0());
    if from.month() == to.month() {
        format!(
            "{}{dot}–{}{dot} {} {}",
            from.day(),
            to.day(),
            month(to),
            to.year()
        )
    } else {
        format!(
            "{}{dot} {} – {}{dot} {} {}",
            from.day(),
            month(from),
            to.day(),
            month(to),
            to.year()
        )
    }
}

/// "Tue 24 Nov"-style dates for the due list.
fn short_date(date: NaiveDate, language: Language) -> String {
    let weekday = weekday_name(language, date.weekday());
    let month: String = month_name(language, date.month0())
        .chars()
        .take(3)
        .collect();
    match language {
        Language::En | Language::Sv => format!("{weekday} {} {month}", date.day()),
        Language::Nb | Language::Da | Language::De => {
            format!("{weekday} {}. {month}", date.day())
        }
        // Finnish month names share their first letters ("marraskuu", "maaliskuu"): "ti 24.11."
        Language::Fi => format!("{weekday} {}.{}.", date.day(), date.month()),
    }
}

/// The subject line: the headline of the week.
pub fn subject(summary: &Summary, language: Language) -> String {
    let (r, d) = (summary.n.replies, summary.n.drafts_waiting);
    match language {
        Language::En => format!(
            "Your week: {r} repl{}, {d} {} waiting",
            plural(r, "y", "ies"),
            plural(d, "draft", "drafts")
        ),
        Language::Nb => format!(
            "Uka di: {r} {}, {d} {} venter",
            plural(r, "svar", "svar"),
            plural(d, "utkast", "utkast")
        ),
        Language::Sv => format!(
            "Din vecka: {r} {}, {d} {} väntar",
            plural(r, "svar", "svar"),
            plural(d, "utkast", "utkast")
        ),
        Language::Da => format!(
            "Din uge: {r} {}, {d} {} venter",
            plural(r, "svar", "svar"),
            plural(d, "udkast", "udkast")
        ),
        Language::Fi => format!(
            "Viikkosi: {r} {}, {d} {} odottaa",
            plural(r, "vastaus", "vastausta"),
            plural(d, "luonnos", "luonnosta")
        ),
        Language::De => format!(
            "Ihre Woche: {r} {}, {d} {} {}",
            plural(r, "Antwort", "Antworten"),
            plural(d, "Entwurf", "Entwürfe"),
            plural(d, "wartet", "warten")
        ),
    }
}

fn plural(n: u32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

macro_rules! summary_templates {
    ($($lang:literal),*) => {
        &[$(($lang,
            include_str!(concat!("../templates/", $lang, "/summary.txt.tera")),
            include_str!(concat!("../templates/", $lang, "/summary.html.tera")))),*]
    };
}

const TEMPLATES: &[(&str, &str, &str)] = summary_templates!("en", "nb", "sv", "da", "fi", "de");

/// The text and HTML parts. HTML values are auto-escaped by Tera. Each list shows at most
/// [`LIST_LIMIT`] entries (see [`Summary::fit`]), fewer when the HTML part would pass
/// [`MAX_HTML_BYTES`] (subjects of markup characters, each escaped to six bytes, take a lot);
/// every line of the text part is at most [`TEXT_WIDTH`] characters (see [`wrap`]).
pub fn render(summary: &Summary, language: Language) -> Result<(String, String)> {
    // A language without its own summary gets the English one.
    let (_, text, html) = TEMPLATES
        .iter()
        .find(|(code, _, _)| *code == language.code())
        .or_else(|| TEMPLATES.first())
        .ok_or_else(|| Error::Data(format!("no summary template for {}", language.code())))?;
    let mut tera = crate::compose::templates::sandboxed_tera();
    tera.add_raw_templates(vec![("summary.txt", *text), ("summary.html", *html)])
        .map_err(|e| Error::Data(format!("summary templates: {e}")))?;
    let render = |name: &str, summary: &Summary| {
        let context = tera::Context::from_serialize(summary)
            .map_err(|e| Error::Data(format!("summary context: {e}")))?;
        tera.render(name, &context)
            .map_err(|e| Error::Data(format!("rendering {name}: {}", tera_error_text(&e))))
    };
    let mut shown = shown(summary);
    let mut html = render("summary.html", &shown)?;
    let mut limit = LIST_LIMIT;
    while html.len() > MAX_HTML_BYTES && limit > 1 {
        limit /= 2;
        shown.fit_to(limit);
        html = render("summary.html", &shown)?;
    }
    Ok((wrap(&render("summary.txt", &shown)?, TEXT_WIDTH), html))
}

/// The largest HTML part: Gmail clips a message whose HTML passes about 102 KB, and the
/// seller would miss the end of the summary.
pub const MAX_HTML_BYTES: usize = 80 * 1024;

/// The widest line of the text part, in characters: what every mail client shows unbroken
/// (RFC 5322 2.1.1 asks for 78).
pub const TEXT_WIDTH: usize = 78;

/// `text` with every line longer than `width` characters broken at spaces, the rest of it
/// indented under the start of the line's text: under the text of a list entry ("  - "), so
/// a long subject reads as one block. A word longer than a whole line (an address, a subject
/// without spaces) is broken where the line ends. Lines that fit are left as they are.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.chars().count() <= width {
            out.push_str(line);
            continue;
        }
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        let hang = if content.starts_with("- ") {
            indent + 2
        } else {
            indent
        };
        // The indent of the lines after the first; never so deep that no text fits.
        let hang = " ".repeat(hang.min(width / 2));
        let mut lines: Vec<String> = Vec::new();
        let mut current = " ".repeat(indent.min(width / 2));
        // The characters of `current` and whether it holds a word yet.
        let mut count = current.chars().count();
        let mut has_word = false;
        for word in content.split(' ') {
            let length = word.chars().count();
            if has_word && count + 1 + length <= width {
                current.push(' ');
                current.push_str(word);
                count += 1 + length;
                continue;
            }
            if word.is_empty() {
                continue;
            }
            if has_word {
                if hang.len() + length > width && count + 2 <= width {
                    // Too long for a line of its own anyway: it starts here.
                    current.push(' ');
                    count += 1;
                } else {
                    lines.push(std::mem::replace(&mut current, hang.clone()));
                    count = hang.len();
                }
            }
            // A word that does not fit on a line of its own is broken where the line ends.
            let mut rest = word;
            while count + rest.chars().count() > width {
                let room = width - count;
                let at = rest
                    .char_indices()
                    .nth(room)
                    .map_or(rest.len(), |(at, _)| at);
                current.push_str(&rest[..at]);
                lines.push(std::mem::replace(&mut current, hang.clone()));
                count = hang.len();
                rest = &rest[at..];
            }
            current.push_str(rest);
            count += rest.chars().count();
            has_word = true;
        }
        lines.push(current);
        let lines: Vec<&str> = lines
            .iter()
            .map(|l| l.trim_end())
            .filter(|l| !l.is_empty())
            .collect();
        out.push_str(&lines.join("\n"));
    }
    out
}

/// The summary as shown: each list fitted (see [`Summary::fit`]), and the text that came from
/// mail (subjects, prospects) neutralised (bidi and other format characters and control
/// characters escaped, SPEC 13) and cut to [`SHOWN_CHARS`], in both parts.
fn shown(summary: &Summary) -> Summary {
    let n = |text: &mut String| {
        let neutral = neutralise(text);
        *text = match neutral.char_indices().nth(SHOWN_CHARS - 1) {
            Some((at, _)) if neutral.chars().count() > SHOWN_CHARS => {
                format!("{}…", neutral[..at].trim_end())
            }
            _ => neutral.into_owned(),
        };
    };
    let mut out = summary.clone();
    out.fit();
    for d in &mut out.drafts_waiting {
        n(&mut d.subject);
        n(&mut d.prospect);
    }
    for r in &mut out.replied {
        n(&mut r.subject);
        n(&mut r.prospect);
    }
    for l in &mut out.let_go {
        n(&mut l.subject);
        n(&mut l.prospect);
    }
    for d in &mut out.due_next_week {
        n(&mut d.subject);
        n(&mut d.prospect);
    }
    for w in &mut out.waiting_on_you {
        n(&mut w.subject);
        n(&mut w.prospect);
    }
    for c in &mut out.colleagues {
        n(&mut c.subject);
        n(&mut c.prospect);
    }
    n(&mut out.seller_first_name);
    out
}

/// The summary as a mail: multipart/alternative, `Auto-Submitted: auto-generated` and
/// `X-Nudge-Summary`, from the seller to the seller.
pub fn message(
    config: &Config,
    summary: &Summary,
    now: DateTime<Utc>,
    message_id: &str,
) -> Result<lettre::Message> {
    use lettre::message::MultiPart;
    let language = config.account.language;
    let (text, html) = render(summary, language)?;
    let to = crate::smtp::mailbox(Some(&config.account.name), &config.summary.to)?;
    let marker = ("X-Nudge-Summary", summary.week_key.clone());
    report_builder(
        config,
        to,
        subject(summary, language),
        now,
        message_id,
        marker,
    )?
    .multipart(MultiPart::alternative_plain_html(text, html))
    .map_err(|e| Error::Data(format!("cannot build the summary: {e}")))
}

/// The headers of a report nudge mails from the seller's account (the weekly summary, the
/// team's): from the seller, to `to`, `Auto-Submitted: auto-generated`, and `marker`, the
/// header that tells nudge's own reports apart.
pub(crate) fn report_builder(
    config: &Config,
    to: lettre::message::Mailbox,
    subject: String,
    now: DateTime<Utc>,
    message_id: &str,
    marker: (&'static str, String),
) -> Result<lettre::message::MessageBuilder> {
    use lettre::message::header::{HeaderName, HeaderValue};
    let from_address = config
        .smtp
        .as_ref()
        .and_then(|s| s.from.clone())
        .unwrap_or_else(|| config.account.email.clone());
    let header = |name: &'static str, value: String| {
        HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
    };
    Ok(lettre::Message::builder()
        .from(crate::smtp::mailbox(
            Some(&config.account.name),
            &from_address,
        )?)
        .to(to)
        .subject(subject)
        .date(now.into())
        .message_id(Some(format!("<{message_id}>")))
        .raw_header(header("Auto-Submitted", "auto-generated".into()))
        .raw_header(header(marker.0, marker.1)))
}

/// The wait before the next attempt after `failed` attempts that certainly failed: 5 minutes,
/// doubling, at most an hour (shortened for tests, see [`crate::daemon::test_divisor`]).
pub fn retry_delay(failed: u32) -> Duration {
    let minutes = (5i64 << failed.saturating_sub(1).min(4)).min(60);
    Duration::milliseconds(minutes * 60_000 / i64::from(crate::daemon::test_divisor()))
}

/// What one attempt at a week's summary came to.
#[derive(Debug)]
pub enum Attempted {
    /// It went out (or into INBOX); the line says so.
    Delivered(String),
    /// Nothing was done: it was sent before, another attempt is in flight, or an earlier
    /// one may have delivered it.
    Skipped(String),
    /// Attempt `attempt` certainly did not deliver it; the next may start at `retry_after`.
    Retry {
        error: Error,
        attempt: u32,
        retry_after: DateTime<Utc>,
    },
    /// The server may have taken it: it is never sent again.
    Unknown { error: Error },
}

/// Sends this week's summary when it is due and was not sent yet, or tries again after an
/// attempt that certainly failed. Returns what happened, and when to look again (the summary
/// falls due, or its next attempt may start) if that is still ahead. A failed delivery does
/// not fail the pass: it is recorded, logged and reported.
pub async fn maybe_send(
    connection: &mut crate::imap::Connection,
    store: &Store,
    config: &Config,
    inbox: &str,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<(Option<String>, Option<DateTime<Utc>>)> {
    if !config.summary.enabled {
        return Ok((None, None));
    }
    let calendar = Calendar::from_config(config);
    let due = due_this_week(config, &calendar, now);
    if now < due {
        return Ok((None, Some(due)));
    }
    let week = week_key(calendar.local_date(due));
    // Never in the week nudge first started: there is nothing to tell yet.
    let first = store
        .meta("first_started_at")
        .await?
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| week_key(calendar.local_date(t.with_timezone(&Utc))));
    if first.as_deref().is_none_or(|f| f == week) {
        return Ok((None, None));
    }
    if config.smtp.is_none() && !dry_run {
        settle_earlier_weeks(connection, store, inbox, &week, now).await?;
    }
    if let Some(record) = store.summary_record(&week).await? {
        // A copy put in INBOX can be looked for: an attempt whose process stopped half-way is
        // settled by what INBOX holds (see `attempt`). Over SMTP nobody can tell.
        let in_inbox = config.smtp.is_none() && record.message_id.is_some();
        match record.retry_after {
            _ if record.is_sent() => return Ok((None, None)),
            // In flight, or perhaps delivered: never again.
            _ if !record.may_retry() && !in_inbox => return Ok((None, None)),
            Some(at) if now < at => return Ok((None, Some(at))),
            _ => {}
        }
    }
    if dry_run {
        return Ok((
            Some(format!("would send the weekly summary for {week}")),
            None,
        ));
    }
    let when = WeekDue {
        week: &week,
        due,
        now,
    };
    let attempted = attempt(connection, store, config, inbox, &when, false).await?;
    Ok(match attempted {
        Attempted::Delivered(line) => (Some(line), None),
        Attempted::Skipped(_) => (None, None),
        Attempted::Retry {
            error,
            attempt,
            retry_after,
        } => {
            let local = retry_after.with_timezone(&config.account.timezone);
            let line = format!(
                "the weekly summary for {week} did not reach the server (attempt {attempt}): \
                 {error}; trying again after {}",
                local.format("%H:%M:%S")
            );
            tracing::warn!("{line}");
            (Some(line), Some(retry_after))
        }
        Attempted::Unknown { error } => {
            let line = format!(
                "the weekly summary for {week} may or may not have been delivered: {error}; \
                 it is not sent again"
            );
            tracing::error!("{line}");
            (Some(line), None)
        }
    })
}

/// How many earlier weeks are looked at for a summary whose attempt stopped half-way.
const EARLIER_WEEKS: u32 = 4;

/// A pass stopped (killed, crashed) after claiming an earlier week's summary and before
/// recording its outcome, and the week ended meanwhile: that summary is never sent late, but
/// if its copy is in INBOX it was delivered, and the record says so.
async fn settle_earlier_weeks(
    connection: &mut crate::imap::Connection,
    store: &Store,
    inbox: &str,
    week: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    for (earlier, message_id) in store
        .unsettled_summaries_before(week, EARLIER_WEEKS)
        .await?
    {
        let (_, found) = connection.find_message_id(inbox, &message_id).await?;
        if !found.is_empty() {
            store.summary_sent(&earlier, now).await?;
            tracing::info!("the weekly summary for {earlier} is in INBOX");
        }
    }
    Ok(())
}

/// `nudge summary --send`: computes, records and delivers the summary due at `due` for
/// `week` now, even while an earlier attempt waits for its retry time. A failure is recorded
/// as for the daemon (so it retries a certain one) and returned.
pub async fn send_now(
    connection: &mut crate::imap::Connection,
    store: &Store,
    config: &Config,
    inbox: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    week: &str,
) -> Result<String> {
    let when = WeekDue { week, due, now };
    match attempt(connection, store, config, inbox, &when, true).await? {
        Attempted::Delivered(line) | Attempted::Skipped(line) => Ok(line),
        Attempted::Retry { error, .. } | Attempted::Unknown { error } => Err(error),
    }
}

/// Which summary an attempt is for, and when it is made.
#[derive(Debug, Clone, Copy)]
pub struct WeekDue<'a> {
    /// The ISO week, like 2026-W48.
    pub week: &'a str,
    /// When that week's summary was due (it covers the seven days before).
    pub due: DateTime<Utc>,
    /// The time of the attempt.
    pub now: DateTime<Utc>,
}

/// One attempt at the summary of `when.week`: claims it in the store, delivers it, records
/// the outcome. `Err` only for what stopped it before the claim (the store, the templates,
/// the IMAP search for an earlier copy).
pub async fn attempt(
    connection: &mut crate::imap::Connection,
    store: &Store,
    config: &Config,
    inbox: &str,
    when: &WeekDue<'_>,
    force: bool,
) -> Result<Attempted> {
    let (week, due, now) = (when.week, when.due, when.now);
    let mut earlier = store.summary_record(week).await?;
    if config.smtp.is_none() {
        // An APPEND that failed may still have stored the message, and a process that stopped
        // after claiming the attempt (a crash, a kill) may or may not have got to its APPEND:
        // look for it first, so that trying again never makes a second copy and a claim that
        // never reached INBOX does not pass for a delivery.
        let unsettled = earlier
            .as_ref()
            .filter(|r| !r.is_sent())
            .and_then(|r| Some((r.message_id.clone()?, r.retry_after.is_none())));
        if let Some((id, in_flight)) = unsettled {
            let (_, found) = connection.find_message_id(inbox, &id).await?;
            if !found.is_empty() {
                store.summary_sent(week, now).await?;
                let line = format!("the weekly summary for {week} is in INBOX");
                tracing::info!("{line}");
                return Ok(Attempted::Delivered(line));
            }
            if in_flight {
                // Claimed by a pass that stopped before its copy reached INBOX: this pass
                // holds the pass lock, so no other attempt is under way. It certainly failed.
                store
                    .summary_failed(
                        week,
                        "the pass stopped before the summary reached INBOX",
                        Some(now),
                        now,
                    )
                    .await?;
                earlier = store.summary_record(week).await?;
            }
        }
    }
    // Every attempt at a week's summary carries the same Message-ID.
    let message_id = earlier
        .as_ref()
        .filter(|r| r.may_retry())
        .and_then(|r| r.message_id.clone())
        .unwrap_or_else(|| crate::compose::draft::new_message_id(&config.account.email, now));
    let summary = compute(store, config, due, now).await?;
    let mail = message(config, &summary, now, &message_id)?;
    let Some(claimed) = store.begin_summary(week, &message_id, now, force).await? else {
        let line = match store.summary_record(week).await? {
            Some(r) if !r.is_sent() => format!(
                "the summary for {week} may have been sent before (its outcome is unknown): \
                 not sent again"
            ),
            _ => format!("the summary for {week} was sent before"),
        };
        return Ok(Attempted::Skipped(line));
    };
    crate::drafting::fault_point("after-summary-claim");
    let delivered = match &config.smtp {
        Some(smtp) => crate::smtp::send(smtp, mail).await.map(|()| {
            format!(
                "sent the weekly summary for {week} to {}",
                config.summary.to
            )
        }),
        None => connection
            .append_message(inbox, None, &mail.formatted())
            .await
            .map(|()| format!("put the weekly summary for {week} in INBOX (no [smtp] configured)"))
            // Looked for by its Message-ID before the next attempt.
            .map_err(crate::smtp::Undelivered::Refused),
    };
    match delivered {
        Ok(line) => {
            crate::drafting::fault_point("after-summary-delivered");
            store.summary_sent(week, now).await?;
            tracing::info!("{line}");
            Ok(Attempted::Delivered(line))
        }
        Err(crate::smtp::Undelivered::Refused(error)) => {
            let retry_after = now + retry_delay(claimed.number);
            store
                .summary_failed(week, &error.to_string(), Some(retry_after), now)
                .await?;
            Ok(Attempted::Retry {
                error,
                attempt: claimed.number,
                retry_after,
            })
        }
        Err(crate::smtp::Undelivered::Unknown(error)) => {
            store
                .summary_failed(week, &error.to_string(), None, now)
                .await?;
            Ok(Attempted::Unknown { error })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_text_is_neutralised_in_both_parts() {
        let mut summary = Summary::sample();
        summary.drafts_waiting[0].subject = "Faktura \u{202E}fdp.exe".into();
        summary.replied[0].prospect = "Per\u{2066} \x1b[31m".into();
        let (text, html) = render(&summary, Language::En).unwrap();
        for part in [&text, &html] {
            assert!(!part.contains('\u{202E}') && !part.contains('\u{2066}'));
            assert!(!part.contains('\x1b'));
        }
        assert!(text.contains("Faktura <U+202E>fdp.exe"), "{text}");
        assert!(html.contains("Faktura &lt;U+202E&gt;fdp.exe"), "{html}");
    }

    #[test]
    fn wrapping_hangs_under_the_entry_and_leaves_short_lines_alone() {
        let short = "AT A GLANCE\n  Tracked conversations:          37\n\n  - a: \"b\"";
        assert_eq!(
            wrap(short, 78),
            short,
            "lines that fit are kept, spaces and all"
        );
        let entry = "  - per@nordlys.no: \"Tilbud på rammeavtale for kontorstoler og pulter\"";
        assert_eq!(
            wrap(entry, 40),
            "  - per@nordlys.no: \"Tilbud på\n    rammeavtale for kontorstoler og\n    pulter\""
        );
        // The width counts characters, not bytes.
        assert_eq!(wrap("æøå æøå æøå", 7), "æøå æøå\næøå");
        // A word longer than a line is broken where the line ends.
        assert_eq!(
            wrap("  - abcdefghijklmnopqrstuvwxyz", 12),
            "  - abcdefgh\n    ijklmnop\n    qrstuvwx\n    yz"
        );
        // No trailing spaces where a line is broken, and blank lines stay.
        let wrapped = wrap("one two   three four\n\nfive", 9);
        assert_eq!(wrapped, "one two\nthree\nfour\n\nfive");
        for line in wrap(&"word ".repeat(100), 78).lines() {
            assert!(line.chars().count() <= 78 && line == line.trim_end());
        }
    }

    #[test]
    fn fitting_keeps_the_head_of_each_list_and_counts_the_rest() {
        let mut summary = Summary::sample();
        let first = summary.let_go[0].clone();
        summary.let_go = vec![first.clone(); LIST_LIMIT + 7];
        summary.replied.truncate(1);
        summary.fit();
        assert_eq!(summary.let_go.len(), LIST_LIMIT);
        assert_eq!(summary.let_go[0], first);
        assert_eq!(summary.more.let_go, 7);
        assert_eq!((summary.replied.len(), summary.more.replied), (1, 0));
        let once = summary.clone();
        summary.fit();
        assert_eq!(summary, once, "fitting twice changes nothing");
        summary.fit_to(4);
        assert_eq!((summary.let_go.len(), summary.more.let_go), (4, 13));
        assert_eq!((summary.replied.len(), summary.more.replied), (1, 0));
    }

    #[test]
    fn a_subject_of_thousands_of_characters_is_cut_in_both_parts() {
        let mut summary = Summary::sample();
        summary.let_go[0].subject = format!("Tilbud {}", "x".repeat(5000));
        let (text, html) = render(&summary, Language::En).unwrap();
        let shown = format!("Tilbud {}…", "x".repeat(SHOWN_CHARS - 8));
        assert!(html.contains(&format!("{shown}<")), "{html}");
        assert!(!html.contains(&"x".repeat(SHOWN_CHARS)));
        let text: String = text.lines().map(str::trim).collect();
        assert!(text.contains(&shown), "{text}");
    }

    #[test]
    fn weeks_and_periods() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(week_key(d), "2026-W48");
        assert_eq!(
            week_key(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
            "2026-W53"
        );
        let from = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(period(from, to, Language::En), "16–22 November 2026");
        assert_eq!(period(from, to, Language::Nb), "16.–22. november 2026");
        assert_eq!(short_date(from, Language::En), "Mon 16 Nov");
        assert_eq!(period(from, to, Language::Fi), "16.–22. marraskuuta 2026");
        assert_eq!(period(from, to, Language::De), "16.–22. November 2026");
        let across = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(
            period(to, across, Language::Fi),
            "22. marraskuuta – 4. joulukuuta 2026"
        );
        assert_eq!(short_date(from, Language::Fi), "ma 16.11.");
        assert_eq!(short_date(from, Language::De), "Mo. 16. Nov");
    }

    #[test]
    fn subjects_agree_with_their_numbers_in_finnish_and_german() {
        let mut summary = Summary::sample();
        summary.n.replies = 1;
        summary.n.drafts_waiting = 1;
        assert_eq!(
            subject(&summary, Language::Fi),
            "Viikkosi: 1 vastaus, 1 luonnos odottaa"
        );
        assert_eq!(
            subject(&summary, Language::De),
            "Ihre Woche: 1 Antwort, 1 Entwurf wartet"
        );
        summary.n.replies = 3;
        summary.n.drafts_waiting = 2;
        assert_eq!(
            subject(&summary, Language::Fi),
            "Viikkosi: 3 vastausta, 2 luonnosta odottaa"
        );
        assert_eq!(
            subject(&summary, Language::De),
            "Ihre Woche: 3 Antworten, 2 Entwürfe warten"
        );
    }

    #[test]
    fn every_language_has_its_own_summary_text() {
        let summary = Summary::sample();
        let (english, _) = render(&summary, Language::En).unwrap();
        for language in crate::compose::templates::LANGUAGES {
            let (text, html) = render(&summary, language).unwrap();
            assert!(
                html.contains(&format!("<html lang=\"{}\">", language.code())),
                "{language:?}"
            );
            if language != Language::En {
                assert_ne!(text, english, "{language:?} falls back to English");
            }
        }
    }

    #[test]
    fn retries_wait_five_minutes_then_double_up_to_an_hour() {
        if crate::daemon::test_divisor() != 1 {
            return;
        }
        let minutes: Vec<i64> = (1..=7).map(|n| retry_delay(n).num_minutes()).collect();
        assert_eq!(minutes, vec![5, 10, 20, 40, 60, 60, 60]);
    }
}
