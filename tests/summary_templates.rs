//! The weekly summary templates (SPEC 8) in every shipped language, rendered the way
//! `summary::render` does (HTML under a `.html` name, so Tera auto-escapes it; text under
//! `.txt`, not escaped): a full week with hostile names, an empty week, and bars at 0 and 100;
//! and through `summary::render`, a week of a thousand conversations of every kind, which must
//! still fit a mail client.

use serde_json::{json, Value};
use tera::{Context, Tera};

struct Language {
    code: &'static str,
    txt: &'static str,
    html: &'static str,
    /// As the Rust side localizes them.
    period: &'static str,
    due: [&'static str; 2],
    /// Opener, follow-up 1, follow-up 2, close-the-loop.
    steps: [&'static str; 4],
    /// Text headings of the drafts, replied, let-go, due, waiting-on-you and colleagues
    /// sections.
    sections: [&'static str; 6],
    /// The colleagues section's heading in HTML.
    colleagues: &'static str,
    /// What a list leaves out, with `N` for the number.
    more: &'static str,
    library: nudge::config::Language,
}

macro_rules! templates {
    ($code:literal) => {
        (
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/",
                $code,
                "/summary.txt.tera"
            )),
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/",
                $code,
                "/summary.html.tera"
            )),
        )
    };
}

fn languages() -> [Language; 6] {
    let (en_txt, en_html) = templates!("en");
    let (nb_txt, nb_html) = templates!("nb");
    let (sv_txt, sv_html) = templates!("sv");
    let (da_txt, da_html) = templates!("da");
    let (fi_txt, fi_html) = templates!("fi");
    let (de_txt, de_html) = templates!("de");
    [
        Language {
            code: "en",
            txt: en_txt,
            html: en_html,
            period: "16–22 November 2026",
            due: ["Tue 24 Nov", "Thu 26 Nov"],
            steps: ["Opener", "Follow-up 1", "Follow-up 2", "Close-the-loop"],
            sections: [
                "DRAFTS WAITING FOR YOU",
                "WHO REPLIED",
                "LET GO",
                "COMING UP NEXT WEEK",
                "WAITING ON YOU",
                "YOUR COLLEAGUES ARE TALKING TO THEM",
            ],
            colleagues: "Your colleagues are talking to them",
            more: "and N more",
            library: nudge::config::Language::En,
        },
        Language {
            code: "nb",
            txt: nb_txt,
            html: nb_html,
            period: "16.–22. november 2026",
            due: ["tir. 24. nov", "tor. 26. nov"],
            steps: [
                "Første e-post",
                "Oppfølging 1",
                "Oppfølging 2",
                "Avslutning",
            ],
            sections: [
                "UTKAST SOM VENTER PÅ DEG",
                "HVEM SVARTE",
                "AVSLUTTET UTEN SVAR",
                "KOMMER NESTE UKE",
                "DE VENTER PÅ SVAR FRA DEG",
                "KOLLEGAENE DINE SNAKKER OGSÅ MED DEM",
            ],
            colleagues: "Kollegaene dine snakker også med dem",
            more: "og N til",
            library: nudge::config::Language::Nb,
        },
        Language {
            code: "sv",
            txt: sv_txt,
            html: sv_html,
            period: "16–22 november 2026",
            due: ["tis 24 nov", "tors 26 nov"],
            steps: [
                "Första mejlet",
                "Uppföljning 1",
                "Uppföljning 2",
                "Avslutning",
            ],
            sections: [
                "UTKAST SOM VÄNTAR PÅ DIG",
                "VEM SVARADE",
                "AVSLUTADE UTAN SVAR",
                "KOMMER NÄSTA VECKA",
                "DE VÄNTAR PÅ SVAR FRÅN DIG",
                "DINA KOLLEGOR PRATAR OCKSÅ MED DEM",
            ],
            colleagues: "Dina kollegor pratar också med dem",
            more: "och N till",
            library: nudge::config::Language::Sv,
        },
        Language {
            code: "da",
            txt: da_txt,
            html: da_html,
            period: "16.–22. november 2026",
            due: ["tir. 24. nov", "tor. 26. nov"],
            steps: ["Første mail", "Opfølgning 1", "Opfølgning 2", "Afslutning"],
            sections: [
                "UDKAST, DER VENTER PÅ DIG",
                "HVEM SVAREDE",
                "AFSLUTTET UDEN SVAR",
                "KOMMER I NÆSTE UGE",
                "DE VENTER PÅ SVAR FRA DIG",
                "DINE KOLLEGER TALER OGSÅ MED DEM",
            ],
            colleagues: "Dine kolleger taler også med dem",
            more: "og N mere",
            library: nudge::config::Language::Da,
        },
        Language {
            code: "fi",
            txt: fi_txt,
            html: fi_html,
            period: "16.–22. marraskuuta 2026",
            due: ["ti 24.11.", "to 26.11."],
            steps: [
                "Ensimmäinen viesti",
                "Jatkoviesti 1",
                "Jatkoviesti 2",
                "Päätösviesti",
            ],
            sections: [
                "SINUA ODOTTAVAT LUONNOKSET",
                "KUKA VASTASI",
                "PÄÄTETTY ILMAN VASTAUSTA",
                "TULOSSA ENSI VIIKOLLA",
                "HE ODOTTAVAT VASTAUSTASI",
                "KOLLEGASI OVAT MYÖS YHTEYDESSÄ HEIHIN",
            ],
            colleagues: "Kollegasi ovat myös yhteydessä heihin",
            more: "ja N muuta",
            library: nudge::config::Language::Fi,
        },
        Language {
            code: "de",
            txt: de_txt,
            html: de_html,
            period: "16.–22. November 2026",
            due: ["Di. 24. Nov", "Do. 26. Nov"],
            steps: [
                "Erste E-Mail",
                "Folge-E-Mail 1",
                "Folge-E-Mail 2",
                "Abschluss",
            ],
            sections: [
                "ENTWÜRFE, DIE AUF SIE WARTEN",
                "WER GEANTWORTET HAT",
                "OHNE ANTWORT BEENDET",
                "NÄCHSTE WOCHE GEPLANT",
                "SIE WARTEN AUF IHRE ANTWORT",
                "IHR TEAM SPRICHT AUCH MIT DIESEN FIRMEN",
            ],
            colleagues: "Ihr Team spricht auch mit diesen Firmen",
            more: "und N weitere",
            library: nudge::config::Language::De,
        },
    ]
}

