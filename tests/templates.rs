//! The tone rules (SPEC.md section 6), checked over every shipped follow-up template.
//!
//! Each file under `templates/<lang>/` holds several variants separated by a line
//! `{# variant #}`. Every variant is rendered with Tera against realistic conversations
//! (with and without the prospect's name and company, with a short and a long subject) and
//! must read like a patient seller wrote it: short, about the actual conversation, one
//! clear next step, an easy way out, no guilt and no false urgency; the close-the-loop says
//! it is the last message and leaves the door open.
//!
//! This reads the files directly instead of going through the crate's rendering module, so a
//! template that breaks the rules fails here with the file, variant and text in the message.

use std::path::PathBuf;

/// The line that separates variants in a template file.
const VARIANT_MARKER: &str = "{# variant #}";

/// The templates every shipped language must have. `check-back` answers a prospect who asked
/// to be contacted later: it must read as the seller keeping their word, never as a chase.
const NAMES: [&str; 4] = ["followup-1", "followup-2", "close-the-loop", "check-back"];

/// The body before the quote may be 90 words including the signature; the follow-up text
/// itself stays at 70 so a normal signature fits.
const MAX_WORDS: usize = 70;

/// Each file needs enough wording that a prospect never gets the same text twice.
const MIN_VARIANTS: usize = 3;

/// Guilt, pressure and false urgency, in any language. Applied to every file: a Danish
/// template must not slip into an English cliché either.
const FORBIDDEN: &[&str] = &[
    // en
    "just bumping",
    "bumping this",
    "as per my last email",
    "did you get my email",
    "did you see my email",
    "i haven't heard back",
    "haven't heard from you",
    "circling back",
    "following up on my previous",
    "per my last",
    "just checking in",
    "friendly reminder",
    "urgent",
    "last chance",
    "limited time",
    "asap",
    // nb
    "har ikke hørt fra deg",
    "fikk du e-posten min",
    "som nevnt i min forrige",
    "bare en påminnelse",
    "purring",
    // sv
    "har inte hört av dig",
    "har inte hört något",
    "fick du mitt mejl",
    "som jag skrev i mitt förra",
    "påminnelse",
    // da
    "har ikke hørt fra dig",
    "fik du min mail",
    "som nævnt i min sidste",
    "rykker",
    "påmindelse",
    // fi
    "en ole kuullut sinusta",
    "en ole kuullut teistä",
    "et ole vastannut",
    "ette ole vastanneet",
    "saitko viestini",
    "saitteko viestini",
    "kuten aiemmin mainitsin",
    "kuten edellisessä viestissäni",
    "muistutan vielä",
    "muistutus",
    "halusin vain tarkistaa",
    "kiireellinen",
    "viimeinen tilaisuus",
    "vain tänään",
    // de
    "nur kurz nachhaken",
    "kurz nachhaken",
    "nachhaken",
    "wollte nur mal nachfragen",
    "nur kurz nachfragen",
    "wie bereits erwähnt",
    "wie in meiner letzten e-mail",
    "ich habe noch nichts von ihnen gehört",
    "habe noch nichts von ihnen gehört",
    "haben sie meine e-mail erhalten",
    "haben sie meine nachricht erhalten",
    "erinnerung",
    "dringend",
    "letzte chance",
    "nur noch heute",
    "zeitlich begrenzt",
];

/// What the tests need to know about one shipped language.
struct Language {
    code: &'static str,
    /// Phrases that make a concrete next step when a variant asks no question.
    next_step: &'static [&'static str],
    /// Phrases that tell the prospect it is fine to say no, or nothing.
    easy_out: &'static [&'static str],
    /// The word a close-the-loop must use to say it is the last message.
    last: &'static str,
    /// Phrases that leave the door open in a close-the-loop.
    door_open: &'static [&'static str],
    /// (subject, first touch date) of a typical conversation and of one with a long subject.
    subjects: [(&'static str, &'static str); 2],
    /// (the prospect's words asking to be contacted later, the date of that answer): a short
    /// and a long one, as a check-back quotes them.
    deferrals: [(&'static str, &'static str); 2],
}

