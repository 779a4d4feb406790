//! The follow-up templates: Tera, one file per step and language, built into the binary and
//! overridable by a file of the same name under `<config folder>/templates/<lang>/`.
//! A file holds several variants separated by a line `{# variant #}`; nudge picks one per
//! conversation so a prospect never gets the same wording twice.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Language;
use crate::error::{ConfigError, Error, Result};

/// The line that separates variants in a template file.
pub const VARIANT_MARKER: &str = "{# variant #}";

/// Languages with shipped templates, in the order `templates list` shows them.
pub const LANGUAGES: [Language; 6] = [
    Language::En,
    Language::Nb,
    Language::Sv,
    Language::Da,
    Language::Fi,
    Language::De,
];

macro_rules! builtin {
    ($($lang:literal / $name:literal),* $(,)?) => {
        &[$(($lang, $name, include_str!(concat!("../../templates/", $lang, "/", $name, ".txt.tera")))),*]
    };
}

/// The shipped templates: (language, name, text). `check-back` is the follow-up for a
/// prospect who asked to be contacted later, drafted on the day they named.
const BUILTIN: &[(&str, &str, &str)] = builtin![
    "en" / "followup-1",
    "en" / "followup-2",
    "en" / "close-the-loop",
    "en" / "check-back",
    "nb" / "followup-1",
    "nb" / "followup-2",
    "nb" / "close-the-loop",
    "nb" / "check-back",
    "sv" / "followup-1",
    "sv" / "followup-2",
    "sv" / "close-the-loop",
    "sv" / "check-back",
    "da" / "followup-1",
    "da" / "followup-2",
    "da" / "close-the-loop",
    "da" / "check-back",
    "fi" / "followup-1",
    "fi" / "followup-2",
    "fi" / "close-the-loop",
    "fi" / "check-back",
    "de" / "followup-1",
    "de" / "followup-2",
    "de" / "close-the-loop",
    "de" / "check-back",
];

/// Where a template came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Builtin,
    /// A file in the seller's config folder.
    File(PathBuf),
}

/// One template: a step's text in one language, with its variants.
#[derive(Debug, Clone)]
pub struct Template {
    pub language: Language,
    pub name: String,
    pub variants: Vec<String>,
    pub source: Source,
}

/// What a follow-up template can say about the conversation.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUpContext {
    pub prospect_name: String,
    pub prospect_first_name: String,
    pub prospect_company: String,
    pub seller_name: String,
    pub seller_first_name: String,
    pub signature: String,
    /// The thread's subject without reply prefixes.
    pub subject: String,
    /// The date of the first touch, written the language's way ("10. november").
    pub first_touch_date: String,
    /// Calendar days since the seller's last message.
    pub days_waiting: i64,
    /// The follow-up's step, 1-based.
    pub step: u32,
    pub steps_total: u32,
    /// For a check-back: the date the prospect asked to be contacted later, written the
    /// language's way like `first_touch_date`; empty otherwise. Their words themselves never
    /// reach a draft (SPEC 13: a stranger's message never chooses a draft's words); `nudge
    /// show` and the summary quote them to the seller.
    pub deferred_on: String,
}

impl FollowUpContext {
    /// A realistic context for previews.
    pub fn sample(language: Language) -> FollowUpContext {
        let (subject, date, deferred_on) = match language {
            Language::En => ("Proposal for your site team", "10 November", "17 November"),
            Language::Nb => ("Tilbud på rammeavtale", "10. november", "17. november"),
            Language::Sv => ("Offert på licenser", "10 november", "17 november"),
            Language::Da => ("Tilbud på flådestyring", "10. november", "17. november"),
            Language::Fi => (
                "Tarjous huoltosopimuksesta",
                "10. marraskuuta",
                "17. marraskuuta",
            ),
            Language::De => (
                "Angebot für Ihre Niederlassung",
                "10. November",
                "17. November",
            ),
        };
        FollowUpContext {
            prospect_name: "Ingrid Berg".into(),
            prospect_first_name: "Ingrid".into(),
            prospect_company: "Fjordkraft".into(),
            seller_name: "Kari Nordmann".into(),
            seller_first_name: "Kari".into(),
            signature: "Kari Nordmann".into(),
            subject: subject.into(),
            first_touch_date: date.into(),
            days_waiting: 5,
            step: 1,
            steps_total: 3,
            deferred_on: deferred_on.into(),
        }
    }
}

/// Every template nudge can use.
#[derive(Debug, Clone)]
pub struct Templates {
    templates: Vec<Template>,
}