const SCRIPT: &str = "<script>alert(1)</script>";
const SUBJECT: &str = "Tilbud & <b>pris</b>";
/// A teammate who wrote to a prospect's company, and the subject of the seller's conversation.
const COLLEAGUE: &str = "ola@fjordsalg.no";
const COLLEAGUE_SUBJECT: &str = "Kjølelager & <i>drift</i>";

/// A realistic week: every section filled, a prospect and a subject that try to inject HTML.
fn full_week(language: &Language) -> Value {
    json!({
        "seller_first_name": "Kari",
        "week": 48,
        "period": language.period,
        "n": {
            "tracked": 37, "new_this_week": 6, "replies": 5, "drafts_waiting": 3, "let_go": 2,
            "bounced": 1, "opted_out": 1, "dismissed": 2, "came_back": 1
        },
        "rates": [
            { "step": 0, "is_close": false, "reached": 52, "replied": 21, "percent": 40 },
            { "step": 1, "is_close": false, "reached": 31, "replied": 8, "percent": 25 },
            { "step": 2, "is_close": false, "reached": 23, "replied": 3, "percent": 13 },
            { "step": 3, "is_close": true, "reached": 20, "replied": 1, "percent": 5 }
        ],
        "drafts_waiting": [
            { "subject": SUBJECT, "prospect": "Ingrid Berg", "age_days": 4, "step": 2, "is_close": false },
            { "subject": "Rammeavtale 2027", "prospect": "ola.hansen@fjordkraft.no", "age_days": 1, "step": 1, "is_close": false },
            { "subject": "Serviceavtale Bergen", "prospect": "Lise Dahl", "age_days": 0, "step": 3, "is_close": true }
        ],
        "replied": [
            { "subject": "Kontorrekvisita", "prospect": SCRIPT, "after_step": 0, "after_close": false, "came_back": false },
            { "subject": "Lisenser", "prospect": "Per Olsen", "after_step": 1, "after_close": false, "came_back": false },
            { "subject": "Messestand", "prospect": "Nina Lie", "after_step": 3, "after_close": true, "came_back": true }
        ],
        "let_go": [
            { "subject": "Kaffemaskin", "prospect": "Jon Moe" },
            { "subject": "Kurs i Excel", "prospect": "Anne Vik" }
        ],
        "due_next_week": [
            { "subject": "Nye skjermer", "prospect": "Siri Nes", "due": language.due[0], "step": 2, "is_close": false },
            { "subject": "Renhold", "prospect": "Kim Aas", "due": language.due[1], "step": 3, "is_close": true }
        ],
        "waiting_on_you": [
            { "subject": "Prisliste", "prospect": "Tor Bakke", "business_days": 3 }
        ],
        "colleagues": [
            {
                "subject": COLLEAGUE_SUBJECT, "prospect": "Lise Dahl", "colleague": COLLEAGUE,
                "organisation": "fjordkraft.no", "on": language.due[1]
            }
        ],
        "more": {
            "drafts_waiting": 0, "replied": 0, "let_go": 0, "due_next_week": 0,
            "waiting_on_you": 0, "colleagues": 0
        }
    })
}