const LANGUAGES: [Language; 6] = [
    Language {
        code: "en",
        next_step: &[
            "just reply",
            "reply to this",
            "get in touch",
            "drop me a line",
            "just write",
        ],
        easy_out: &[
            "just say so",
            "just tell me",
            "just let me know",
            "that's fine",
            "completely fine",
            "perfectly fine",
            "completely understand",
            "no problem",
            "no need to reply",
            "not now",
            "step back",
            "leave it",
            "leave you be",
            "stop writing",
            "close it on my side",
            "won't take up more of your time",
        ],
        last: "last",
        door_open: &["door", "open", "whenever"],
        subjects: [
            ("Proposal for your site team", "10 November"),
            (
                "Revised offer for 40 field licences and onboarding at the Bergen and Stavanger offices",
                "3 October",
            ),
        ],
        deferrals: [("try us again in the new year", "17 November"), ("not before the budget round in March, please try us again then", "20 October")],
    },
    Language {
        code: "nb",
        next_step: &[
            "bare svar",
            "ta kontakt",
            "bare å skrive",
            "bare å ta kontakt",
        ],
        easy_out: &[
            "helt i orden",
            "helt greit",
            "si ifra",
            "si fra",
            "full forståelse",
            "lar jeg deg være",
            "lar jeg det ligge",
            "trenger ikke å svare",
            "ikke nå",
            "slutter jeg å skrive",
            "på min side",
            "slipper flere",
        ],
        last: "siste",
        door_open: &["døren", "når som helst", "ta kontakt", "bare å skrive"],
        subjects: [
            ("Tilbud på rammeavtale", "10. november"),
            (
                "Revidert tilbud på rammeavtale for service og vedlikehold av varmepumper i region vest",
                "3. oktober",
            ),
        ],
        deferrals: [("ta kontakt igjen over nyttår", "17. november"), ("ikke før budsjettrunden i mars, ta gjerne kontakt igjen da", "20. oktober")],
    },
    Language {
        code: "sv",
        next_step: &["svara bara", "hör av dig", "hör bara av dig", "höra av dig"],
        easy_out: &[
            "helt okej",
            "i sin ordning",
            "säg bara till",
            "full förståelse",
            "inga problem",
            "behöver inte svara",
            "inte nu",
            "låter jag dig vara",
            "lägger jag",
            "slutar jag skriva",
            "på min sida",
            "slipper fler",
        ],
        last: "sista",
        door_open: &["dörren", "hör av dig", "hör bara av dig", "höra av dig", "när som helst"],
        subjects: [
            ("Offert på licenser", "10 november"),
            (
                "Reviderad offert på 40 licenser och utbildning för kontoren i Göteborg och Malmö",
                "3 oktober",
            ),
        ],
        deferrals: [("hör av dig igen efter nyår", "17 november"), ("inte före budgetrundan i mars, hör gärna av dig igen då", "20 oktober")],
    },
    Language {
        code: "da",
        next_step: &["svar bare", "bare skriv", "skriv bare", "skriv endelig"],
        easy_out: &[
            "helt i orden",
            "helt fint",
            "sig bare til",
            "sige til",
            "fuld forståelse",
            "behøver ikke",
            "ikke nu",
            "lader jeg dig være",
            "lader jeg det ligge",
            "holder jeg op",
            "på min side",
            "slipper for flere",
        ],
        last: "sidste",
        door_open: &["døren", "bare skriv", "skriv bare", "skriv endelig"],
        subjects: [
            ("Tilbud på flådestyring", "10. november"),
            (
                "Revideret tilbud på flådestyring og kørebog til 40 servicebiler i Region Midtjylland",
                "3. oktober",
            ),
        ],
        deferrals: [("kontakt os igen efter nytår", "17. november"), ("ikke før budgetrunden i marts, kontakt os gerne igen der", "20. oktober")],
    },
    Language {
        code: "fi",
        next_step: &[
            "vastaa vain",
            "kirjoita vain",
            "kirjoita milloin",
            "ota yhteyttä",
            "lyhyt vastaus riittää",
            "vastaus riittää",
        ],
        easy_out: &[
            "täysin ok",
            "ihan ok",
            "ei haittaa",
            "kerro vain",
            "sano vain",
            "ymmärrettävää",
            "ei tarvitse vastata",
            "ei nyt",
            "jätän asian",
            "en kirjoita asiasta enempää",
            "en vie aikaasi enempää",
            "en häiritse enempää",
            "ei tule siitä enää viestejä",
            "omalta osaltani",
        ],
        last: "viimei",
        door_open: &["ovi", "milloin tahansa", "ota yhteyttä", "kirjoita vain"],
        subjects: [
            ("Tarjous huoltosopimuksesta", "10. marraskuuta"),
            (
                "Päivitetty tarjous 40 kenttälisenssistä ja käyttöönottokoulutuksesta Tampereen ja Oulun toimipisteisiin",
                "3. lokakuuta",
            ),
        ],
        deferrals: [("palataan asiaan vuodenvaihteen jälkeen", "17. marraskuuta"), ("ei ennen maaliskuun budjettikierrosta, ota silloin uudelleen yhteyttä", "20. lokakuuta")],
    },
    Language {
        code: "de",
        next_step: &[
            "antworten sie einfach",
            "schreiben sie mir",
            "melden sie sich",
            "eine kurze nachricht genügt",
            "eine zeile",
        ],
        easy_out: &[
            "in ordnung",
            "kein problem",
            "sagen sie einfach",
            "sagen sie es einfach",
            "verständlich",
            "verständnis",
            "müssen nicht antworten",
            "nicht jetzt",
            "lasse ich es",
            "lasse es",
            "lasse ich sie in ruhe",
            "halte ich mich zurück",
            "schreibe ich nicht weiter",
            "auf meiner seite",
            "nichts weiter von mir",
        ],
        last: "letzte",
        door_open: &["tür", "jederzeit", "melden sie sich", "schreiben sie mir"],
        subjects: [
            ("Angebot für Ihre Niederlassung", "10. November"),
            (
                "Überarbeitetes Angebot für 40 Außendienstlizenzen und Schulungen an den Standorten Hamburg und Bremen",
                "3. Oktober",
            ),
        ],
        deferrals: [("melden Sie sich im neuen Jahr wieder", "17. November"), ("nicht vor der Budgetrunde im März, melden Sie sich gern dann wieder", "20. Oktober")],
    },
];

