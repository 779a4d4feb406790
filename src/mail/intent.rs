//! What a person's reply says beyond "a person answered", in English, Norwegian, Swedish,
//! Danish, German and Finnish:
//!
//! - a **deferral**: "not now, try us again after the summer", "ta kontakt i uke 34",
//!   "hör av dig till hösten", "melden Sie sich im dritten Quartal", "ei juuri nyt";
//! - a **departure**: "Kari has left the company, please contact per@x.no instead",
//!   "Jeg har sluttet i Firma AS", "ist nicht mehr im Unternehmen tätig";
//! - whether the reply **asks something** of the seller: a question or a request.
//!
//! Pure rules over the new text of a message (quotes are never read: a quote of the seller's
//! own "after the summer" is not the prospect's words). Precision comes before recall: a false
//! deferral puts a seller's follow-up off by months, a false departure redirects it.

use std::sync::OnceLock;

use chrono::{Datelike, Duration, Months, NaiveDate};

use super::pattern::Pattern;
use super::quote::new_text;
use super::return_date::MONTHS;

/// The longest phrase kept, in characters.
const PHRASE_CHARS: usize = 100;

/// Lines shorter than this are greetings, signature lines or list items, not wrapped prose.
const SHORT_LINE_CHARS: usize = 50;

/// The most of one sentence that is read, in bytes.
const MAX_SENTENCE_BYTES: usize = 1_000;

/// A deferral is never believed further ahead than this ("in 14 months" is no plan).
pub const MAX_DEFERRAL_DAYS: i64 = 400;

/// A human reply that says "come back later".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deferral {
    /// The prospect's own words that decided, as written (trimmed, at most ~100 chars), for
    /// `show` and the summary to quote.
    pub phrase: String,
    /// The first calendar day of the period the prospect named; `None` when no period can be
    /// resolved ("not right now", "ikke akkurat nå").
    pub from: Option<NaiveDate>,
}

/// A reply or auto-reply saying the person has left.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Departure {
    /// The words that decided, as written (trimmed, at most ~100 chars).
    pub phrase: String,
    /// Every address the text names as who to contact instead: lower-case, deduplicated, in
    /// order of appearance; never the departed person's own address.
    pub replacements: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Sentences

/// A sentence of the text: its byte range.
#[derive(Debug, Clone, Copy)]
struct Sentence {
    start: usize,
    end: usize,
}

/// Splits `text` into sentences: at `.`, `!`, `?` or `;` followed by white space, at blank
/// lines, after a line that ends a sentence, and after a short line (under
/// [`SHORT_LINE_CHARS`]) that the next does not go on in lower case: greetings and signature
/// lines are sentences of their own, prose wrapped at 72 columns is not, even when the next
/// line starts with a German noun.
fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let push = |start: usize, end: usize, out: &mut Vec<Sentence>| {
        let piece = &text[start..end];
        let lead = piece.len() - piece.trim_start().len();
        let trail = piece.len() - piece.trim_end().len();
        if lead + trail < piece.len() {
            let (start, mut end) = (start + lead, end - trail);
            // Only so much of a sentence is read: what a person writes in one is far shorter,
            // and a stranger's endless "sentence" must not make every rule scan it again.
            if end - start > MAX_SENTENCE_BYTES {
                end = start + MAX_SENTENCE_BYTES;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
            }
            out.push(Sentence { start, end });
        }
    };
    for (i, &(at, c)) in chars.iter().enumerate() {
        let next = chars.get(i + 1).map(|&(_, c)| c);
        let split_after = match c {
            '.' | '!' | '?' | ';' => {
                next.is_none_or(char::is_whitespace)
                    && !(c == '.' && ends_with_abbreviation(&text[start..at]))
            }
            '\n' => {
                let line = text[line_start..at].trim();
                line_start = at + 1;
                // The first character of the next line that is not white space.
                let rest = chars[i + 1..]
                    .iter()
                    .map(|&(_, c)| c)
                    .find(|c| *c == '\n' || !c.is_whitespace());
                match rest {
                    None | Some('\n') => true,
                    Some(c) => {
                        line.ends_with(['.', '!', '?', ';', ':'])
                            || (line.chars().count() < SHORT_LINE_CHARS && !c.is_lowercase())
                    }
                }
            }
            _ => false,
        };
        if split_after {
            let end = at + c.len_utf8();
            push(start, end, &mut out);
            start = end;
        }
    }
    push(start, text.len(), &mut out);
    out
}

/// "1." in "1. august", "ca." or "z.B.": a full stop that ends no sentence.
fn ends_with_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    (!word.is_empty() && word.chars().all(|c| c.is_ascii_digit()))
        || [
            "ca", "z.b", "bzw", "evt", "ev", "dvs", "f.eks", "bl.a", "mr", "ms", "dr", "nr",
        ]
        .contains(&word.to_lowercase().as_str())
}

/// At most [`PHRASE_CHARS`] characters of `text[start..end]`, widened or narrowed around the
/// deciding match `core` so that the words that decided are always in it.
fn phrase(text: &str, sentence: Sentence, core: (usize, usize)) -> String {
    let whole = text[sentence.start..sentence.end].trim();
    if whole.chars().count() <= PHRASE_CHARS {
        return one_line(whole);
    }
    let core_chars = text[core.0..core.1].chars().count();
    let spare = PHRASE_CHARS.saturating_sub(core_chars) / 2;
    let before: Vec<(usize, char)> = text[sentence.start..core.0].char_indices().collect();
    let from = before
        .len()
        .checked_sub(spare)
        .map(|i| sentence.start + before[i].0)
        .unwrap_or(sentence.start);
    let mut to = core.1;
    for (taken, (i, c)) in text[core.1..sentence.end].char_indices().enumerate() {
        if taken >= spare {
            break;
        }
        to = core.1 + i + c.len_utf8();
    }
    // Whole words only: start after a cut word, end before one.
    let mut from = from;
    if from > sentence.start && !text[..from].ends_with(char::is_whitespace) {
        if let Some(space) = text[from..core.0].find(char::is_whitespace) {
            from += space;
        }
    }
    if to < sentence.end && !text[to..].starts_with(char::is_whitespace) {
        if let Some(space) = text[core.1..to].rfind(char::is_whitespace) {
            to = core.1 + space;
        }
    }
    one_line(text[from..to].trim())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn build(pattern: &str) -> Pattern {
    Pattern::new(pattern)
}

/// The word just before byte `at`, lower-case, without punctuation.
fn words_before(text: &str, at: usize, count: usize) -> Vec<String> {
    let mut words: Vec<String> = text[..at]
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == '"')
        .filter(|w| !w.is_empty())
        .rev()
        .take(count)
        .map(|w| w.to_lowercase())
        .collect();
    words.reverse();
    words
}

// ---------------------------------------------------------------------------------------------
// Deferrals

/// What a time expression names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    /// "after the summer": 1 August.
    Summer,
    /// "in the autumn": 1 September.
    Autumn,
    /// "in the spring": 1 March.
    Spring,
    /// "after new year", "next year": 1 January of next year.
    NewYear,
    /// "next month".
    NextMonth,
    /// "in Q3" (1–4).
    Quarter(u32),
    /// "in March" (1–12).
    Month(u32),
    /// "in week 34".
    Week(u32),
    /// "in two weeks".
    Days(i64),
    /// "in two months".
    Months(u32),
    /// "in a few weeks", "later this year": later, but no date.
    Unresolved,
}

