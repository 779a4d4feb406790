//! Finding when someone is back from an out-of-office text, in English, Norwegian, Swedish,
//! Danish, German and Finnish: "back on 3 December", "tilbake mandag 7.12", "åter 3 december",
//! "tilbage den 3. december", "zurück am 03.12.2026", "palaan 3. joulukuuta",
//! "3.12.2026 alkaen", "ab KW 49", "away from 20 to 27 November".
//!
//! The result is the date the text names as the end of the absence (the day back, or the last
//! day away); the cadence resumes on the first business day after it. Dates before the message
//! or more than [`MAX_DAYS_AHEAD`] days after it are ignored.

use std::sync::OnceLock;

use super::pattern::Pattern;
use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Return dates further ahead than this are not believed (a typo, or a long leave).
pub const MAX_DAYS_AHEAD: i64 = 60;

/// Month names and abbreviations in the supported languages, with their month number.
pub(crate) const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("januar", 1),
    ("januari", 1),
    ("jänner", 1),
    ("janvier", 1),
    ("jan", 1),
    ("february", 2),
    ("februar", 2),
    ("februari", 2),
    ("février", 2),
    ("feb", 2),
    ("febr", 2),
    ("march", 3),
    ("mars", 3),
    ("marts", 3),
    ("märz", 3),
    ("mar", 3),
    ("mrz", 3),
    ("april", 4),
    ("avril", 4),
    ("apr", 4),
    ("may", 5),
    ("mai", 5),
    ("maj", 5),
    ("june", 6),
    ("juni", 6),
    ("juin", 6),
    ("jun", 6),
    ("july", 7),
    ("juli", 7),
    ("juillet", 7),
    ("jul", 7),
    ("august", 8),
    ("augusti", 8),
    ("août", 8),
    ("aug", 8),
    ("september", 9),
    ("septembre", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("oktober", 10),
    ("octobre", 10),
    ("oct", 10),
    ("okt", 10),
    ("november", 11),
    ("novembre", 11),
    ("nov", 11),
    ("december", 12),
    ("desember", 12),
    ("dezember", 12),
    ("décembre", 12),
    ("dec", 12),
    ("des", 12),
    ("dez", 12),
    // Finnish: the partitive of a date ("3. joulukuuta"), the genitive ("joulukuun 3. päivä"),
    // the inessive ("joulukuussa"), the name and the abbreviation ("jouluk.").
    ("tammikuuta", 1),
    ("tammikuun", 1),
    ("tammikuu", 1),
    ("tammik", 1),
    ("helmikuuta", 2),
    ("helmikuun", 2),
    ("helmikuu", 2),
    ("helmik", 2),
    ("maaliskuuta", 3),
    ("maaliskuun", 3),
    ("maaliskuu", 3),
    ("maalisk", 3),
    ("huhtikuuta", 4),
    ("huhtikuun", 4),
    ("huhtikuu", 4),
    ("huhtik", 4),
    ("toukokuuta", 5),
    ("toukokuun", 5),
    ("toukokuu", 5),
    ("toukok", 5),
    ("kesäkuuta", 6),
    ("kesäkuun", 6),
    ("kesäkuu", 6),
    ("kesäk", 6),
    ("heinäkuuta", 7),
    ("heinäkuun", 7),
    ("heinäkuu", 7),
    ("heinäk", 7),
    ("elokuuta", 8),
    ("elokuun", 8),
    ("elokuu", 8),
    ("elok", 8),
    ("syyskuuta", 9),
    ("syyskuun", 9),
    ("syyskuu", 9),
    ("syysk", 9),
    ("lokakuuta", 10),
    ("lokakuun", 10),
    ("lokakuu", 10),
    ("lokak", 10),
    ("marraskuuta", 11),
    ("marraskuun", 11),
    ("marraskuu", 11),
    ("marrask", 11),
    ("joulukuuta", 12),
    ("joulukuun", 12),
    ("joulukuu", 12),
    ("jouluk", 12),
];

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("mandag", Weekday::Mon),
    ("måndag", Weekday::Mon),
    ("montag", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("tirsdag", Weekday::Tue),
    ("tisdag", Weekday::Tue),
    ("dienstag", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("onsdag", Weekday::Wed),
    ("mittwoch", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("torsdag", Weekday::Thu),
    ("donnerstag", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("fredag", Weekday::Fri),
    ("freitag", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("lørdag", Weekday::Sat),
    ("lördag", Weekday::Sat),
    ("samstag", Weekday::Sat),
    ("sunday", Weekday::Sun),
    ("søndag", Weekday::Sun),
    ("söndag", Weekday::Sun),
    ("sonntag", Weekday::Sun),
    // Finnish, with the essive a date takes ("maanantaina" = on Monday).
    ("maanantaina", Weekday::Mon),
    ("maanantai", Weekday::Mon),
    ("tiistaina", Weekday::Tue),
    ("tiistai", Weekday::Tue),
    ("keskiviikkona", Weekday::Wed),
    ("keskiviikko", Weekday::Wed),
    ("torstaina", Weekday::Thu),
    ("torstai", Weekday::Thu),
    ("perjantaina", Weekday::Fri),
    ("perjantai", Weekday::Fri),
    ("lauantaina", Weekday::Sat),
    ("lauantai", Weekday::Sat),
    ("sunnuntaina", Weekday::Sun),
    ("sunnuntai", Weekday::Sun),
];

/// Words after which a date is the end of the absence.
const KEYWORDS: &[&str] = &[
    "back",
    "return",
    "returning",
    "returns",
    "until",
    "till",
    "through",
    "available again",
    "in the office",
    "tilbake",
    "tilbage",
    "igjen",
    "igen",
    "til og med",
    "t.o.m",
    "tom",
    "åter",
    "tillbaka",
    "tilbaka",
    "zurück",
    "wieder",
    "bis",
    "ab dem",
    "ab",
    "from",
    "fra",
    "från",
    "vom",
    "to",
    "til",
    "-",
    "–",
    "palaan",
    "palaamme",
    "paluu",
    "takaisin",
    "toimistolla",
    "toimistolle",
    "tavoitettavissa",
];

/// Words after a date that make it the end of the absence: Finnish puts "from" and "until"
/// after the date ("3.12. alkaen", "4.12. asti"), German often "back" ("am 3.12. wieder da").
const KEYWORDS_AFTER: &[&str] = &["alkaen", "lähtien", "asti", "saakka", "wieder", "zurück"];

fn month_number(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.');
    MONTHS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, m)| *m)
}

fn month_alternation() -> String {
    let mut names: Vec<&str> = MONTHS.iter().map(|(n, _)| *n).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names.join("|")
}

fn weekday_alternation() -> String {
    WEEKDAYS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join("|")
}

struct Patterns {
    iso: Pattern,
    numeric: Pattern,
    day_month: Pattern,
    month_day: Pattern,
    weekday: Pattern,
    calendar_week: Pattern,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let months = month_alternation();
        let weekdays = weekday_alternation();
        let build = Pattern::new;
        Patterns {
            iso: build(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"),
            // 7.12 / 30.11.2026 / 03.12.26 / 7/12 / 12/03/2026 / 23.11.
            numeric: build(r"(?:^|[^\d.:/])(\d{1,2})([./])(\d{1,2})(?:[./](\d{4}|\d{2}))?(?:[^\d:/]|$)"),
            day_month: build(&format!(
                r"\b(\d{{1,2}})(?:\.|st|nd|rd|th|e)?\s*(?:of\s+|de\s+)?({months})\b\.?(?:,?\s+(\d{{4}}))?"
            )),
            month_day: build(&format!(
                r"\b({months})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?"
            )),
            weekday: build(&format!(r"\b({weekdays})\b")),
            // German auto-replies count in calendar weeks: "ab KW 49", "bis Kalenderwoche 48".
            calendar_week: build(r"\b(?:kw|kalenderwoche)\.?\s*(\d{1,2})\b"),
        }
    })
}

/// A date found in the text, with where it was found.
#[derive(Debug, Clone, Copy)]
struct Found {
    start: usize,
    end: usize,
    date: NaiveDate,
}

/// The end of an absence named in `text`, judged from a message sent on `sent`.
pub fn find_return_date(text: &str, sent: NaiveDate) -> Option<NaiveDate> {
    let lower = text.to_lowercase();
    let p = patterns();
    let window = |d: NaiveDate| d >= sent && d <= sent + Duration::days(MAX_DAYS_AHEAD);
    let mut found: Vec<Found> = Vec::new();
    let mut covered: Vec<(usize, usize)> = Vec::new();

    for c in p.iso.captures_iter(&lower) {
        let m = c.get(0).expect("whole match");
        if let Some(date) = ymd(num(&c, 1), num(&c, 2), num(&c, 3)) {
            found.push(Found {
                start: m.start(),
                end: m.end(),
                date,
            });
        }
        covered.push((m.start(), m.end()));
    }
    for c in p.day_month.captures_iter(&lower) {
        let m = c.get(0).expect("whole match");
        let day = num(&c, 1);
        let Some(month) = c.get(2).and_then(|m| month_number(m.as_str())) else {
            continue;
        };
        let year = c.get(3).map(|y| y.as_str().parse().unwrap_or(0));
        if let Some(date) = resolve(day, month, year, sent) {
            found.push(Found {
                start: m.start(),
                end: m.end(),
                date,
            });
            covered.push((m.start(), m.end()));
        }
    }
    for c in p.month_day.captures_iter(&lower) {
        let m = c.get(0).expect("whole match");
        if overlaps(&covered, m.start(), m.end()) {
            continue;
        }
        let Some(month) = c.get(1).and_then(|m| month_number(m.as_str())) else {
            continue;
        };
        let year = c.get(3).map(|y| y.as_str().parse().unwrap_or(0));
        if let Some(date) = resolve(num(&c, 2), month, year, sent) {
            found.push(Found {
                start: m.start(),
                end: m.end(),
                date,
            });
            covered.push((m.start(), m.end()));
        }
    }
    for c in p.numeric.captures_iter(&lower) {
        let whole = c.get(1).expect("day");
        let start = whole.start();
        let end = c.get(4).or(c.get(3)).map(|m| m.end()).unwrap_or(start);
        if overlaps(&covered, start, end) || preceded_by_clock_word(&lower, start) {
            continue;
        }
        let (a, b) = (num(&c, 1), num(&c, 3));
        let year = c.get(4).map(|y| {
            let y: i32 = y.as_str().parse().unwrap_or(0);
            if y < 100 {
                2000 + y
            } else {
                y
            }
        });
        let slash = c.get(2).map(|s| s.as_str()) == Some("/");
        // Day first everywhere but in American dates; take the reading that makes sense.
        let day_first = resolve(a, b, year, sent).filter(|d| window(*d));
        let month_first = if slash {
            resolve(b, a, year, sent).filter(|d| window(*d))
        } else {
            None
        };
        if let Some(date) = day_first.or(month_first) {
            found.push(Found { start, end, date });
            covered.push((start, end));
        }
    }
    for c in p.calendar_week.captures_iter(&lower) {
        let m = c.get(0).expect("whole match");
        if overlaps(&covered, m.start(), m.end()) {
            continue;
        }
        // "bis KW 48" is away through that week's Friday; otherwise back on its Monday.
        let last_word = lower[..m.start()].split_whitespace().next_back();
        let through = matches!(last_word, Some("bis" | "einschließlich" | "inkl."));
        let weekday = if through { Weekday::Fri } else { Weekday::Mon };
        if let Some(date) = calendar_week(num(&c, 1), weekday, sent) {
            found.push(Found {
                start: m.start(),
                end: m.end(),
                date,
            });
            covered.push((m.start(), m.end()));
        }
    }
    for c in p.weekday.captures_iter(&lower) {
        let m = c.get(0).expect("whole match");
        // "mandag 7.12": the weekday belongs to the date right after it.
        let followed_by_date = found
            .iter()
            .any(|f| f.start > m.end() && f.start <= m.end() + 6);
        if followed_by_date || !(near_keyword(&lower, m.start()) || keyword_after(&lower, m.end()))
        {
            continue;
        }
        let weekday = WEEKDAYS
            .iter()
            .find(|(n, _)| *n == m.as_str())
            .map(|(_, w)| *w)
            .expect("matched a weekday name");
        found.push(Found {
            start: m.start(),
            end: m.end(),
            date: next_weekday(sent, weekday),
        });
    }

    let valid: Vec<Found> = found.into_iter().filter(|f| window(f.date)).collect();
    let near: Vec<&Found> = valid
        .iter()
        .filter(|f| near_keyword(&lower, f.start) || keyword_after(&lower, f.end))
        .collect();
    let pool: Vec<&Found> = if near.is_empty() {
        valid.iter().collect()
    } else {
        near
    };
    // In "from 20 to 27 November" the later date is the end of the absence.
    pool.into_iter().map(|f| f.date).max()
}

fn num(c: &regex::Captures<'_>, i: usize) -> u32 {
    c.get(i).and_then(|m| m.as_str().parse().ok()).unwrap_or(0)
}

fn ymd(y: u32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

fn overlaps(covered: &[(usize, usize)], start: usize, end: usize) -> bool {
    covered
        .iter()
        .any(|&(s, e)| start < e && s < end.max(start + 1))
}

/// "kl. 10.15", "um 9.30", "klo 10.12": a time of day, not a date.
fn preceded_by_clock_word(text: &str, start: usize) -> bool {
    let last_word = text[..start].split_whitespace().next_back().unwrap_or("");
    [
        "kl", "kl.", "klokka", "klockan", "klo", "klo.", "um", "at", "ca.", "ca",
    ]
    .contains(&last_word)
}

/// True when a return or range word stands shortly before `start`.
fn near_keyword(text: &str, start: usize) -> bool {
    let from = floor_char_boundary(text, start.saturating_sub(40));
    let before = &text[from..start];
    let words: Vec<&str> = before
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(')
        .filter(|w| !w.is_empty())
        .collect();
    let tail = words.iter().rev().take(6).copied().collect::<Vec<_>>();
    KEYWORDS.iter().any(|k| {
        if k.contains(' ') {
            before.contains(k)
        } else {
            tail.iter().any(|w| w.trim_end_matches([':', '.']) == *k)
        }
    })
}

/// True when a return word follows `end` within three words ("3.12.2026 alkaen", "am 3.12.
/// bin ich wieder da").
fn keyword_after(text: &str, end: usize) -> bool {
    let Some(after) = text.get(end..) else {
        return false;
    };
    after
        .split(|c: char| c.is_whitespace() || c == ',' || c == ')')
        .map(|w| w.trim_matches(['.', ':', ';', '!']))
        .filter(|w| !w.is_empty())
        .take(3)
        .any(|w| KEYWORDS_AFTER.contains(&w))
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// A day and month, with a year if written, as the first such date on or after the message
/// (allowing a few days back, for "I was away since 30 Nov, back 2 Dec" style texts).
fn resolve(day: u32, month: u32, year: Option<i32>, sent: NaiveDate) -> Option<NaiveDate> {
    match year {
        Some(y) if y > 0 => NaiveDate::from_ymd_opt(y, month, day),
        Some(_) => None,
        None => {
            let this_year = NaiveDate::from_ymd_opt(sent.year(), month, day);
            match this_year {
                Some(d) if d + Duration::days(7) >= sent => Some(d),
                _ => NaiveDate::from_ymd_opt(sent.year() + 1, month, day),
            }
        }
    }
}

/// The `weekday` of ISO week `week`, in the message's year or, once that week is more than
/// a week past, the next year's.
fn calendar_week(week: u32, weekday: Weekday, sent: NaiveDate) -> Option<NaiveDate> {
    let this_year = NaiveDate::from_isoywd_opt(sent.iso_week().year(), week, weekday);
    match this_year {
        Some(d) if d + Duration::days(7) >= sent => Some(d),
        _ => NaiveDate::from_isoywd_opt(sent.iso_week().year() + 1, week, weekday),
    }
}

fn next_weekday(after: NaiveDate, weekday: Weekday) -> NaiveDate {
    let mut day = after + Duration::days(1);
    while day.weekday() != weekday {
        day += Duration::days(1);
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const SENT: (i32, u32, u32) = (2026, 11, 18);

    fn found(text: &str) -> Option<NaiveDate> {
        find_return_date(text, d(SENT.0, SENT.1, SENT.2))
    }

    #[test]
    fn english() {
        assert_eq!(
            found("I am out of the office and will be back on 3 December."),
            Some(d(2026, 12, 3))
        );
        assert_eq!(
            found("Returning 12/03. For urgent matters call Sam."),
            Some(d(2026, 12, 3))
        );
        assert_eq!(
            found("I will be back Monday 7 December."),
            Some(d(2026, 12, 7))
        );
        assert_eq!(
            found("I'm away from 20 to 27 November with limited access."),
            Some(d(2026, 11, 27))
        );
        assert_eq!(found("Out until December 2nd, 2026."), Some(d(2026, 12, 2)));
        assert_eq!(
            found("I'm travelling and will return on the 30th of November."),
            Some(d(2026, 11, 30))
        );
        assert_eq!(
            found("Back in the office on Monday."),
            Some(d(2026, 11, 23))
        );
    }

    #[test]
    fn norwegian() {
        assert_eq!(found("Jeg er tilbake 3. desember."), Some(d(2026, 12, 3)));
        assert_eq!(
            found("Jeg er på ferie og er tilbake mandag 7.12."),
            Some(d(2026, 12, 7))
        );
        assert_eq!(
            found("Er tilbake på kontoret 30.11.2026."),
            Some(d(2026, 11, 30))
        );
        assert_eq!(
            found("Fravær fra 23. til 27. november."),
            Some(d(2026, 11, 27))
        );
    }

    #[test]
    fn swedish_and_danish() {
        assert_eq!(found("Jag är åter 3 december."), Some(d(2026, 12, 3)));
        assert_eq!(
            found("Jag är tillbaka måndag den 30 november."),
            Some(d(2026, 11, 30))
        );
        assert_eq!(
            found("Jeg er tilbage den 3. december."),
            Some(d(2026, 12, 3))
        );
        assert_eq!(
            found("Tilbage på kontoret mandag d. 7/12."),
            Some(d(2026, 12, 7))
        );
    }

    #[test]
    fn german() {
        assert_eq!(found("Ich bin zurück am 03.12.2026."), Some(d(2026, 12, 3)));
        assert_eq!(
            found("Ab dem 1. Dezember bin ich wieder im Büro."),
            Some(d(2026, 12, 1))
        );
        assert_eq!(
            found("Abwesend vom 23.11. bis 04.12.2026."),
            Some(d(2026, 12, 4))
        );
    }

    #[test]
    fn finnish() {
        assert_eq!(
            found("Olen lomalla ja palaan toimistolle 3.12."),
            Some(d(2026, 12, 3))
        );
        assert_eq!(
            found("Olen poissa toimistolta, takaisin maanantaina 7.12."),
            Some(d(2026, 12, 7))
        );
        assert_eq!(found("Palaan 3. joulukuuta."), Some(d(2026, 12, 3)));
        assert_eq!(
            found("Olen tavoitettavissa 3.12.2026 alkaen."),
            Some(d(2026, 12, 3))
        );
        assert_eq!(
            found("Olen lomalla 23.11.–4.12.2026 välisen ajan."),
            Some(d(2026, 12, 4))
        );
        assert_eq!(found("Palaan joulukuun 3. päivänä."), Some(d(2026, 12, 3)));
        assert_eq!(
            found("Olen koulutuksessa 4.12. asti."),
            Some(d(2026, 12, 4))
        );
        assert_eq!(found("Takaisin torstaina."), Some(d(2026, 11, 19)));
        // "alkaen" after the date marks it; another date later in the text is not the return.
        assert_eq!(
            found("Toimisto on suljettu. 1.12. alkaen olen taas paikalla. Tilaukset toimitetaan normaalisti, inventaario on 15.12."),
            Some(d(2026, 12, 1))
        );
        assert_eq!(found("Soita minulle klo 10.12 huomenna."), None);
    }

    #[test]
    fn german_forms_with_the_word_after_the_date() {
        assert_eq!(
            found("Am 3.12. bin ich wieder da, am 20.11. war ich noch im Büro."),
            Some(d(2026, 12, 3))
        );
        assert_eq!(
            found("Ich bin bis einschließlich 27.11. nicht im Büro."),
            Some(d(2026, 11, 27))
        );
        assert_eq!(
            found("Ab Montag, 30. November bin ich wieder erreichbar."),
            Some(d(2026, 11, 30))
        );
        assert_eq!(found("Rufen Sie mich um 10.12 Uhr an."), None);
        // Calendar weeks: week 49 of 2026 starts on Monday 30 November.
        assert_eq!(
            found("Ab KW 49 bin ich wieder im Büro."),
            Some(d(2026, 11, 30))
        );
        assert_eq!(
            found("Ich bin bis einschließlich Kalenderwoche 48 im Urlaub."),
            Some(d(2026, 11, 27))
        );
        assert_eq!(
            find_return_date("Zurück in KW 2.", d(2026, 12, 20)),
            Some(d(2027, 1, 11))
        );
        assert_eq!(found("Die Lieferung ist für KW 60 geplant."), None);
    }

    #[test]
    fn ignores_past_far_and_missing_dates_and_times() {
        assert_eq!(found("I was back on 2 November."), None);
        assert_eq!(
            found("Back on 3 March 2027."),
            None,
            "more than 60 days ahead"
        );
        assert_eq!(
            found("I am out of the office with limited access to email."),
            None
        );
        assert_eq!(found("Ring meg etter kl. 10.15 i morgen."), None);
    }

    #[test]
    fn year_rolls_over() {
        let sent = d(2026, 12, 20);
        assert_eq!(
            find_return_date("Back on 4 January.", sent),
            Some(d(2027, 1, 4))
        );
        assert_eq!(find_return_date("tilbake 4.1.", sent), Some(d(2027, 1, 4)));
    }

    #[test]
    fn never_panics_on_odd_text() {
        for text in [
            "",
            "31.02.",
            "99/99",
            "back 0 december",
            "bis 31.",
            "é–ü 12.",
            "mandag",
        ] {
            let _ = found(text);
        }
    }
}