/// One conversation to render against, as the template sees it.
struct Conversation {
    prospect_first_name: &'static str,
    prospect_name: &'static str,
    prospect_company: &'static str,
    subject: &'static str,
    first_touch_date: &'static str,
    days_waiting: i64,
    deferral_phrase: &'static str,
    deferred_on: &'static str,
}

const SELLER_NAME: &str = "Kari Nordmann";
const SELLER_FIRST_NAME: &str = "Kari";

/// A named prospect at a company, one with neither (a shared mailbox, say) whose deferral is
/// unknown, and a long subject with a long deferral.
fn conversations(language: &Language) -> Vec<Conversation> {
    let [(subject, date), (long_subject, long_date)] = language.subjects;
    let [(phrase, deferred_on), (long_phrase, long_deferred_on)] = language.deferrals;
    vec![
        Conversation {
            prospect_first_name: "Ingrid",
            prospect_name: "Ingrid Berg",
            prospect_company: "Fjordkraft AS",
            subject,
            first_touch_date: date,
            days_waiting: 5,
            deferral_phrase: phrase,
            deferred_on,
        },
        Conversation {
            prospect_first_name: "",
            prospect_name: "",
            prospect_company: "",
            subject,
            first_touch_date: date,
            days_waiting: 12,
            deferral_phrase: "",
            deferred_on: "",
        },
        Conversation {
            prospect_first_name: "Bjørn-Erik",
            prospect_name: "Bjørn-Erik Haugland-Sørensen",
            prospect_company: "Vestlandske Varmepumpeservice AS",
            subject: long_subject,
            first_touch_date: long_date,
            days_waiting: 21,
            deferral_phrase: long_phrase,
            deferred_on: long_deferred_on,
        },
    ]
}