struct TimePatterns {
    summer: Pattern,
    autumn: Pattern,
    spring: Pattern,
    new_year: Pattern,
    next_month: Pattern,
    quarter: Pattern,
    quarter_words: Pattern,
    month: Pattern,
    month_fi: Pattern,
    week: Pattern,
    in_count: Pattern,
    in_count_fi: Pattern,
    unresolved: Pattern,
    cue: Pattern,
    not_now: Pattern,
    /// "then", "da", "dann", "silloin": a later sentence pointing back at a named period.
    then: Pattern,
}

/// Full month names from the shared table (abbreviations such as "mar" or "des" are too
/// ambiguous in running text).
fn month_names() -> Vec<(&'static str, u32)> {
    const ABBREVIATIONS: [&str; 17] = [
        "jan", "feb", "febr", "mar", "mrz", "apr", "jun", "jul", "aug", "sept", "sep", "oct",
        "okt", "nov", "dec", "des", "dez",
    ];
    MONTHS
        .iter()
        .copied()
        .filter(|(name, _)| !ABBREVIATIONS.contains(name))
        .collect()
}

const FINNISH_MONTHS: [&str; 12] = [
    "tammi", "helmi", "maalis", "huhti", "touko", "kesä", "heinä", "elo", "syys", "loka", "marras",
    "joulu",
];

fn time_patterns() -> &'static TimePatterns {
    static PATTERNS: OnceLock<TimePatterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let mut months: Vec<&str> = month_names().into_iter().map(|(n, _)| n).collect();
        months.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
        let months = months.join("|");
        TimePatterns {
            summer: build(
                r"(?i)\b(?:after (?:the )?summer(?: (?:holidays?|vacation|break))?|after (?:the )?summer holiday season|(?:etter|over) (?:sommeren|sommerferien|ferien|fellesferien)|(?:efter|över) (?:sommaren|semestern|sommarsemestern|semestrarna|sommarlovet)|(?:efter|over) (?:sommeren|sommerferien|ferien)|nach (?:den )?(?:sommerferien|ferien)|nach (?:dem sommer|der sommerpause|den betriebsferien)|(?:kesän|lomien|loman|kesälomien|kesäloman|lomakauden) jälkeen)\b",
            ),
            autumn: build(
                r"(?i)\b(?:in the (?:autumn|fall)|this (?:autumn|fall)|in (?:early )?(?:autumn|fall)|til høsten|i høst|utpå høsten|i løpet av høsten|till hösten|i höst|under hösten|framåt hösten|til efteråret|i efteråret|hen på efteråret|im herbst|ab herbst|im laufe des herbstes|syksyllä|ensi syksynä|syksyn aikana|syksymmällä)\b",
            ),
            spring: build(
                r"(?i)\b(?:in the spring|this spring|til våren|till våren|til foråret|im frühjahr|im frühling|keväällä|ensi keväänä)\b",
            ),
            new_year: build(
                r"(?i)\b(?:(?:early )?next year|after (?:the )?new year(?:'s)?|(?:early )?in the new year|after (?:the )?(?:christmas|xmas)(?: holidays)?|(?:til )?neste år|etter (?:nyttår|jul|julen|årsskiftet)|over nyttår|på nyåret|(?:till )?nästa år|efter (?:nyår|nyåret|årsskiftet|helgerna)|över nyår|på nya året|næste år|efter (?:nytår|jul|julen)|over nytår|i det nye år|(?:im )?nächste[ns]? jahre?s?|im kommenden jahr|nach (?:neujahr|weihnachten|dem jahreswechsel)|im neuen jahr|anfang des neuen jahres|ensi vuonna|ensi vuoden (?:alussa|puolella|aikana)|(?:vuodenvaihteen|uuden vuoden|joulun) jälkeen)\b",
            ),
            next_month: build(
                r"(?i)\b(?:next month|neste måned|nästa månad|næste måned|nächsten monat|nächster monat|im kommenden monat|ensi kuussa|ensi kuun (?:alussa|aikana))\b",
            ),
            quarter: build(r"(?i)\bq([1-4])(?:[ /-]?(20\d\d))?\b"),
            quarter_words: build(
                r"(?i)\b(?:([1-4])\.? ?|(first|second|third|fourth|første|andre|tredje|fjerde|första|andra|fjärde|anden|ersten|zweiten|dritten|vierten|ensimmäisellä|toisella|kolmannella|neljännellä) )(?:quarter|kvartal|kvartalet|quartal|kvartaalilla|neljänneksellä)\b",
            ),
            month: build(&format!(
                r"(?i)\b(?:in|i|im|in early|in late|in mid|early|late|mid-|from|fra|från|fra og med|ab|anfang|ende|mitte|i begynnelsen av|i slutten av|i starten av|i midten av|i början av|i slutet av|i mitten av|i starten af|i begyndelsen af|i slutningen af|i midten af|after|etter|efter|nach|until|til|till|bis|around|omkring|rundt)\s+({months})\b(?:\s+(20\d\d))?"
            )),
            month_fi: build(&format!(
                r"(?i)\b({})kuu(?:ssa|n alussa|n lopussa|n puolivälissä|n aikana|n jälkeen|sta alkaen|sta lähtien)\b",
                FINNISH_MONTHS.join("|")
            )),
            week: build(
                r"(?i)\b(?:week|wk|uke|veke|vecka|uge|kw|kalenderwoche|viikolla|viikko|viikon|(?:i|under|till|från|efter|tidigast|runt) v\.?)\s?(\d{1,2})\b",
            ),
            in_count: build(
                r"(?i)\b(?:in|om) (a couple of|a couple|a few|a|an|one|two|three|four|five|six|en|ett|ei|én|et|to|tre|fire|fem|seks|et par|ett par|noen|några|nogle|två|fyra|sex|einer|einem|eins|zwei|drei|vier|fünf|sechs|ein paar|einigen|\d{1,2}) (weeks?|months?|ukes?|uker|måneder|måneders|måned|mnd|veckor|vecka|månader|månad|uger|uge|wochen|woche|monaten|monat)\b",
            ),
            in_count_fi: build(
                r"(?i)\b(?:(yhden|kahden|kolmen|neljän|viiden|kuuden|parin|muutaman|\d{1,2}) )?(viikon|kuukauden) (?:päästä|kuluttua|päähän)\b",
            ),
            unresolved: build(
                r"(?i)\b(?:later this year|later in the year|senere i år|senere på året|senare i år|senare under året|senere på året|später im jahr|im laufe des jahres|myöhemmin tänä vuonna|myöhemmin syksyllä)\b",
            ),
            cue: build(
                r"(?i)\b(?:try (?:us|me|again)|contact|get back|reach out|come back|circle back|follow up|touch base|get in touch|be in touch|revisit|reconnect|check (?:back|in)|talk|speak|ping (?:me|us)|look (?:at|into) (?:it|this)|pick (?:this|it) up|take (?:this|it) up|more relevant|better time|postpone|postponed|on hold|no budget|write to (?:me|us)|e-?mail (?:me|us)|drop (?:me|us) a line|resume|ta (?:gjerne )?kontakt|kontakt|kontakte|kontakter|høre fra (?:deg|dere|dig|jer)|hør fra|tar? (?:gjerne )?(?:det|dette|saken|tråden) opp(?: igjen)?|tar? opp igjen|prøv(?:e)? igjen|komme tilbake|kom tilbake|kommer tilbake|ta en prat|snakke|snakkes|se på (?:det|dette|saken)|se nærmere på|aktuelt|aktuell|relevant|ikke budsjett|vente|vent|utsette|utsatt|følge opp|følg opp|ring|ringe|hör (?:gärna )?av (?:dig|er)|höra av|höras|hörs|återkomma|återkom|återkommer|kontakta|prata|tar? (?:gärna )?upp|aktuellt|vänta|skjuta upp|följa upp|följ upp|ringa|försök igen|pröva igen|vend(?:e|er)? (?:gerne )?tilbage|skriv|tag(?:e|er)? (?:det|sagen) op|tage fat|tag fat|følge op|følg op|aktuel|udskyde|udskudt|prøv igen|melden|melde|zurück|zurückkommen|zurückmelden|kontaktieren|ansprechen|sprechen|erneut|kein budget|aktuell|verschieben|verschoben|nochmal|noch einmal|auf (?:sie|dich|euch|uns) zu|zukommen|anrufen|ota(?:kaa)? yhteyttä|otetaan yhteyttä|otan yhteyttä|otamme yhteyttä|yhteyttä|palataan|palaan|palaamme|palatkaa|palaa|uudelleen|uudestaan|ajankohtai\w*|soita|soittakaa|kysykää|yhteydessä|jutellaan|keskustellaan)\b",
            ),
            then: build(
                r"(?i)\b(?:then|by then|at that (?:time|point)|da|då|dann|til den tid|till dess|silloin)\b",
            ),
            not_now: build(
                r"(?i)\b(?:not (?:right )?now|not at the moment|not at this (?:time|point)|not for now|maybe later|perhaps later|not the right time|ikke (?:akkurat |helt )?nå|ikke for øyeblikket|ikke i øyeblikket|ikke på nåværende tidspunkt|kanskje senere|inte (?:just )?nu|inte för tillfället|inte i nuläget|kanske senare|ikke (?:lige )?nu|ikke for øjeblikket|ikke på nuværende tidspunkt|måske senere|nicht jetzt|(?:im moment|momentan|derzeit|zurzeit|aktuell|gerade) (?:leider )?nicht|vielleicht später|ei (?:juuri )?nyt|ei tällä hetkellä|ehkä myöhemmin)\b",
            ),
        }
    })
}