/// Nothing happened: all zeros, every list empty, and no first name configured.
fn empty_week(language: &Language) -> Value {
    json!({
        "seller_first_name": "",
        "week": 48,
        "period": language.period,
        "n": {
            "tracked": 0, "new_this_week": 0, "replies": 0, "drafts_waiting": 0, "let_go": 0,
            "bounced": 0, "opted_out": 0, "dismissed": 0, "came_back": 0
        },
        "rates": [],
        "drafts_waiting": [],
        "replied": [],
        "let_go": [],
        "due_next_week": [],
        "waiting_on_you": [],
        "colleagues": [],
        "more": {
            "drafts_waiting": 0, "replied": 0, "let_go": 0, "due_next_week": 0,
            "waiting_on_you": 0, "colleagues": 0
        }
    })
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

/// (text, html), rendered as `summary::render` does.
fn render(language: &Language, context: &Value) -> (String, String) {
    let mut tera = Tera::default();
    tera.add_raw_templates(vec![
        ("summary.txt", language.txt),
        ("summary.html", language.html),
    ])
    .unwrap_or_else(|e| panic!("{}: {}", language.code, error_chain(&e)));
    let context = Context::from_value(context.clone()).unwrap();
    let render = |name: &str| {
        tera.render(name, &context)
            .unwrap_or_else(|e| panic!("{} {name}: {}", language.code, error_chain(&e)))
    };
    (render("summary.txt"), render("summary.html"))
}

/// The 10-character text bar: rounded to the nearest tenth, at least one mark above 0%.
fn text_bar(percent: u64) -> String {
    let filled = if percent == 0 {
        0
    } else {
        ((percent + 5) / 10).clamp(1, 10)
    };
    format!(
        "{}{}",
        "#".repeat(filled as usize),
        "-".repeat(10 - filled as usize)
    )
}

/// JSON pointers to every number of the context the seller should see. A close-the-loop step
/// is shown by its name, not its number.
fn number_paths(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Number(_) => out.push(path.to_string()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                number_paths(item, &format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) => {
            let is = |key: &str| map.get(key).and_then(Value::as_bool).unwrap_or(false);
            for (key, item) in map {
                if (key == "step" && is("is_close")) || (key == "after_step" && is("after_close")) {
                    continue;
                }
                number_paths(item, &format!("{path}/{key}"), out);
            }
        }
        _ => {}
    }
}

fn assert_no_leftovers(code: &str, part: &str, rendered: &str) {
    for marker in ["{{", "}}", "{%", "%}", "{#", "#}"] {
        assert!(
            !rendered.contains(marker),
            "{code} {part}: template syntax {marker:?} left over:\n{rendered}"
        );
    }
}

/// Safe to open in any mail client: a whole document, nothing remote, nothing active.
fn assert_self_contained_html(code: &str, html: &str) {
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{code}: a complete document"
    );
    assert!(
        html.contains(&format!("<html lang=\"{code}\">")),
        "{code}: lang"
    );
    assert!(html.contains("<meta charset=\"utf-8\">"), "{code}: charset");
    assert!(html.trim_end().ends_with("</html>"), "{code}: closed");
    assert!(html.contains("max-width:600px"), "{code}: about 600px wide");
    let lower = html.to_lowercase();
    for banned in [
        "<script",
        "src=",
        "http",
        "url(",
        "<img",
        "<link",
        "<style",
        "class=",
        "@import",
        "javascript:",
    ] {
        assert!(
            !lower.contains(banned),
            "{code}: html contains {banned:?}:\n{html}"
        );
    }
}

