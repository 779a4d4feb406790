//! Writing follow-ups: the template and its variant, the language, and the draft itself.

pub mod company;
pub mod draft;
pub mod templates;

use chrono::{DateTime, Utc};

use crate::config::{Config, Language};
use crate::mail::address::{domain, organisation_domain};
use crate::mail::parse::Mailbox;
use crate::model::Conversation;
use templates::FollowUpContext;

/// The template language for a conversation: a configured override for a prospect's address
/// or domain, else the language of the seller's last message, else the account's language.
pub fn choose_language(config: &Config, prospects: &[String], last_text: &str) -> Language {
    for prospect in prospects {
        let d = domain(prospect);
        let org = organisation_domain(&d);
        if let Some((_, language)) = config
            .languages
            .iter()
            .find(|(key, _)| *key == *prospect || *key == d || *key == org)
        {
            return *language;
        }
    }
    detect_language(last_text).unwrap_or(config.account.language)
}

/// The language of a text, among the shipped languages, when the detector is fairly sure.
/// Norwegian and Danish are close; a few everyday words decide between them. Finnish and
/// German are far enough from the others that the detector tells them apart on its own.
pub fn detect_language(text: &str) -> Option<Language> {
    use whatlang::Lang;
    if text.split_whitespace().count() < 4 {
        return None;
    }
    let detector = whatlang::Detector::with_allowlist(vec![
        Lang::Eng,
        Lang::Nob,
        Lang::Swe,
        Lang::Dan,
        Lang::Fin,
        Lang::Deu,
    ]);
    let info = detector.detect(text)?;
    // Between Norwegian and Danish the detector is seldom sure; the word check decides.
    let close_pair = matches!(info.lang(), Lang::Nob | Lang::Dan);
    if !close_pair && info.confidence() < 0.3 {
        return None;
    }
    match info.lang() {
        Lang::Eng => Some(Language::En),
        Lang::Swe => Some(Language::Sv),
        Lang::Fin => Some(Language::Fi),
        Lang::Deu => Some(Language::De),
        Lang::Nob | Lang::Dan => Some(norwegian_or_danish(text)),
        _ => None,
    }
}

fn norwegian_or_danish(text: &str) -> Language {
    const NB: [&str; 10] = [
        "hei", "takk", "kanskje", "hva", "vennlig", "hilsen", "ikke", "dere", "noen", "også",
    ];
    const DA: [&str; 10] = [
        "hej", "tak", "måske", "hvad", "venlig", "hilsen", "ikke", "jer", "nogle", "også",
    ];
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .collect();
    let score = |list: &[&str]| words.iter().filter(|w| list.contains(&w.as_str())).count();
    if score(&DA) > score(&NB) {
        Language::Da
    } else {
        Language::Nb
    }
}

/// The variant for a template: the first one this prospect has not had yet, starting at a
/// place that differs between conversations so drafts on the same day read differently.
pub fn choose_variant(conversation_id: i64, count: usize, used: &[u32]) -> u32 {
    let count = count.max(1) as u32;
    let start = (conversation_id.unsigned_abs() % u64::from(count)) as u32;
    (0..count)
        .map(|i| (start + i) % count)
        .find(|v| !used.contains(v))
        .unwrap_or(start)
}

/// What the templates may say about this conversation.
///
/// `prospect_company` comes from [`company::company_name`] with what a conversation carries
/// today: the greeted address, its display name and `[companies]`. The prospect's latest
/// `Organization:` header and signature are passed as `None` until the store keeps them.
///
/// `from_prospect` is the greeted prospect's latest message in the thread, when there is one:
/// its Organization header and signature may name the company as they write it.
pub fn context(
    config: &Config,
    conversation: &Conversation,
    greeted: &Mailbox,
    from_prospect: Option<&crate::model::Message>,
    language: Language,
    step: u32,
    now: DateTime<Utc>,
) -> FollowUpContext {
    let prospect_name = greeted
        .name
        .as_deref()
        .map(|n| company::person_name(n, &greeted.address))
        .unwrap_or_default();
    let prospect_first_name = first_name(&prospect_name);
    let company = company::company_name(
        &greeted.address,
        greeted.name.as_deref(),
        from_prospect.and_then(|m| m.organization.as_deref()),
        from_prospect
            .filter(|m| m.has_body)
            .map(|m| m.snippet.as_str()),
        &config.companies,
    );
    let seller_name = config.account.name.clone();
    FollowUpContext {
        prospect_first_name,
        prospect_name,
        prospect_company: company,
        seller_first_name: first_name(&seller_name),
        signature: signature(config, language),
        seller_name,
        subject: draft::strip_reply_prefixes(&conversation.subject),
        first_touch_date: draft::long_date(
            conversation.first_touch_at,
            language,
            config.account.timezone,
        ),
        days_waiting: (now - conversation.last_touch_at).num_days().max(0),
        step,
        steps_total: config.cadence.steps.len() as u32,
        // Known only for a conversation the prospect asked to resume later.
        deferred_on: conversation
            .heard
            .deferral
            .as_ref()
            .and(conversation.last_inbound_at)
            .map(|at| draft::long_date(at, language, config.account.timezone))
            .unwrap_or_default(),
    }
}