/// Words that, right before a time expression, give it the "not before then" sense:
/// "not until Q3", "først etter sommeren", "tidigast i augusti", "erst im Herbst", "vasta
/// syksyllä". ("Until" alone is as often past: "we waited until March".)
#[rustfmt::skip]
const NOT_BEFORE: [&str; 15] = [
    "not until", "not before", "earliest", "først", "tidligst", "ikke før", "först", "tidigast",
    "förrän", "erst", "frühestens", "nicht vor", "vasta", "aikaisintaan", "ei ennen",
];

/// Nouns after "after the summer" that make it an event, not a season ("the summer party").
const EVENT_NOUNS: [&str; 12] = [
    "party",
    "event",
    "meeting",
    "conference",
    "fair",
    "sale",
    "sales",
    "campaign",
    "launch",
    "trip",
    "offsite",
    "dinner",
];

/// A time expression found in a sentence.
#[derive(Debug, Clone, Copy)]
struct TimeExpression {
    start: usize,
    end: usize,
    period: Period,
}

fn count_word(word: &str) -> Option<u32> {
    let word = word.to_lowercase();
    if let Ok(n) = word.parse::<u32>() {
        return Some(n);
    }
    Some(match word.as_str() {
        "a" | "an" | "one" | "en" | "ett" | "ei" | "én" | "et" | "einer" | "einem" | "eins"
        | "yhden" => 1,
        "two" | "to" | "två" | "zwei" | "kahden" | "a couple" | "a couple of" | "et par"
        | "ett par" | "parin" => 2,
        "three" | "tre" | "drei" | "kolmen" => 3,
        "four" | "fire" | "fyra" | "vier" | "neljän" => 4,
        "five" | "fem" | "fünf" | "viiden" => 5,
        "six" | "seks" | "sex" | "sechs" | "kuuden" => 6,
        _ => return None,
    })
}

fn is_week_unit(unit: &str) -> bool {
    let unit = unit.to_lowercase();
    ["week", "uke", "vecka", "veckor", "uge", "woche", "viikon"]
        .iter()
        .any(|w| unit.starts_with(w))
}

fn quarter_number(word: &str) -> Option<u32> {
    let word = word.to_lowercase();
    if let Ok(n) = word.parse::<u32>() {
        return Some(n);
    }
    Some(match word.as_str() {
        "first" | "første" | "första" | "ersten" | "ensimmäisellä" => 1,
        "second" | "andre" | "andra" | "anden" | "zweiten" | "toisella" => 2,
        "third" | "tredje" | "dritten" | "kolmannella" => 3,
        "fourth" | "fjerde" | "fjärde" | "vierten" | "neljännellä" => 4,
        _ => return None,
    })
}

/// The time expressions in `sentence`, in order.
fn time_expressions(sentence: &str) -> Vec<TimeExpression> {
    let p = time_patterns();
    let mut found: Vec<TimeExpression> = Vec::new();
    let add = |start: usize, end: usize, period: Period, found: &mut Vec<TimeExpression>| {
        if !found.iter().any(|f| start < f.end && f.start < end) {
            found.push(TimeExpression { start, end, period });
        }
    };
    for m in p.summer.find_iter(sentence) {
        let next = sentence[m.end()..]
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .to_lowercase();
        if !EVENT_NOUNS.contains(&next.as_str()) {
            add(m.start(), m.end(), Period::Summer, &mut found);
        }
    }
    for (re, period) in [
        (&p.autumn, Period::Autumn),
        (&p.spring, Period::Spring),
        (&p.new_year, Period::NewYear),
        (&p.next_month, Period::NextMonth),
        (&p.unresolved, Period::Unresolved),
    ] {
        for m in re.find_iter(sentence) {
            add(m.start(), m.end(), period, &mut found);
        }
    }
    for c in p.quarter.captures_iter(sentence) {
        let m = c.get(0).expect("whole match");
        let q = quarter_number(&c[1]).unwrap_or(0);
        add(m.start(), m.end(), Period::Quarter(q), &mut found);
    }
    for c in p.quarter_words.captures_iter(sentence) {
        let m = c.get(0).expect("whole match");
        let word = c.get(1).or(c.get(2)).map(|w| w.as_str()).unwrap_or("");
        if let Some(q) = quarter_number(word) {
            add(m.start(), m.end(), Period::Quarter(q), &mut found);
        }
    }
    let names = month_names();
    for c in p.month.captures_iter(sentence) {
        let m = c.get(0).expect("whole match");
        let name = c[1].to_lowercase();
        if let Some((_, month)) = names.iter().find(|(n, _)| *n == name) {
            add(m.start(), m.end(), Period::Month(*month), &mut found);
        }
    }
    for c in p.month_fi.captures_iter(sentence) {
        let m = c.get(0).expect("whole match");
        let stem = c[1].to_lowercase();
        if let Some(i) = FINNISH_MONTHS.iter().position(|n| *n == stem) {
            add(m.start(), m.end(), Period::Month(i as u32 + 1), &mut found);
        }
    }
    for c in p.week.captures_iter(sentence) {
        let m = c.get(0).expect("whole match");
        let week: u32 = c[1].parse().unwrap_or(0);
        if (1..=53).contains(&week) {
            add(m.start(), m.end(), Period::Week(week), &mut found);
        }
    }
    for c in p.in_count.captures_iter(sentence) {
        let m = c.get(0).expect("whole match");
        let period = match count_word(&c[1]) {
            Some(n) if is_week_unit(&c[2]) && (1..=52).contains(&n) => Period::Days(7 * n as i64),
            Some(n) if !is_week_unit(&c[2]) && (1..=12).contains(&n) => Period::Months(n),
            Some(_) => continue,
            None => Period::Unresolved,
        };
        add(m.start(), m.end(), period, &mut found);
    }
    for c in p.in_count_fi.captures_iter(sentence) {
        let m = c.get(0).expect("whole match");
        let n = match c.get(1) {
            None => Some(1),
            Some(word) => count_word(word.as_str()),
        };
        let period = match n {
            Some(n) if is_week_unit(&c[2]) && (1..=52).contains(&n) => Period::Days(7 * n as i64),
            Some(n) if !is_week_unit(&c[2]) && (1..=12).contains(&n) => Period::Months(n),
            Some(_) => continue,
            None => Period::Unresolved,
        };
        add(m.start(), m.end(), period, &mut found);
    }
    found.sort_by_key(|f| f.start);
    found
}