fn assert_text_is_plain_and_narrow(code: &str, text: &str) {
    assert!(
        !text.contains("<td") && !text.contains("<br") && !text.contains("&nbsp;"),
        "{code}: html in text"
    );
    for line in text.lines() {
        assert!(
            line.chars().count() <= 78,
            "{code}: line too long ({}): {line}",
            line.chars().count()
        );
        assert_eq!(line, line.trim_end(), "{code}: trailing whitespace");
    }
    assert!(
        !text.contains("\n\n\n"),
        "{code}: runs of blank lines:\n{text}"
    );
}

#[test]
fn a_full_week_renders_escaped_complete_and_in_every_language() {
    for language in languages() {
        let code = language.code;
        let context = full_week(&language);
        let (text, html) = render(&language, &context);
        assert_no_leftovers(code, "text", &text);
        assert_no_leftovers(code, "html", &html);
        assert_self_contained_html(code, &html);
        assert_text_is_plain_and_narrow(code, &text);

        // Every value is escaped in HTML; the text part carries it as written.
        assert!(html.contains("&lt;script&gt;"), "{code}: escaped prospect");
        assert!(
            html.contains("Tilbud &amp; &lt;b&gt;pris"),
            "{code}: escaped subject"
        );
        assert!(!html.contains("<b>pris"), "{code}: raw subject markup");
        assert!(
            html.contains("Kjølelager &amp; &lt;i&gt;drift"),
            "{code}: escaped subject of the colleagues section"
        );
        assert!(!html.contains("<i>drift"), "{code}: raw subject markup");
        assert!(
            text.contains(COLLEAGUE_SUBJECT) && text.contains(COLLEAGUE),
            "{code}: the colleagues section in text"
        );
        assert!(!html.contains("& <b>"), "{code}: raw ampersand");
        assert!(
            text.contains(SCRIPT) && text.contains(SUBJECT),
            "{code}: text is not html-escaped"
        );

        // Every number of the context, in both parts.
        let mut paths = Vec::new();
        number_paths(&context, "", &mut paths);
        for path in &paths {
            let number = context.pointer(path).unwrap().to_string();
            assert!(
                text.contains(&number),
                "{code}: text lacks {path} = {number}"
            );
            assert!(
                html.contains(&number),
                "{code}: html lacks {path} = {number}"
            );
        }

        // The step names, in both parts.
        for step in language.steps {
            assert!(text.contains(step), "{code}: text lacks {step:?}");
            assert!(html.contains(step), "{code}: html lacks {step:?}");
        }
        // Every section, in the order of SPEC 8.
        let positions: Vec<usize> = language
            .sections
            .iter()
            .map(|s| {
                text.find(s)
                    .unwrap_or_else(|| panic!("{code}: text lacks section {s:?}"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{code}: sections out of order"
        );
        assert!(html.contains("<th"), "{code}: the lists are tables");

        // The bar chart: a coloured cell as wide as the percent next to the rest; in text, a
        // 10-character bar and the percent.
        for rate in context["rates"].as_array().unwrap() {
            let percent = rate["percent"].as_u64().unwrap();
            assert!(
                html.contains(&format!("width:{percent}%")),
                "{code}: bar {percent}%"
            );
            assert!(
                html.contains(&format!("width:{}%", 100 - percent)),
                "{code}: rest of bar {percent}%"
            );
            let line = format!("{} {percent:>3}%", text_bar(percent));
            assert!(text.contains(&line), "{code}: text bar {line:?}:\n{text}");
        }
    }
}

/// Each number set, one at a time, to a value found nowhere else: it must show up in both
/// parts, so no number is silently dropped by a template.
#[test]
fn every_number_reaches_both_parts() {
    for language in languages() {
        let code = language.code;
        let context = full_week(&language);
        let (plain_text, plain_html) = render(&language, &context);
        let mut paths = Vec::new();
        number_paths(&context, "", &mut paths);
        assert!(paths.len() > 25, "{code}: the walk found the numbers");
        for (i, path) in paths.iter().enumerate() {
            let marker = 7100 + i as u64;
            let shown = marker.to_string();
            assert!(
                !plain_text.contains(&shown) && !plain_html.contains(&shown),
                "{code}: marker {shown} not unique"
            );
            let mut marked = context.clone();
            *marked.pointer_mut(path).unwrap() = json!(marker);
            let (text, html) = render(&language, &marked);
            assert!(text.contains(&shown), "{code}: text does not show {path}");
            assert!(html.contains(&shown), "{code}: html does not show {path}");
        }
    }
}

#[test]
fn an_empty_week_has_no_empty_tables() {
    for language in languages() {
        let code = language.code;
        let (text, html) = render(&language, &empty_week(&language));
        assert_no_leftovers(code, "text", &text);
        assert_no_leftovers(code, "html", &html);
        assert_self_contained_html(code, &html);
        assert_text_is_plain_and_narrow(code, &text);
        for section in language.sections {
            assert!(
                !text.contains(section),
                "{code}: empty section {section:?} in text:\n{text}"
            );
        }
        assert!(
            !text.contains("\n  - "),
            "{code}: list items in an empty week:\n{text}"
        );
        // The lists are the only data tables (all layout tables are role="presentation"),
        // and the only ones with header cells.
        assert!(
            !html.contains("<th"),
            "{code}: header cells in an empty week"
        );
        assert!(
            !html.contains("<table width"),
            "{code}: a list table in an empty week:\n{html}"
        );
        assert!(
            !text.contains("####") && !html.contains("#2563eb"),
            "{code}: bars without rates"
        );
        // The numbers at a glance are still there, as zeros; no stray space for the missing name.
        assert!(
            text.contains('0') && html.contains(">0<"),
            "{code}: zeros at a glance"
        );
        let greeting = text.lines().next().unwrap();
        assert!(
            !greeting.contains(" ,") && !greeting.contains(" !"),
            "{code}: greeting {greeting:?}"
        );
    }
}

#[test]
fn bars_at_the_edges() {
    for language in languages() {
        let code = language.code;
        let mut context = full_week(&language);
        context["rates"] = json!([
            { "step": 0, "is_close": false, "reached": 4, "replied": 0, "percent": 0 },
            { "step": 1, "is_close": false, "reached": 4, "replied": 4, "percent": 100 },
            { "step": 2, "is_close": false, "reached": 50, "replied": 2, "percent": 4 },
            { "step": 3, "is_close": true, "reached": 0, "replied": 0, "percent": 0 }
        ]);
        let (text, html) = render(&language, &context);
        assert!(
            text.contains("----------   0%"),
            "{code}: empty bar:\n{text}"
        );
        assert!(
            text.contains("########## 100%"),
            "{code}: full bar:\n{text}"
        );
        assert!(
            text.contains("#---------   4%"),
            "{code}: a small rate still shows:\n{text}"
        );
        // No zero-width cells: the coloured part is left out at 0%, the rest at 100%.
        assert!(
            !html.contains("width:0%") && !html.contains("width=\"0%\""),
            "{code}: zero-width cell"
        );
        assert!(
            html.contains("width:4%") && html.contains("width:96%"),
            "{code}: 4% bar"
        );
    }
}

/// A list cut short says how many it leaves out, under that list, in both parts; a whole
/// list says nothing of the kind.
#[test]
fn a_list_cut_short_says_how_many_more() {
    let lists = [
        "drafts_waiting",
        "replied",
        "let_go",
        "due_next_week",
        "waiting_on_you",
        "colleagues",
    ];
    for language in languages() {
        let code = language.code;
        let (text, html) = render(&language, &full_week(&language));
        let word = language.more.split(' ').next().unwrap();
        assert!(
            !text.contains(&language.more.replace('N', "0"))
                && !text.lines().any(|l| l.starts_with(&format!("  {word} "))),
            "{code}: a whole list says {:?}:\n{text}",
            language.more
        );
        assert!(!html.contains(&format!(">{word} ")), "{code}: {html}");
        for (i, list) in lists.iter().enumerate() {
            let mut context = full_week(&language);
            let count = 40 + i as u64;
            context["more"][list] = json!(count);
            let (text, html) = render(&language, &context);
            let said = language.more.replace('N', &count.to_string());
            assert!(
                text.contains(&format!("\n  {said}\n")),
                "{code} {list}: text lacks {said:?}:\n{text}"
            );
            assert!(html.contains(&format!(">{said}</td>")), "{code} {list}");
            // Under its own list: after that section's heading, before the next one.
            let at = text.find(&said).unwrap();
            assert!(
                at > text.find(language.sections[i]).unwrap(),
                "{code} {list}"
            );
            if let Some(next) = language.sections.get(i + 1) {
                assert!(at < text.find(next).unwrap(), "{code} {list}");
            }
        }
    }
}

const THOUSAND: usize = 1000;

/// A subject of 200 characters, with words of every length and markup a stranger wrote.
fn long_subject(i: usize) -> String {
    let mut subject = format!("Re: Tilbud {i} på rammeavtale <script>alert(1)</script> & ");
    let words = [
        "kontorstoler",
        "og",
        "hev-senk-pulter",
        "for",
        "avdelingen",
        "i",
    ];
    let mut w = i;
    while subject.chars().count() < 200 {
        subject.push_str(words[w % words.len()]);
        subject.push(' ');
        w += 1;
    }
    subject
        .chars()
        .take(200)
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// A prospect with a long address, about 70 characters: nearly a line of its own.
fn long_prospect(i: usize) -> String {
    format!("ingrid-marie.berg-johannessen.{i}@innkjop.fjordkraft-nettselskap.no")
}

/// The summary's lists: drafts waiting, replied, let go, due next week, waiting on you,
/// coming back later, said not now, new contacts to consider, colleagues talking to them.
const LISTS: usize = 9;

/// A week of a thousand conversations in every list, as `summary::compute` would give it.
fn a_thousand_of_everything() -> nudge::summary::Summary {
    use nudge::summary::*;
    let mut summary = Summary::sample();
    summary.seller_first_name = "Kari-Mette Annelise".into();
    summary.n = Numbers {
        tracked: 5000,
        new_this_week: 1000,
        replies: 1000,
        drafts_waiting: 1000,
        let_go: 1000,
        bounced: 0,
        opted_out: 0,
        dismissed: 0,
        came_back: 0,
    };
    summary.drafts_waiting = (0..THOUSAND)
        .map(|i| WaitingDraft {
            subject: long_subject(i),
            prospect: long_prospect(i),
            age_days: 3,
            step: 2,
            is_close: false,
        })
        .collect();
    summary.replied = (0..THOUSAND)
        .map(|i| Replied {
            subject: long_subject(i),
            prospect: long_prospect(i),
            after_step: 3,
            after_close: true,
            came_back: true,
        })
        .collect();
    summary.let_go = (0..THOUSAND)
        .map(|i| LetGo {
            subject: long_subject(i),
            prospect: long_prospect(i),
        })
        .collect();
    summary.due_next_week = (0..THOUSAND)
        .map(|i| DueNext {
            subject: long_subject(i),
            prospect: long_prospect(i),
            due: "Wed 25 Nov".into(),
            step: 3,
            is_close: true,
        })
        .collect();
    summary.waiting_on_you = (0..THOUSAND)
        .map(|i| WaitingOnYou {
            subject: long_subject(i),
            prospect: long_prospect(i),
            business_days: 12,
            asks: i % 2 == 0,
        })
        .collect();
    summary.coming_back = (0..THOUSAND)
        .map(|i| ComingBack {
            subject: long_subject(i),
            prospect: long_prospect(i),
            phrase: format!("not now, try us again after the summer ({i})"),
            on: "2. august".into(),
        })
        .collect();
    summary.not_now = (0..THOUSAND)
        .map(|i| NotNow {
            subject: long_subject(i),
            prospect: long_prospect(i),
            phrase: format!("not right now, thanks ({i})"),
        })
        .collect();
    summary.new_contacts = (0..THOUSAND)
        .map(|i| NewContacts {
            subject: long_subject(i),
            prospect: long_prospect(i),
            addresses: format!("per.{i}@innkjop.fjordkraft-nettselskap.no"),
        })
        .collect();
    summary.colleagues = (0..THOUSAND)
        .map(|i| Colleague {
            subject: long_subject(i),
            prospect: long_prospect(i),
            colleague: format!("ola-kristian.nordmann.{i}@salg.fjordsalg-konsern.no"),
            organisation: "fjordkraft-nettselskap.no".into(),
            on: "Thu 19 Nov".into(),
        })
        .collect();
    summary
}

/// Gmail clips HTML over about 102 KB, and text over 78 columns breaks in many readers: a
/// thousand conversations of every kind, with long subjects and names, still fit, the lists
/// say how many they leave out, and the numbers still count everything.
#[test]
fn a_thousand_conversations_of_every_kind_fit_a_mail_client() {
    let summary = a_thousand_of_everything();
    let limit = nudge::summary::LIST_LIMIT;
    assert!(limit < THOUSAND);
    for language in languages() {
        let code = language.code;
        let (text, html) = nudge::summary::render(&summary, language.library).unwrap();
        assert!(
            html.len() < 80 * 1024,
            "{code}: the HTML part is {} bytes",
            html.len()
        );
        assert_no_leftovers(code, "text", &text);
        assert_no_leftovers(code, "html", &html);
        assert_self_contained_html(code, &html);
        assert_text_is_plain_and_narrow(code, &text);

        // Each list: its first entries, and how many more. Nine lists of long entries pass
        // 80 KB at the full limit, so they are drawn again shorter, all alike.
        let shown = [limit, 5, 2, 1]
            .into_iter()
            .find(|k| {
                let said = language.more.replace('N', &(THOUSAND - k).to_string());
                text.matches(&said).count() == LISTS
            })
            .unwrap_or(0);
        assert!(shown >= 5, "{code}: {shown} entries a list:\n{text}");
        let limit = shown;
        let said = language.more.replace('N', &(THOUSAND - limit).to_string());
        assert_eq!(
            text.matches(&said).count(),
            LISTS,
            "{code}: {said:?}:\n{text}"
        );
        assert_eq!(
            html.matches(&format!(">{said}</td>")).count(),
            LISTS,
            "{code}"
        );
        assert_eq!(
            text.matches(&long_prospect(0)).count(),
            LISTS,
            "{code}: each list starts with its first entry"
        );
        let last = long_prospect(limit - 1);
        assert_eq!(text.matches(&last).count(), LISTS, "{code}: {last}");
        let beyond = format!("{}@", long_prospect(limit).split('@').next().unwrap());
        assert!(!text.contains(&beyond), "{code}: entry {limit} is left out");
        assert!(!html.contains(&beyond), "{code}: entry {limit} is left out");
        // The numbers at a glance count everything.
        for number in ["5000", "1000"] {
            assert!(text.contains(number), "{code}: text lacks {number}");
            assert!(html.contains(number), "{code}: html lacks {number}");
        }

        // A subject is wrapped, never cut: its words follow each other across the lines,
        // which hang under the start of the entry's text.
        let subject = long_subject(0);
        let at = text.find("  - ").unwrap();
        let mut block: Vec<&str> = Vec::new();
        for line in text[at..].lines() {
            block.push(line);
            if line.ends_with(['"', '»', '”', '“']) {
                break;
            }
        }
        let joined = block.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        assert!(
            joined.starts_with(&format!("- {}: ", long_prospect(0))) && joined.contains(&subject),
            "{code}: the subject across lines:\n{}",
            block.join("\n")
        );
        assert!(block.len() >= 3, "{code}: wrapped over several lines");
        assert!(
            block[1..]
                .iter()
                .all(|l| l.starts_with("    ") && !l.starts_with("     ")),
            "{code}: hanging indent:\n{}",
            block.join("\n")
        );

        // Strangers' markup: escaped in HTML, as written in text.
        assert!(!html.contains("<script"), "{code}: raw markup in html");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt; &amp;"),
            "{code}: escaped subject"
        );
        assert!(
            text.contains("<script>alert(1)</script>"),
            "{code}: text as written"
        );
    }
}

/// Subjects and addresses of nothing but markup characters, each escaped to five or six
/// bytes in HTML: the lists get shorter, so the HTML part still fits, and each says how many
/// it leaves out.
#[test]
fn markup_in_every_subject_still_fits() {
    let mut summary = a_thousand_of_everything();
    let hostile = |i: usize| {
        format!("{i} {}", "<'\"&/>".repeat(40))
            .chars()
            .take(200)
            .collect::<String>()
    };
    for (i, d) in summary.drafts_waiting.iter_mut().enumerate() {
        (d.subject, d.prospect) = (hostile(i), hostile(i));
    }
    for (i, r) in summary.replied.iter_mut().enumerate() {
        (r.subject, r.prospect) = (hostile(i), hostile(i));
    }
    for (i, l) in summary.let_go.iter_mut().enumerate() {
        (l.subject, l.prospect) = (hostile(i), hostile(i));
    }
    for (i, d) in summary.due_next_week.iter_mut().enumerate() {
        (d.subject, d.prospect) = (hostile(i), hostile(i));
    }
    for (i, w) in summary.waiting_on_you.iter_mut().enumerate() {
        (w.subject, w.prospect) = (hostile(i), hostile(i));
    }
    for (i, c) in summary.coming_back.iter_mut().enumerate() {
        (c.subject, c.prospect, c.phrase) = (hostile(i), hostile(i), hostile(i));
    }
    for (i, c) in summary.not_now.iter_mut().enumerate() {
        (c.subject, c.prospect, c.phrase) = (hostile(i), hostile(i), hostile(i));
    }
    for (i, c) in summary.new_contacts.iter_mut().enumerate() {
        (c.subject, c.prospect, c.addresses) = (hostile(i), hostile(i), hostile(i));
    }
    for (i, c) in summary.colleagues.iter_mut().enumerate() {
        (c.subject, c.prospect, c.organisation) = (hostile(i), hostile(i), hostile(i));
    }
    for language in languages() {
        let code = language.code;
        let (text, html) = nudge::summary::render(&summary, language.library).unwrap();
        assert!(
            html.len() < 80 * 1024,
            "{code}: the HTML part is {} bytes",
            html.len()
        );
        assert!(!html.contains("<'"), "{code}: raw markup in html");
        assert!(html.contains("&lt;&#x27;&quot;&amp;&#x2F;&gt;"), "{code}");
        assert_text_is_plain_and_narrow(code, &text);
        // Each list shows its first entries and counts the rest.
        let (before, after) = language.more.split_once('N').unwrap();
        let counts: Vec<usize> = text
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_prefix(before)?
                    .strip_suffix(after)?
                    .parse()
                    .ok()
            })
            .collect();
        assert_eq!(counts.len(), LISTS, "{code}:\n{text}");
        let shown = THOUSAND - counts[0];
        assert!(counts.iter().all(|&c| c == counts[0]), "{code}: {counts:?}");
        assert!(
            (1..=nudge::summary::LIST_LIMIT).contains(&shown),
            "{code}: {shown}"
        );
        assert!(
            text.matches("\n  - 0 <'\"&/>").count() >= LISTS - 1,
            "{code}: the first entries"
        );
        assert_eq!(
            text.matches("\n  - ").count(),
            LISTS * shown,
            "{code}:\n{text}"
        );
    }
}

/// The open conversations whose company a colleague of the team wrote to lately: shown in
/// both parts in every language, after the new contacts, with who wrote to which company; a
/// seller without a team (no entries) sees no such section.
#[test]
fn who_else_of_the_team_is_talking_to_them() {
    let sample = nudge::summary::Summary::sample();
    assert_eq!(sample.colleagues.len(), 1, "the sample has one");
    let mut alone = sample.clone();
    alone.colleagues.clear();
    for language in languages() {
        let code = language.code;
        let heading = language.sections[5];
        let (text, html) = nudge::summary::render(&sample, language.library).unwrap();
        assert_text_is_plain_and_narrow(code, &text);
        for (part, rendered, heading) in [
            ("text", &text, heading),
            ("html", &html, language.colleagues),
        ] {
            for shown in [heading, COLLEAGUE, "fjordkraft.no", "Thu 19 Nov"] {
                assert!(
                    rendered.contains(shown),
                    "{code} {part}: lacks {shown:?}:\n{rendered}"
                );
            }
            // After the new contacts, and once.
            let at = rendered.find(heading).unwrap();
            assert!(
                at > rendered.find("per.olsen@kystfisk.no").unwrap(),
                "{code} {part}"
            );
            assert_eq!(rendered.matches(COLLEAGUE).count(), 1, "{code} {part}");
        }
        // The entry: the prospect and the subject, then who wrote to which company.
        let lines: Vec<&str> = text.lines().collect();
        let entry = lines.iter().position(|l| l.contains(COLLEAGUE)).unwrap();
        assert!(
            lines[entry - 1].starts_with("  - ingrid.berg@fjordkraft.no: ")
                && lines[entry - 1].contains("Tilbud på rammeavtale"),
            "{code}: {}",
            lines[entry - 1]
        );
        assert!(
            lines[entry].starts_with("    ") && lines[entry].contains("fjordkraft.no"),
            "{code}: {}",
            lines[entry]
        );
        if code == "en" {
            assert_eq!(
                lines[entry],
                "    ola@fjordsalg.no wrote to fjordkraft.no on Thu 19 Nov"
            );
        }
        let word = language.more.split(' ').next().unwrap();
        assert!(!text.contains(&format!("\n  {word} ")), "{code}: {text}");

        let (text, html) = nudge::summary::render(&alone, language.library).unwrap();
        assert!(!text.contains(heading), "{code}: empty section in text");
        assert!(
            !html.contains(language.colleagues),
            "{code}: empty section in html"
        );
        assert!(
            !text.contains(COLLEAGUE) && !html.contains(COLLEAGUE),
            "{code}: a colleague without the list"
        );
    }
}
