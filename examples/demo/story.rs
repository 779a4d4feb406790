//! Plays the sample's six weeks against a real mail server: puts the starting mailbox in
//! place, then walks the timeline in order, doing what Kari's mail client or a prospect's mail
//! server would do and running `nudge sync --now` after each step and every weekday morning.
//! What nudge reports becomes the story: one line per happening, in the seller's words.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::sample::{self, Action, Case, Event, Person, Sample, SELLER_ZONE};
use crate::support::mailclient::{FolderMessage, MailClient};
use crate::support::nudge::{smtp_section, Nudge};
use crate::support::{Dovecot, SmtpServer};

/// nudge configured for the seller's Dovecot (see [`Nudge::new`]) with `[smtp]` pointing at the
/// demo's SMTP server, so that the weekly summaries really go out.
pub fn nudge(dovecot: &Dovecot, smtp: &SmtpServer) -> Nudge {
    Nudge::new(dovecot, &smtp_section(dovecot, smtp))
}

/// Puts the starting mailbox in place, as Kari's mail server holds it.
pub async fn seed(client: &mut MailClient, sample: &Sample) {
    for message in &sample.mailbox {
        client
            .append(message.folder.name(), &message.raw, message.folder.flags())
            .await;
    }
}

/// "Tue 10 Nov 08:30", in Kari's time zone.
pub fn when(at: DateTime<Utc>) -> String {
    at.with_timezone(&SELLER_ZONE)
        .format("%a %-d %b %H:%M")
        .to_string()
}

/// Prints one line of a story at `at`, after a heading when `at` starts a new week (`week`
/// is the last week told).
pub fn tell_line(out: &mut dyn FnMut(&str), week: &mut Option<u32>, at: DateTime<Utc>, text: &str) {
    use chrono::Datelike;
    let local = at.with_timezone(&SELLER_ZONE);
    let this_week = local.iso_week().week();
    if *week != Some(this_week) {
        *week = Some(this_week);
        out(&format!(
            "\n  — week {this_week}, from {} —",
            local
                .date_naive()
                .week(chrono::Weekday::Mon)
                .first_day()
                .format("%A %-d %B")
        ));
    }
    out(&format!("{:<17} {text}", when(at)));
}

/// "Name (Company)".
fn introduce(person: &Person) -> String {
    format!("{} ({})", person.name, person.company)
}

/// The story so far, printed as it is told.
pub struct Story<'a> {
    sample: &'a Sample,
    /// Where the lines go (the demo prints them; the test keeps them).
    out: &'a mut dyn FnMut(&str),
    /// Which week the last line was in, for a heading at each new week.
    week: Option<u32>,
}

impl<'a> Story<'a> {
    pub fn new(sample: &'a Sample, out: &'a mut dyn FnMut(&str)) -> Story<'a> {
        Story {
            sample,
            out,
            week: None,
        }
    }

    fn tell(&mut self, at: DateTime<Utc>, text: &str) {
        tell_line(self.out, &mut self.week, at, text);
    }

    /// The index of the case a nudge report line is about ("#4 Subject: what"), and the what.
    fn case_of(&self, line: &str) -> Option<(usize, String)> {
        let rest = line.strip_prefix('#')?;
        let (_, rest) = rest.split_once(' ')?;
        self.sample
            .cases
            .iter()
            .enumerate()
            .find_map(|(index, case)| {
                rest.strip_prefix(case.subject)
                    .and_then(|r| r.strip_prefix(": "))
                    .map(|what| (index, what.to_string()))
            })
    }

    /// Tells what one `nudge sync` reported, a line per conversation.
    fn tell_pass(&mut self, at: DateTime<Utc>, output: &str, indent: bool) {
        let mut by_case: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let mut other = Vec::new();
        // A pass prints "Pass at …", "New messages: …", then one indented line per change;
        // anything else is a log line on stderr (a warning) and is told as it is.
        for line in output.lines() {
            if line.trim().is_empty()
                || line.starts_with("Pass at ")
                || line.starts_with("New messages: ")
            {
                continue;
            }
            let line = line.strip_prefix("  ").unwrap_or(line);
            match self.case_of(line) {
                Some((index, what)) => by_case
                    .entry(index)
                    .or_default()
                    .push(case_in_sellers_words(&what, &self.sample.cases[index])),
                None => other.push(line.replace("the seller", "Kari")),
            }
        }
        let prefix = if indent { "  → " } else { "" };
        for (index, whats) in by_case {
            let case = &self.sample.cases[index];
            let mut text = whats.join(" — ");
            if !text.contains(case.prospect.name) {
                text = format!("{}: {text}", introduce(&case.prospect));
            } else {
                text = text.replacen(case.prospect.name, &introduce(&case.prospect), 1);
            }
            self.tell(at, &format!("{prefix}{text}"));
        }
        for line in other {
            self.tell(at, &format!("{prefix}{line}"));
        }
    }
}

/// A nudge report about one conversation, retold: "the seller" is `seller` (a first name),
/// the seller's own opener to `prospect` is "following" its `subject`, and the template's
/// file name and variant are left to `nudge show`. The team's story retells its reports so too.
pub fn in_sellers_words(what: &str, seller: &str, prospect: &str, subject: &str) -> String {
    let mut text = what.replace("the seller", seller);
    if let Some(rest) = text.strip_prefix(&format!("{seller} wrote to ")) {
        if rest.contains(prospect) {
            text = format!("following “{subject}”");
        }
    }
    if let Some(start) = text.rfind(" (") {
        if text[start..].contains(", variant ") {
            text.truncate(start);
        }
    }
    for state in ["replied", "bounced", "opted_out", "stopped"] {
        text = text.replace(&format!("draft withdrawn ({state})"), "draft withdrawn");
    }
    text
}