/// "after March", "etter Q3", "Q3:n jälkeen": the period after the one named.
fn names_the_period_after(sentence: &str, expression: &TimeExpression) -> bool {
    let text = &sentence[expression.start..expression.end];
    let lower = text.to_lowercase();
    let before = words_before(sentence, expression.start, 1);
    let after_word = ["after", "etter", "efter", "nach"];
    lower.starts_with("after ")
        || lower.starts_with("etter ")
        || lower.starts_with("efter ")
        || lower.starts_with("nach ")
        || lower.ends_with("n jälkeen")
        || before.iter().any(|w| after_word.contains(&w.as_str()))
        || sentence[expression.end..]
            .trim_start_matches(':')
            .to_lowercase()
            .starts_with("n jälkeen")
}

/// The first day of the period, judged from a reply received on `received`.
fn resolve(
    sentence: &str,
    expression: &TimeExpression,
    received: NaiveDate,
) -> Option<Option<NaiveDate>> {
    let year = received.year();
    let after = names_the_period_after(sentence, expression);
    let first_of = |month: u32| -> Option<NaiveDate> {
        // The next 1 `month` strictly after the month received in.
        let this_year = NaiveDate::from_ymd_opt(year, month, 1)?;
        if month > received.month() {
            Some(this_year)
        } else {
            NaiveDate::from_ymd_opt(year + 1, month, 1)
        }
    };
    let date = match expression.period {
        Period::Unresolved => return Some(None),
        Period::Summer => first_of(8),
        Period::Autumn => first_of(9),
        Period::Spring => first_of(3),
        Period::NewYear => NaiveDate::from_ymd_opt(year + 1, 1, 1),
        Period::NextMonth => first_of_month(received).checked_add_months(Months::new(1)),
        Period::Quarter(q) => {
            let explicit_year = time_patterns()
                .quarter
                .captures(&sentence[expression.start..expression.end])
                .and_then(|c| c.get(2))
                .and_then(|y| y.as_str().parse::<i32>().ok());
            let q = if after { q + 1 } else { q };
            let (q, bump) = if q > 4 { (1, 1) } else { (q, 0) };
            let month = 3 * (q - 1) + 1;
            match explicit_year {
                Some(y) => NaiveDate::from_ymd_opt(y + bump, month, 1),
                None => {
                    let start = NaiveDate::from_ymd_opt(year, month, 1)?;
                    if start > received {
                        Some(start)
                    } else {
                        NaiveDate::from_ymd_opt(year + 1, month, 1)
                    }
                }
            }
        }
        Period::Month(month) => {
            let explicit_year = time_patterns()
                .month
                .captures(&sentence[expression.start..expression.end])
                .and_then(|c| c.get(2))
                .and_then(|y| y.as_str().parse::<i32>().ok());
            let (month, bump) = match (after, month) {
                (true, 12) => (1, 1),
                (true, m) => (m + 1, 0),
                (false, m) => (m, 0),
            };
            match explicit_year {
                Some(y) => NaiveDate::from_ymd_opt(y + bump, month, 1),
                None => first_of(month),
            }
        }
        Period::Week(week) => {
            let this_year =
                NaiveDate::from_isoywd_opt(received.iso_week().year(), week, chrono::Weekday::Mon);
            match this_year {
                Some(d) if d > received => Some(d),
                _ => NaiveDate::from_isoywd_opt(
                    received.iso_week().year() + 1,
                    week,
                    chrono::Weekday::Mon,
                ),
            }
        }
        Period::Days(days) => received.checked_add_signed(Duration::days(days)),
        Period::Months(n) => received.checked_add_months(Months::new(n)),
    };
    // A named period that is past, or too far ahead, is no plan: the expression does not count.
    let date =
        date.filter(|d| *d > received && *d - received <= Duration::days(MAX_DEFERRAL_DAYS))?;
    Some(Some(date))
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The "not now" phrase in `sentence`, if any: never "not anymore" ("ikke nå lenger"), and
/// never a question back ("why not now?").
fn not_now(sentence: &str) -> Option<(usize, usize)> {
    time_patterns()
        .not_now
        .find_iter(sentence)
        .find(|m| {
            let next = sentence[m.end()..]
                .split(|c: char| !c.is_alphanumeric())
                .find(|w| !w.is_empty())
                .unwrap_or("")
                .to_lowercase();
            let anymore = [
                "lenger", "lengre", "längre", "længere", "mehr", "enää", "anymore", "more",
                "longer",
            ]
            .contains(&next.as_str());
            let before = words_before(sentence, m.start(), 1);
            let why = before.iter().any(|w| {
                [
                    "why", "hvorfor", "varför", "warum", "miksi", "hvis", "if", "om", "jos", "wenn",
                ]
                .contains(&w.as_str())
            });
            !anymore && !why && stands_as_a_clause(sentence, m.start(), m.end(), &next)
        })
        .map(|m| (m.start(), m.end()))
}

/// The most words between a contact word and the time expression it goes with.
const CUE_GAP_WORDS: usize = 6;

/// True when a contact or "later" word stands close to the expression, in the same clause:
/// "get back to me in Q3", "wir kommen in KW 34 auf Sie zurück", but not "we signed in March,
/// contact me if anything comes up".
fn cue_near(sentence: &str, expression: &TimeExpression) -> bool {
    time_patterns().cue.find_iter(sentence).any(|m| {
        let gap = if m.end() <= expression.start {
            &sentence[m.end()..expression.start]
        } else if m.start() >= expression.end {
            &sentence[expression.end..m.start()]
        } else {
            ""
        };
        !gap.contains([',', ';', ':', '–', '—', '(', ')'])
            && gap.split_whitespace().count() <= CUE_GAP_WORDS
    })
}

/// "Not right now, sorry", "Hei Kari, ikke akkurat nå.", "Det passer ikke akkurat nå.":
/// a "not now" that is an answer of its own, not an adverb inside another statement
/// ("jeg har ikke nå tilgang til dokumentet").
fn stands_as_a_clause(sentence: &str, start: usize, end: usize, next: &str) -> bool {
    let before = sentence[..start].trim_end();
    let opens = before.is_empty()
        || before.ends_with([',', ';', ':', '–', '—', '-', '!', '.', '('])
        || words_before(sentence, start, 1)
            .iter()
            .any(|w| CLAUSE_OPENERS.contains(&w.as_str()));
    let after = sentence[end..].trim_start();
    let closes = after.is_empty()
        || after.starts_with([',', ';', ':', '–', '—', '-', '!', '.', ')', '?'])
        || NOT_NOW_COMPLEMENTS.contains(&next);
    opens || closes
}

/// Words after which a "not now" opens its own clause: "but not right now", "sorry, not now".
#[rustfmt::skip]
const CLAUSE_OPENERS: [&str; 22] = [
    "but", "men", "mutta", "aber", "and", "og", "och", "und", "ja", "sorry", "unfortunately",
    "dessverre", "tyvärr", "desværre", "leider", "valitettavasti", "thanks", "takk", "tack",
    "tak", "danke", "kiitos",
];

/// Words that complete a "not now" into a statement of its own: "im Moment nicht möglich".
#[rustfmt::skip]
const NOT_NOW_COMPLEMENTS: [&str; 13] = [
    "aktuelt", "aktuellt", "aktuel", "aktuell", "relevant", "möglich", "interessant",
    "interested", "ajankohtainen", "mulig", "möjligt", "muligt", "mahdollista",
];

/// True when words right before or after the expression give it the "not before then" sense.
fn not_before(sentence: &str, expression: &TimeExpression) -> bool {
    let before = words_before(sentence, expression.start, 2).join(" ");
    let after = sentence[expression.end..].trim_start().to_lowercase();
    NOT_BEFORE
        .iter()
        .any(|w| before == *w || before.ends_with(&format!(" {w}")))
        || [
            "at the earliest",
            "tidligst",
            "tidigast",
            "frühestens",
            "aikaisintaan",
        ]
        .iter()
        .any(|w| after.starts_with(w))
}

/// Finds a "come back later" in the new text of a human reply received on `received`. A time
/// expression counts only with a contact or "later" word in its sentence, or a "not now" in
/// its sentence or the one before; a "not now" alone gives a deferral without a date.
pub fn find_deferral(new_text_of_reply: &str, received: NaiveDate) -> Option<Deferral> {
    // A quote is never the prospect's words, even when the caller passed the whole body.
    let text = new_text(new_text_of_reply);
    let p = time_patterns();
    let spans = sentences(&text);
    let mut unresolved: Option<Deferral> = None;
    let mut previous_not_now = false;
    // The time expressions of the sentence before, for "… in the autumn. Get in touch then."
    let mut previous: Vec<(Sentence, TimeExpression)> = Vec::new();
    for span in spans {
        let sentence = &text[span.start..span.end];
        let now = not_now(sentence);
        let cue = p.cue.is_match(sentence);
        let expressions = time_expressions(sentence);
        if expressions.is_empty() && cue && p.then.is_match(sentence) {
            for (before, expression) in &previous {
                let words = &text[before.start..before.end];
                if let Some(Some(from)) = resolve(words, expression, received) {
                    let core = (
                        before.start + expression.start,
                        before.start + expression.end,
                    );
                    return Some(Deferral {
                        phrase: phrase(&text, *before, core),
                        from: Some(from),
                    });
                }
            }
        }
        previous = expressions.iter().map(|e| (span, *e)).collect();
        for expression in expressions {
            let later = cue_near(sentence, &expression)
                || now.is_some()
                || previous_not_now
                || not_before(sentence, &expression);
            if !later {
                continue;
            }
            let Some(from) = resolve(sentence, &expression, received) else {
                continue;
            };
            let core = (span.start + expression.start, span.start + expression.end);
            let found = Deferral {
                phrase: phrase(&text, span, core),
                from,
            };
            if from.is_some() {
                return Some(found);
            }
            unresolved.get_or_insert(found);
        }
        if let Some((start, end)) = now {
            unresolved.get_or_insert(Deferral {
                phrase: phrase(&text, span, (span.start + start, span.start + end)),
                from: None,
            });
        }
        previous_not_now = now.is_some();
    }
    unresolved
}

// ---------------------------------------------------------------------------------------------
// Departures

struct DeparturePatterns {
    phrases: Pattern,
    contact: Pattern,
    reach: Pattern,
    address: Pattern,
    closing: Pattern,
}

fn departure_patterns() -> &'static DeparturePatterns {
    static PATTERNS: OnceLock<DeparturePatterns> = OnceLock::new();
    PATTERNS.get_or_init(|| DeparturePatterns {
        // Each alternative is a departure on its own; `departure_guard` rejects what speaks of
        // something else ("we are no longer with the old supplier", "har sluttet å bruke").
        phrases: build(concat!(
            r"(?i)\b(?:",
            // English
            r"no longer (?:with|at) (?:us|the company|the firm|the organi[sz]ation|our company|this company|(?-i:\p{Lu})\w*)|",
            r"no longer employed|no longer part of (?:the|our) (?:team|company|organi[sz]ation)|no longer part of (?-i:\p{Lu})\w*|",
            r"no longer (?:works?|working) (?:at|for|with|in|here)|",
            r"(?:has|have|had|'ve) left (?:the company|the organi[sz]ation|the firm|the business|us|our company|our team)|",
            r"(?:has|have|'ve) (?:now )?left (?-i:\p{Lu})\w*|",
            r"(?:has|have) moved on from|",
            // Norwegian
            r"har (?:(?-i:\p{Lu})\w+ |dessverre |nå |nettopp |nylig |allerede )?sluttet|har fratrådt|har fratrådd|er fratrådt|er ikke lenger ansatt|er ikke lengre ansatt|",
            r"jobber ikke (?:lenger|lengre) (?:i|hos|ved|for)|arbeider ikke (?:lenger|lengre) (?:i|hos|ved|for)|",
            r"er ikke (?:lenger|lengre) (?:i|hos|ved) (?:selskapet|firmaet|bedriften|organisasjonen|(?-i:\p{Lu})\w*)|",
            r"har gått videre til (?:en )?(?:ny|annen|andre|nye)|har forlatt (?:selskapet|firmaet|bedriften|oss|(?-i:\p{Lu})\w*)|",
            // Swedish
            r"har (?:(?-i:\p{Lu})\w+ |tyvärr |nu |nyss |precis |redan )?slutat|är inte längre anställd|inte längre är anställd|arbetar inte längre (?:hos|på|vid|för|i)|",
            r"jobbar inte längre (?:hos|på|vid|för|i)|har lämnat (?:företaget|bolaget|organisationen|oss|(?-i:\p{Lu})\w*)|",
            r"har avslutat sin anställning|finns inte längre kvar (?:på|hos|i)|",
            // Danish
            r"er (?:desværre |nu |netop )?stoppet|er ikke længere ansat|er ikke mere ansat|arbejder ikke (?:længere|mere) (?:hos|i|ved|for)|",
            r"har forladt (?:virksomheden|firmaet|selskabet|organisationen|os|(?-i:\p{Lu})\w*)|",
            r"er ikke længere (?:hos|i|ved) (?:virksomheden|firmaet|selskabet|(?-i:\p{Lu})\w*)|",
            // German
            r"ist nicht mehr (?:bei|im|in|für|tätig|beschäftigt|angestellt|mitarbeiter|teil)|",
            r"nicht mehr im unternehmen|nicht mehr (?:bei uns|für uns|im hause?) (?:tätig|beschäftigt)|",
            r"hat (?:das|unser) (?:unternehmen|haus|team) verlassen|hat die firma verlassen|hat uns verlassen|",
            r"(?:ist|bin) (?:aus dem unternehmen|bei uns) ausgeschieden|",
            // Finnish
            r"(?:en|ei) (?:ole )?enää (?:\S+ ){0,2}?(?:palveluksessa|töissä|talossa|yrityksessä)|",
            r"(?:en|ei) työskentele enää|(?:en|ei) enää työskentele|on lopettanut|on siirtynyt (?:toisen työnantajan|uusiin tehtäviin|muihin tehtäviin)",
            r")\b",
        )),
        contact: build(
            r"(?i)\b(?:contact|write to|reach|e-?mail|send|direct|forward|refer|get in touch|turn to|taken over|takes over|has taken over|will take over|successor|replacement|colleague|kontakt|kontakte|kontakta|ta kontakt|skriv|skrive|send|sende|sendes|sendt|skicka|skickas|henvend|henvende|henvendelser|henvendelse|vend deg|vänd dig|vänd er|wenden sie sich|wende dich|wenden|ansprechpartner|ansprechpartnerin|erreichen|übernimmt|übernommen|nachfolger|nachfolgerin|tar over|har overtatt|overtar|overtager|har overtaget|tar över|har tagit över|efterträdare|ersätter|ansvarlig|ansvarig|ota yhteyttä|ottakaa yhteyttä|yhteyttä|yhteydessä|lähetä|lähettäkää|hoitaa|seuraaja|tavoittaa|tavoitat)\b",
        ),
        // A sentence that goes on about the person named before: "She can be reached at …".
        reach: build(
            r"(?i)\b(?:reached|reach (?:him|her|them)|nås|kan nås|treffes|når du|nås på|kan nås på|erreichbar|erreichen sie|tavoittaa|tavoitat|hans e-?post|hennes e-?post|her e-?mail|his e-?mail|hans adresse|hennes adresse|seine adresse|ihre adresse|sähköposti)\b",
        ),
        address: build(r"(?i)\b[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"),
        closing: build(
            r"(?i)^(?:best regards|kind regards|regards|best|thanks|thank you|cheers|sincerely|med vennlig hilsen|vennlig hilsen|mvh|hilsen|beste hilsen|med venlig hilsen|venlig hilsen|de bedste hilsner|bedste hilsner|mvh\.|med vänlig hälsning|med vänliga hälsningar|vänliga hälsningar|vänligen|hälsningar|mvh|mit freundlichen grüßen|freundliche grüße|viele grüße|beste grüße|liebe grüße|gruß|grüße|ystävällisin terveisin|terveisin|parhain terveisin|kiitos)[\s,.!]*$",
        ),
    })
}