fn context(conversation: &Conversation, step: u32) -> tera::Context {
    let mut context = tera::Context::new();
    context.insert("prospect_first_name", conversation.prospect_first_name);
    context.insert("prospect_name", conversation.prospect_name);
    context.insert("prospect_company", conversation.prospect_company);
    context.insert("seller_name", SELLER_NAME);
    context.insert("seller_first_name", SELLER_FIRST_NAME);
    context.insert("subject", conversation.subject);
    context.insert("first_touch_date", conversation.first_touch_date);
    context.insert("days_waiting", &conversation.days_waiting);
    context.insert("step", &step);
    context.insert("steps_total", &3u32);
    context.insert("deferral_phrase", conversation.deferral_phrase);
    context.insert("deferred_on", conversation.deferred_on);
    context
}

fn template_path(code: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("templates")
        .join(code)
        .join(format!("{name}.txt.tera"))
}

/// The variants of a file: the text between lines that are exactly the marker, trimmed.
fn split_variants(text: &str) -> Vec<String> {
    let mut variants = vec![String::new()];
    for line in text.lines() {
        if line.trim_end_matches('\r') == VARIANT_MARKER {
            variants.push(String::new());
        } else if let Some(current) = variants.last_mut() {
            current.push_str(line);
            current.push('\n');
        }
    }
    variants.into_iter().map(|v| v.trim().to_string()).collect()
}

fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| haystack.contains(&n.to_lowercase()))
}

/// Every way one rendered variant breaks the tone rules.
fn tone_problems(
    language: &Language,
    name: &str,
    conversation: &Conversation,
    text: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let own = text.to_string();
    let lower = own.to_lowercase();
    let words = text.split_whitespace().count();

    if text.is_empty() {
        problems.push("renders to nothing".to_string());
    }
    if words > MAX_WORDS {
        problems.push(format!("{words} words, more than {MAX_WORDS}"));
    }
    for leftover in ["{{", "}}", "{%", "%}", "{#", "#}"] {
        if text.contains(leftover) {
            problems.push(format!("template syntax left over: {leftover:?}"));
        }
    }
    // Questions of our own, not ones that happen to be in the subject.
    let questions = own.replace(conversation.subject, "").matches('?').count();
    if questions == 0 && !contains_any(&lower, language.next_step) {
        problems.push("no question and no next step".to_string());
    }
    if questions > 1 {
        problems.push(format!(
            "{questions} questions: ask one, so answering is easy"
        ));
    }
    if !contains_any(&lower, language.easy_out) {
        problems.push("no easy way out".to_string());
    }
    for phrase in FORBIDDEN {
        if lower.contains(phrase) {
            problems.push(format!("pushy or guilt phrase {phrase:?}"));
        }
    }
    if own.contains('!') {
        problems.push("exclamation mark".to_string());
    }
    if !text.contains(conversation.subject) && !text.contains(conversation.first_touch_date) {
        problems.push("mentions neither the subject nor the first touch date".to_string());
    }
    if name == "check-back" && !conversation.deferral_phrase.is_empty() {
        // The prospect's words are in reach of the template (the context carries them here as
        // a seller's template might try), yet never in the draft: a stranger's message never
        // chooses a draft's words (SPEC 13).
        if text.contains(conversation.deferral_phrase) {
            problems.push("quotes the prospect's words".to_string());
        }
    }
    if name == "close-the-loop" {
        if !lower.contains(language.last) {
            problems.push(format!(
                "does not say it is the {:?} message",
                language.last
            ));
        }
        if !contains_any(&lower, language.door_open) {
            problems.push("does not leave the door open".to_string());
        }
    }
    // nudge appends the signature itself.
    if text.contains(SELLER_NAME) {
        problems.push("contains the seller's name: the signature is added by nudge".to_string());
    }
    // An empty name or company must not leave a hole in the sentence.
    for hole in ["  ", " ,", " .", " ?", " :", "« »", "” ”", "\"\""] {
        if text.contains(hole) {
            problems.push(format!("gap left by an empty variable: {hole:?}"));
        }
    }
    match text.lines().next() {
        Some(greeting) if greeting.ends_with(',') => {
            if !conversation.prospect_first_name.is_empty()
                && !greeting.contains(conversation.prospect_first_name)
            {
                problems.push("greeting without the prospect's first name".to_string());
            }
        }
        _ => problems.push("does not open with a greeting line ending in a comma".to_string()),
    }
    problems
}