fn split_variants(text: &str) -> Vec<String> {
    text.split(VARIANT_MARKER)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

fn language_of(code: &str) -> Option<Language> {
    LANGUAGES.into_iter().find(|l| l.code() == code)
}

impl Templates {
    /// The shipped templates only.
    pub fn builtin() -> Templates {
        let templates = BUILTIN
            .iter()
            .map(|(lang, name, text)| Template {
                language: language_of(lang).expect("shipped languages are known"),
                name: name.to_string(),
                variants: split_variants(text),
                source: Source::Builtin,
            })
            .collect();
        Templates { templates }
    }

    /// The shipped templates with the seller's own files from `<config_dir>/templates/`
    /// (any name, so extra steps can have templates too). Every variant is test-rendered,
    /// so a broken file is a clear error at start, not a failed draft later.
    pub fn load(config_dir: Option<&Path>) -> Result<Templates> {
        let mut all = Templates::builtin();
        let Some(dir) = config_dir.map(|d| d.join("templates")) else {
            return Ok(all);
        };
        for language in LANGUAGES {
            let lang_dir = dir.join(language.code());
            let Ok(entries) = std::fs::read_dir(&lang_dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths {
                let Some(name) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".txt.tera"))
                    .map(str::to_string)
                else {
                    continue;
                };
                let text = std::fs::read_to_string(&path).map_err(|e| template_error(&path, e))?;
                let template = Template {
                    language,
                    name: name.clone(),
                    variants: split_variants(&text),
                    source: Source::File(path.clone()),
                };
                if template.variants.is_empty() {
                    return Err(template_error(&path, "the file has no text"));
                }
                for (index, _) in template.variants.iter().enumerate() {
                    render_variant(&template, index, &FollowUpContext::sample(language))
                        .map_err(|e| template_error(&path, e))?;
                }
                all.templates
                    .retain(|t| !(t.language == language && t.name == name));
                all.templates.push(template);
            }
        }
        Ok(all)
    }

    /// Every template, shipped ones first.
    pub fn all(&self) -> &[Template] {
        &self.templates
    }

    /// The template for a step in a language, falling back to English.
    pub fn get(&self, language: Language, name: &str) -> Option<&Template> {
        let find = |l: Language| {
            self.templates
                .iter()
                .find(|t| t.language == l && t.name == name)
        };
        find(language).or_else(|| find(Language::En))
    }

    /// Renders variant `variant` (wrapping around) of a template.
    pub fn render(
        &self,
        language: Language,
        name: &str,
        variant: u32,
        context: &FollowUpContext,
    ) -> Result<String> {
        let template = self.get(language, name).ok_or_else(|| {
            Error::Config(ConfigError {
                path: None,
                key: "cadence.steps".into(),
                line: None,
                message: format!(
                    "there is no template \"{name}\" (in {} or en)",
                    language.code()
                ),
            })
        })?;
        let index = variant as usize % template.variants.len();
        render_variant(template, index, context).map_err(|e| {
            Error::Data(format!(
                "template {}/{name} variant {index}: {e}",
                language.code()
            ))
        })
    }
}

fn render_variant(
    template: &Template,
    index: usize,
    context: &FollowUpContext,
) -> std::result::Result<String, String> {
    let context = tera::Context::from_serialize(context).map_err(|e| e.to_string())?;
    let mut tera = sandboxed_tera();
    tera.add_raw_template("follow-up.txt", &template.variants[index])
        .and_then(|()| tera.render("follow-up.txt", &context))
        .map(|text| text.trim().to_string())
        .map_err(|e| tera_error_text(&e))
}

/// A Tera with no way out of its context: `get_env` would put any variable of the daemon
/// (`password_env`'s password) into a draft or the summary (SPEC 13), so it is replaced by a
/// function that always fails. Tera 1 reaches the environment through no other function, and
/// the file system through none (`include` and `extends` name registered templates only).
pub fn sandboxed_tera() -> tera::Tera {
    let mut tera = tera::Tera::default();
    tera.register_function(
        "get_env",
        |_: &std::collections::HashMap<String, tera::Value>| -> tera::Result<tera::Value> {
            Err(tera::Error::msg(
                "get_env is disabled: templates cannot read environment variables",
            ))
        },
    );
    tera
}

/// A Tera error with its causes: Tera hides the useful part in the error's source chain.
pub fn tera_error_text(error: &tera::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

fn template_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Config(ConfigError {
        path: Some(path.to_path_buf()),
        key: "templates".into(),
        line: None,
        message: reason.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_env_fails_in_a_follow_up_template() {
        let path = std::env::var("PATH").expect("PATH is set");
        let template = Template {
            language: Language::En,
            name: "followup-1".into(),
            variants: vec!["Hi {{ get_env(name=\"PATH\") }}".into()],
            source: Source::Builtin,
        };
        let error = render_variant(&template, 0, &FollowUpContext::sample(Language::En))
            .expect_err("get_env is refused");
        assert!(error.contains("get_env is disabled"), "{error}");
        assert!(!error.contains(&path), "{error}");
        // With a default, too: Tera's own get_env would fall back to it silently.
        let mut tera = sandboxed_tera();
        let rendered = tera.render_str(
            "{{ get_env(name=\"PATH\", default=\"x\") }}",
            &tera::Context::new(),
        );
        assert!(rendered.is_err());
    }
}