/// Pronouns and words that make the subject of a departure phrase a thing or the writer's
/// company ("we are no longer with …", "det har sluttet å virke").
#[rustfmt::skip]
const NOT_A_PERSON: [&str; 22] = [
    "we", "we're", "we've", "it", "it's", "this", "that", "vi", "det", "den", "dette", "denne",
    "wir", "es", "das", "dies", "me", "se", "tämä", "our", "they", "system",
];

/// Words after a departure phrase that make it about something else than a job:
/// "har sluttet å bruke", "har slutat med", "no longer with the old supplier".
#[rustfmt::skip]
const NOT_A_JOB: [&str; 20] = [
    "å", "med", "att", "at", "the old", "the previous", "the former", "the same", "that", "this",
    "those", "these", "using", "to use", "selling", "producing", "the product", "the service",
    "them", "zu",
];

/// True when the departure phrase at `start..end` of `sentence` speaks of a person leaving.
fn departure_guard(sentence: &str, start: usize, end: usize, context: &str) -> bool {
    let matched = sentence[start..end].to_lowercase();
    let subject = words_before(sentence, start, 2);
    // For phrases that begin with their verb ("har sluttet"), the word before is the subject;
    // for "ist nicht mehr …" the subject is before "ist".
    if subject
        .last()
        .is_some_and(|w| NOT_A_PERSON.contains(&w.trim_end_matches([':', '.'])))
        || (subject.len() == 2
            && ["are", "is", "er", "är", "ist", "sind", "on", "ovat"]
                .contains(&subject[1].as_str())
            && NOT_A_PERSON.contains(&subject[0].as_str()))
    {
        return false;
    }
    let after = sentence[end..].trim_start().to_lowercase();
    if matched.ends_with(" with") || matched.ends_with(" at") || matched.ends_with("part of") {
        // "no longer with the old supplier": the object must be an employer, not a thing.
        if NOT_A_JOB
            .iter()
            .any(|w| after.starts_with(&format!("{w} ")))
        {
            return false;
        }
    }
    let next = after
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    let verb_only = ["sluttet", "slutat", "stoppet", "lopettanut"]
        .iter()
        .any(|v| matched.ends_with(v));
    if verb_only && NOT_A_JOB.contains(&next) {
        return false;
    }
    // "er stoppet" and "on lopettanut" also stop machines and projects ("Produktionen er
    // stoppet i denne uge"): an employer must follow, or a person must be the subject.
    if matched.ends_with("stoppet") || matched.ends_with("lopettanut") {
        let original_after: Vec<&str> = sentence[end..].split_whitespace().take(2).collect();
        let capital = |w: Option<&&str>| w.is_some_and(|w| w.starts_with(char::is_uppercase));
        let employer_follows = next == "hos"
            || (["i", "ved", "pr", "per", "som"].contains(&next) && capital(original_after.get(1)))
            || ["yrity", "meillä", "työ", "palvelu", "talo"]
                .iter()
                .any(|stem| next.starts_with(stem))
            || capital(original_after.first());
        let sentence_ends = after.is_empty() || after.starts_with(['.', ',', '!', ';']);
        // The subject stands right before the phrase ("Mette Jensen er …", "Hän on …").
        let subject: Vec<&str> = sentence[..start].split_whitespace().rev().take(2).collect();
        let pronoun = subject.first().is_some_and(|w| {
            ["jeg", "han", "hun", "hen", "hän", "minä"].contains(&w.to_lowercase().as_str())
        });
        let full_name =
            subject.len() == 2 && subject.iter().all(|w| w.starts_with(char::is_uppercase));
        if !(employer_follows || (sentence_ends && (pronoun || full_name))) {
            return false;
        }
    }
    // "has left Oslo", "har forladt København": a capitalised object is an employer only with
    // words of work in the sentence or the next.
    let object_is_a_name = sentence[start..end]
        .split_whitespace()
        .next_back()
        .is_some_and(|w| w.starts_with(char::is_uppercase))
        && ![" hos ", "no longer", " bei "]
            .iter()
            .any(|w| matched.contains(w));
    if object_is_a_name && !WORK_WORDS.iter().any(|w| context.contains(w)) {
        return false;
    }
    // "Regnet har sluttet", "Projektet har slutat": a definite noun, not a person, stopped.
    if verb_only {
        let subject: Vec<&str> = sentence[..start].split_whitespace().rev().take(2).collect();
        if let [only] = subject.as_slice() {
            let only = only.to_lowercase();
            if only.ends_with("et") || only.ends_with("ene") {
                return false;
            }
        }
    }
    true
}