/// [`in_sellers_words`] for one of Kari's cases.
fn case_in_sellers_words(what: &str, case: &Case) -> String {
    in_sellers_words(what, "Kari", case.prospect.email, case.subject)
}

/// What the six weeks came to.
pub struct Ending {
    /// `nudge status --json` after the last pass.
    pub status: Vec<serde_json::Value>,
    /// The drafts waiting in Drafts at the end.
    pub drafts: Vec<FolderMessage>,
}

/// Runs nudge over the sample from its first start to `until`, telling the story.
pub async fn play(
    nudge: &Nudge,
    client: &mut MailClient,
    sample: &Sample,
    until: DateTime<Utc>,
    story: &mut Story<'_>,
) -> Result<Ending, String> {
    enum Moment<'e> {
        Morning,
        Happens(&'e Event),
    }
    let mut moments: Vec<(DateTime<Utc>, Moment)> = sample::mornings()
        .into_iter()
        .map(|at| (at, Moment::Morning))
        .chain(sample.timeline.iter().map(|e| (e.at, Moment::Happens(e))))
        .filter(|(at, _)| *at <= until)
        .collect();
    moments.sort_by_key(|(at, _)| *at);

    for (at, moment) in moments {
        match moment {
            Moment::Morning => {
                let output = pass(nudge, at)?;
                story.tell_pass(at, &output, false);
            }
            Moment::Happens(event) => {
                let seller_acts = !matches!(event.action, Action::Arrives(_));
                if seller_acts {
                    story.tell(at, &event.note);
                }
                act(client, event).await?;
                // nudge notices within the minute (the daemon within a second or so).
                let seen = at + Duration::minutes(1);
                let output = pass(nudge, seen)?;
                story.tell_pass(if seller_acts { at } else { seen }, &output, seller_acts);
            }
        }
    }
    let status = nudge.status();
    let drafts = client.messages("Drafts").await;
    Ok(Ending { status, drafts })
}

/// One `nudge sync --now AT`; its report (warnings too: they matter to the seller), or what
/// went wrong.
fn pass(nudge: &Nudge, at: DateTime<Utc>) -> Result<String, String> {
    nudge.try_sync(&at.with_timezone(&SELLER_ZONE).to_rfc3339())
}

/// Does what the event says, as a mail client or mail server would.
async fn act(client: &mut MailClient, event: &Event) -> Result<(), String> {
    match &event.action {
        Action::Arrives(raw) => client.append("INBOX", raw, &[]).await,
        Action::Writes(raw) => client.append("Sent", raw, &["\\Seen"]).await,
        Action::Sends(message_id) => {
            let draft = draft_to(client, &event.prospect, event.at).await?;
            let date = event
                .at
                .with_timezone(&SELLER_ZONE)
                .format("%a, %d %b %Y %H:%M:%S %z")
                .to_string();
            client
                .send_draft_as("Drafts", "Sent", &draft, &date, message_id)
                .await;
        }
        Action::Edits(addition) => {
            let draft = draft_to(client, &event.prospect, event.at).await?;
            let text = draft
                .body_text()
                .ok_or_else(|| format!("the draft to {} has no text", event.prospect.name))?;
            client
                .save_edited_draft("Drafts", &draft, &with_postscript(&text, addition))
                .await;
        }
        Action::Deletes => {
            let draft = draft_to(client, &event.prospect, event.at).await?;
            client.delete("Drafts", draft.uid).await;
        }
    }
    Ok(())
}

/// The newest draft in Drafts addressed to `prospect`.
async fn draft_to(
    client: &mut MailClient,
    prospect: &Person,
    at: DateTime<Utc>,
) -> Result<FolderMessage, String> {
    client
        .messages("Drafts")
        .await
        .into_iter()
        .filter(|d| d.header("To").is_some_and(|to| to.contains(prospect.email)))
        .max_by_key(|d| d.uid)
        .ok_or_else(|| {
            format!(
                "{}: Kari meant to act on the draft to {}, but there is none in Drafts",
                when(at),
                prospect.name
            )
        })
}

/// The draft's text with a line added under the signature, above the quoted message.
fn with_postscript(text: &str, addition: &str) -> String {
    let attribution = text
        .lines()
        .position(|l| l.starts_with('>'))
        .and_then(|quote| quote.checked_sub(1));
    let lines: Vec<&str> = text.lines().collect();
    match attribution {
        Some(at) => format!(
            "{}\n{addition}\n\n{}",
            lines[..at].join("\n"),
            lines[at..].join("\n")
        ),
        None => format!("{text}\n\n{addition}"),
    }
}

/// The one conversation in `status` about this case.
pub fn status_of<'s>(
    status: &'s [serde_json::Value],
    case: &Case,
) -> Option<&'s serde_json::Value> {
    status.iter().find(|c| {
        c["prospects"]
            .as_array()
            .is_some_and(|p| p.iter().any(|a| a == case.prospect.email))
    })
}

/// Each conversation that did not end as the sample says, described; empty when all did.
pub fn astray(sample: &Sample, ending: &Ending) -> Vec<String> {
    sample
        .cases
        .iter()
        .filter_map(|case| {
            let state = status_of(&ending.status, case).and_then(|s| s["state"].as_str());
            (state != case.at_end).then(|| {
                format!(
                    "{} ({}) ended {} where the sample expects {}",
                    case.prospect.name,
                    case.about,
                    state.unwrap_or("untracked"),
                    case.at_end.unwrap_or("untracked")
                )
            })
        })
        .collect()
}