/// The closing and signature under a follow-up.
pub fn signature(config: &Config, language: Language) -> String {
    match &config.account.signature {
        Some(signature) => signature.clone(),
        None => format!("{}\n{}", draft::closing(language), config.account.name),
    }
}

/// "Ingrid" of "Ingrid Berg"; "Berg, Ingrid" gives "Ingrid" too.
fn first_name(name: &str) -> String {
    let name = name.trim().trim_matches('"');
    let first = match name.split_once(',') {
        Some((_, given)) => given.split_whitespace().next(),
        None => name.split_whitespace().next(),
    };
    first.unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_avoid_what_the_prospect_had() {
        assert_eq!(choose_variant(4, 3, &[]), 1);
        assert_eq!(choose_variant(4, 3, &[1]), 2);
        assert_eq!(choose_variant(4, 3, &[1, 2]), 0);
        assert_eq!(choose_variant(4, 3, &[0, 1, 2]), 1, "all used: start again");
        assert_eq!(choose_variant(1, 0, &[]), 0);
    }

    #[test]
    fn names() {
        assert_eq!(first_name("Ingrid Berg"), "Ingrid");
        assert_eq!(first_name("Berg, Ingrid"), "Ingrid");
        assert_eq!(first_name(""), "");
    }

    /// Every shipped wording is read as its own language: Finnish and German in the detector
    /// take nothing from the Scandinavian languages or English.
    #[test]
    fn every_shipped_wording_is_detected_as_its_language() {
        use templates::{Templates, LANGUAGES};
        let shipped = Templates::builtin();
        let mut wrong = Vec::new();
        for template in shipped.all() {
            let language = template.language;
            for variant in 0..template.variants.len() as u32 {
                let text = shipped
                    .render(
                        language,
                        &template.name,
                        variant,
                        &FollowUpContext::sample(language),
                    )
                    .expect("renders");
                let found = detect_language(&text);
                if found != Some(language) {
                    wrong.push(format!(
                        "{}/{} {variant}: {found:?}",
                        language.code(),
                        template.name
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        assert_eq!(shipped.all().len(), LANGUAGES.len() * 4);
        // Short everyday answers, where a wider allowlist could tip the balance.
        for (text, language) in [
            ("Takk, det høres bra ut.", Language::Nb),
            ("Hei, kan vi ta det på torsdag?", Language::Nb),
            ("Tak, det lyder godt. Vi ses.", Language::Da),
            ("Hej, kan vi tage det på torsdag?", Language::Da),
            ("Tack, det låter bra. Vi hörs.", Language::Sv),
            ("Hej, kan vi ta det på torsdag?", Language::Sv),
            ("Thanks, that sounds good to me.", Language::En),
            (
                "Kiitos, kuulostaa hyvältä. Palataan torstaina.",
                Language::Fi,
            ),
            ("Danke, das klingt gut für uns.", Language::De),
        ] {
            let found = detect_language(text);
            assert!(found.is_none_or(|l| l == language), "{text:?}: {found:?}");
        }
    }

    #[test]
    fn detects_the_shipped_languages() {
        assert_eq!(
            detect_language("Hei Ingrid, takk for en hyggelig prat i går. Her er tilbudet vi snakket om, jeg håper det passer for dere."),
            Some(Language::Nb)
        );
        assert_eq!(
            detect_language("Hej Anna, tack för ett trevligt samtal igår. Här kommer offerten som vi pratade om, jag hoppas att den passar er."),
            Some(Language::Sv)
        );
        assert_eq!(
            detect_language("Hej Mette, tak for en god snak i går. Her er tilbuddet, som vi talte om, og jeg håber, det passer jer."),
            Some(Language::Da)
        );
        assert_eq!(
            detect_language("Hei Mikko, kiitos mukavasta keskustelusta eilen. Tässä on tarjous, josta puhuimme, ja toivon, että se sopii teille."),
            Some(Language::Fi)
        );
        assert_eq!(
            detect_language("Hallo Herr Weber, vielen Dank für das nette Gespräch gestern. Anbei das Angebot, über das wir gesprochen haben; ich hoffe, es passt für Sie."),
            Some(Language::De)
        );
        assert_eq!(detect_language("OK"), None, "too short to tell");
        assert_eq!(
            detect_language("Hi James, thanks for a great conversation yesterday. Here is the proposal we talked about, I hope it works for your team."),
            Some(Language::En)
        );
    }
}