/// Words of work that make "has left Acme" a job left, not a town ("at Acme", "hos Acme" and
/// "bei Acme" need none).
#[rustfmt::skip]
const WORK_WORDS: [&str; 40] = [
    "job", "company", "position", "role", "colleague", "successor", "employ", "contact",
    "jobb", "stilling", "selskap", "firma", "kollega", "etterfølger", "kontakt", "ansatt",
    "tjänst", "företag", "efterträdare", "anställ", "selskab", "virksomhed", "efterfølger",
    "ansat", "stelle", "unternehmen", "nachfolger", "kolleg", "työ", "yritys", "seuraaja",
    "tehtäv", " ltd", " gmbh", " a/s", " oy", "responsib", "ansvarlig", "ansvarig", "zuständig",
];

/// An e-mail address as written, lower-case, without a `mailto:` prefix.
fn addresses_in(sentence: &str) -> Vec<String> {
    departure_patterns()
        .address
        .find_iter(sentence)
        .map(|m| m.as_str().trim_matches(['.', '\'']).to_lowercase())
        .collect()
}

/// Finds a "has left" in `text` (the new text of a reply or auto-reply from `sender`), with
/// the addresses the text asks to contact instead.
pub fn find_departure(text: &str, sender: &str) -> Option<Departure> {
    let text = new_text(text);
    let p = departure_patterns();
    let spans = sentences(&text);
    let (at, core) = spans.iter().enumerate().find_map(|(i, span)| {
        let sentence = &text[span.start..span.end];
        let mut found = p.phrases.find_iter(sentence).peekable();
        found.peek()?;
        // The sentence and the next, lower-case: the words around a departure.
        let next = spans.get(i + 1).map_or("", |s| &text[s.start..s.end]);
        let context = format!("{sentence} {next}").to_lowercase();
        found
            .find(|m| departure_guard(sentence, m.start(), m.end(), &context))
            .map(|m| (i, (span.start + m.start(), span.start + m.end())))
    })?;
    let sender = sender.trim().to_lowercase();
    let mut replacements: Vec<String> = Vec::new();
    // The departure sentence and the next few, up to the closing ("Best regards"): addresses
    // in a sentence that asks to contact someone, or that goes on about who was just named.
    let mut asked = false;
    for span in spans.iter().skip(at).take(6) {
        let sentence = &text[span.start..span.end];
        if p.closing.is_match(sentence.trim()) {
            break;
        }
        let contact = p.contact.is_match(sentence);
        let counts = contact || (asked && p.reach.is_match(sentence));
        asked = asked || contact;
        if !counts {
            continue;
        }
        for address in addresses_in(sentence) {
            if address != sender && !replacements.contains(&address) {
                replacements.push(address);
            }
        }
    }
    Some(Departure {
        phrase: phrase(&text, spans[at], core),
        replacements,
    })
}