#[test]
fn shipped_templates_follow_the_tone_rules() {
    let mut failures = Vec::new();
    for language in &LANGUAGES {
        for (index, name) in NAMES.iter().enumerate() {
            let path = template_path(language.code, name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let file = format!("{}/{name}", language.code);
            let variants = split_variants(&text);
            if variants.len() < MIN_VARIANTS {
                failures.push(format!(
                    "{file}: {} variants, at least {MIN_VARIANTS} needed",
                    variants.len()
                ));
            }
            for conversation in conversations(language) {
                let context = context(&conversation, index as u32 + 1);
                let mut rendered: Vec<String> = Vec::new();
                for (number, variant) in variants.iter().enumerate() {
                    let text = match tera::Tera::one_off(variant, &context, false) {
                        Ok(text) => text.trim().to_string(),
                        Err(e) => {
                            failures
                                .push(format!("{file} variant {number}: does not render: {e:?}"));
                            continue;
                        }
                    };
                    for problem in tone_problems(language, name, &conversation, &text) {
                        failures.push(format!(
                            "{file} variant {number}: {problem}\n---\n{text}\n---"
                        ));
                    }
                    if let Some(same) = rendered.iter().position(|r| *r == text) {
                        failures.push(format!(
                            "{file} variant {number}: renders the same as variant {same}"
                        ));
                    }
                    rendered.push(text);
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} tone problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn variant_marker_stands_on_its_own_line() {
    // The daemon splits on the marker text; a marker inside a line would split a sentence.
    for language in &LANGUAGES {
        for name in NAMES {
            let path = template_path(language.code, name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            for (number, line) in text.lines().enumerate() {
                if line.contains(VARIANT_MARKER) {
                    assert_eq!(
                        line.trim_end_matches('\r'),
                        VARIANT_MARKER,
                        "{}:{}: the variant marker must be alone on its line",
                        path.display(),
                        number + 1
                    );
                }
            }
        }
    }
}

#[test]
fn split_keeps_empty_variants_so_the_rules_catch_them() {
    let text = "Hi,\n\nOne.\n{# variant #}\n\n{# variant #}\nHi,\n\nTwo.\n";
    let variants = split_variants(text);
    assert_eq!(variants, vec!["Hi,\n\nOne.", "", "Hi,\n\nTwo."]);
}

/// The same templates through nudge's own renderer: every variant of every shipped template
/// in every language, with the signature nudge adds, stays within 90 words before the quote.
#[test]
fn nudge_renders_every_shipped_variant_within_ninety_words_with_the_signature() {
    use nudge::compose::draft::closing;
    use nudge::compose::templates::{FollowUpContext, Templates, LANGUAGES};
    let templates = Templates::builtin();
    assert_eq!(templates.all().len(), 24);
    for language in LANGUAGES {
        for name in NAMES {
            let template = templates.get(language, name).expect("shipped");
            assert_eq!(template.language, language, "{name} falls back to English");
            assert!(template.variants.len() >= 2, "{name} {language:?}");
            for variant in 0..template.variants.len() as u32 {
                let text = templates
                    .render(language, name, variant, &FollowUpContext::sample(language))
                    .expect("renders");
                let with_signature = format!("{text}\n\n{}\nKari Nordmann", closing(language));
                let words = with_signature.split_whitespace().count();
                assert!(
                    words <= 90,
                    "{name} {language:?} variant {variant}: {words} words"
                );
            }
        }
    }
}