// ---------------------------------------------------------------------------------------------
// Questions and requests

struct AskPatterns {
    url: Pattern,
    request: Pattern,
    request_cased: Pattern,
}

fn ask_patterns() -> &'static AskPatterns {
    static PATTERNS: OnceLock<AskPatterns> = OnceLock::new();
    PATTERNS.get_or_init(|| AskPatterns {
        url: build(r"(?i)\b(?:https?://|www\.)\S+"),
        request: build(concat!(
            r"(?i)\b(?:",
            r"can you|could you|would you|will you|please (?:send|call|share|provide|advise|confirm|forward|email|e-mail|get back|let me know|let us know)|",
            r"let me know|let us know|send me|send us|call me|give me a call|(?:i|we)(?:'d| would) like (?:a|an|the|some|more|to (?:see|get|receive|know|have|order|book|schedule|discuss|meet|hear))|",
            r"kan du|kunne du|kan dere|kunne dere|send meg|send oss|gi (?:meg |oss )?beskjed|ring meg|vennligst send|",
            r"hadde vært fint om|fint om du|fint om dere|setter pris på om|har du mulighet|er det mulig|",
            r"kan ni|kunde du|kunde ni|skicka gärna|vänligen skicka|skicka (?:mig|oss|över)|hör av dig|hör av er|meddela (?:mig|oss|gärna)|vänligen meddela|ring mig|",
            r"(?:jag|vi) vill gärna (?:ha|se|få|veta|höra)|är det möjligt|har du möjlighet|",
            r"send mig|send os|giv (?:mig |os )?besked|lad mig vide|lad os vide|ring til mig|(?:jeg|vi) vil gerne (?:have|se|høre|bede|modtage|vide)|er det muligt|",
            r"können sie|könnten sie|kannst du|könntest du|bitte (?:senden|schicken|rufen|melden|geben)|senden sie mir|schicken sie (?:mir|uns)|",
            r"lassen sie mich wissen|geben sie mir bescheid|geben sie bescheid|rufen sie mich an|ich hätte gerne|wir hätten gerne|wäre es möglich|",
            r"voitko|voisitko|voitteko|voisitteko|lähettäkää|lähetä (?:minulle|meille)|lähettäisitkö|kertokaa|kerro (?:minulle|meille)|",
            r"soita minulle|soittakaa|ilmoita|ilmoittakaa|haluaisin|haluaisimme|olisiko mahdollista",
            r")\b",
        )),
        // Danish "kan I" ("can you", plural) is "kan i" ("can in") in lower case.
        request_cased: build(r"\b(?:[Kk]an|[Kk]unne) I\b"),
    })
}

/// Words just before a request phrase that make it the writer's own plan ("I'll let you know"
/// has no "let me know"; "jeg skal gi beskjed" has "gi beskjed").
const OWN_PLAN: [&str; 10] = [
    "skal", "ska", "vil", "will", "i'll", "we'll", "werde", "werden", "jeg", "vi",
];

/// True when the new text of a reply asks the seller a question or for an action.
pub fn asks_something(new_text_of_reply: &str) -> bool {
    let p = ask_patterns();
    let text = p.url.replace_all(new_text_of_reply, " ");
    if text.contains('?') {
        return true;
    }
    if p.request_cased.is_match(&text) {
        return true;
    }
    let asks = p.request.find_iter(&text).any(|m| {
        let before = words_before(&text, m.start(), 1);
        !before.iter().any(|w| OWN_PLAN.contains(&w.as_str()))
    });
    asks
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn from(text: &str, received: NaiveDate) -> Option<Option<NaiveDate>> {
        find_deferral(text, received).map(|f| f.from)
    }

    #[test]
    fn asks_something_in_several_languages() {
        for text in [
            "Can you send the price list?",
            "Hi Kari,\n\nplease send the contract to our legal team.\n\nThanks, Ingrid",
            "Let me know what the next step is.",
            "Hei, kan du sende meg tilbudet på nytt",
            "Gi beskjed når dere har ledig kapasitet.",
            "Skicka gärna offerten till mig.",
            "Hör av dig när ni har priserna klara",
            "Kan I sende en opdateret pris",
            "Können Sie mir ein Angebot schicken.",
            "Bitte senden Sie uns die Unterlagen.",
            "Voitko lähettää hinnaston.",
            "Lähettäkää tarjous sähköpostilla.",
        ] {
            assert!(asks_something(text), "{text}");
        }
    }

    #[test]
    fn statements_and_thanks_ask_nothing() {
        for text in [
            "Perfect, see you Thursday.",
            "Thanks!",
            "Takk, det høres bra ut.",
            "Tack, vi ses på torsdag.",
            "Jeg skal gi beskjed neste uke.",
            "I'll let you know next week.",
            "Jeg kan i morgen klokken ti.",
            "Danke, bis Donnerstag.",
            "Kiitos, nähdään torstaina.",
            "See our terms at https://example.com/terms?id=3 for details.",
        ] {
            assert!(!asks_something(text), "{text}");
        }
    }

    #[test]
    fn deferrals_resolve_to_the_first_day_of_the_named_period() {
        let received = d(2026, 11, 18);
        assert_eq!(
            from("Not now, try us again after the summer.", received),
            Some(Some(d(2027, 8, 1)))
        );
        assert_eq!(
            from("Ta kontakt i uke 34.", received),
            Some(Some(d(2027, 8, 23)))
        );
        assert_eq!(
            from("Hör av dig i mars.", received),
            Some(Some(d(2027, 3, 1)))
        );
        assert_eq!(
            from("Melden Sie sich im dritten Quartal.", received),
            Some(Some(d(2027, 7, 1)))
        );
        assert_eq!(
            from("Otetaan yhteyttä kahden viikon päästä.", received),
            Some(Some(d(2026, 12, 2)))
        );
        assert_eq!(
            from("Vend tilbage næste måned.", received),
            Some(Some(d(2026, 12, 1)))
        );
        assert_eq!(from("Ikke akkurat nå.", received), Some(None));
        assert_eq!(from("See you in March at the fair.", received), None);
        assert_eq!(from("We met after the summer party.", received), None);
    }

    #[test]
    fn a_month_named_now_or_earlier_is_next_year() {
        let received = d(2026, 3, 10);
        assert_eq!(
            from("Contact me in March.", received),
            Some(Some(d(2027, 3, 1)))
        );
        assert_eq!(
            from("Contact me in April.", received),
            Some(Some(d(2026, 4, 1)))
        );
        assert_eq!(
            from("Get back to us after the summer.", d(2026, 8, 3)),
            Some(Some(d(2027, 8, 1)))
        );
    }

    #[test]
    fn departures_and_their_replacements() {
        let found = find_departure(
            "Anna has left the company. Please contact per@x.no instead.\n\nBest regards\nAnna\nanna@x.no",
            "anna@x.no",
        )
        .expect("a departure");
        assert_eq!(found.replacements, ["per@x.no"]);
        assert!(find_departure("She left the meeting early.", "a@x.no").is_none());
        assert!(find_departure("Vi har sluttet å bruke det systemet.", "a@x.no").is_none());
        assert!(find_departure("We are no longer with the old supplier.", "a@x.no").is_none());
    }

    #[test]
    fn wrapped_german_prose_is_one_sentence_and_signature_lines_are_their_own() {
        let text = "Sehr geehrte Frau Nordmann,\n\ndanke für die Erinnerung. Wir entscheiden Anfang Dezember über das\nBudget für 2027 und melden uns dann bei Ihnen.\n\nMit freundlichen Grüßen\nKlaus Weber\nEinkauf";
        let found: Vec<&str> = sentences(text)
            .into_iter()
            .map(|s| &text[s.start..s.end])
            .collect();
        assert_eq!(
            found,
            [
                "Sehr geehrte Frau Nordmann,",
                "danke für die Erinnerung.",
                "Wir entscheiden Anfang Dezember über das\nBudget für 2027 und melden uns dann bei Ihnen.",
                "Mit freundlichen Grüßen",
                "Klaus Weber",
                "Einkauf",
            ]
        );
        let deferral = find_deferral(text, d(2026, 11, 19)).expect("a deferral");
        assert_eq!(deferral.from, Some(d(2026, 12, 1)));
    }

    #[test]
    fn a_long_sentence_is_quoted_in_whole_words_around_what_decided() {
        let text = format!(
            "{} and so we cannot take on new agreements until after the summer, {}.",
            "We are in the middle of a large reorganisation of the purchasing department",
            "when the new head of purchasing starts and has had time to look at the budgets"
        );
        let deferral =
            find_deferral(&format!("Not now. {text}"), d(2026, 3, 2)).expect("a deferral");
        assert!(
            deferral.phrase.contains("after the summer"),
            "{}",
            deferral.phrase
        );
        assert!(
            deferral.phrase.chars().count() <= 100,
            "{}",
            deferral.phrase
        );
        let first = deferral.phrase.split(' ').next().unwrap_or_default();
        let last = deferral.phrase.split(' ').next_back().unwrap_or_default();
        assert!(text.contains(&format!(" {first} ")), "{}", deferral.phrase);
        assert!(text.contains(&format!(" {last} ")), "{}", deferral.phrase);
    }

    proptest! {
        #[test]
        fn deferrals_stay_within_the_window(
            text in "\\PC{0,200}",
            offset in 0i64..4000,
        ) {
            let received = d(2024, 1, 1) + Duration::days(offset);
            if let Some(Deferral { from: Some(day), .. }) = find_deferral(&text, received) {
                prop_assert!(day >= received);
                prop_assert!(day - received <= Duration::days(400));
            }
            let _ = find_departure(&text, "a@x.no");
            let _ = asks_something(&text);
        }

        #[test]
        fn built_deferrals_stay_within_the_window(
            lead in prop::sample::select(vec![
                "Not now, try us again", "Ta kontakt", "Hör av dig", "Vend tilbage",
                "Melden Sie sich", "Ota yhteyttä", "Get back to us",
            ]),
            when in prop::sample::select(vec![
                "after the summer", "i uke 53", "i uke 1", "week 52", "in Q1", "in Q4",
                "i mars", "im Dezember", "joulukuussa", "next month", "next year",
                "in 6 months", "in 12 months", "in 52 weeks", "after December", "after Q4",
                "i høst", "til våren", "in March 2027", "after the new year", "kesän jälkeen",
            ]),
            offset in 0i64..4000,
        ) {
            let received = d(2024, 1, 1) + Duration::days(offset);
            let text = format!("{lead} {when}.");
            if let Some(Deferral { from: Some(day), .. }) = find_deferral(&text, received) {
                prop_assert!(day >= received, "{text} {received} {day}");
                prop_assert!(day - received <= Duration::days(400), "{text} {received} {day}");
            }
        }
    }
}
