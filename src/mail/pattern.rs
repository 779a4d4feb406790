//! A regular expression compiled the first time a text could match it.
//!
//! The rules of [`super::intent`] and [`super::return_date`] are a few dozen large, Unicode,
//! case-insensitive patterns. Compiling all of them costs tens of milliseconds, paid by every
//! process that reads one reply (`nudge sync`, `nudge show`), while most texts could match
//! only a few of them: "Takk, vi tar en prat." names no month, no quarter and no departure.
//!
//! So each [`Pattern`] first derives, from the pattern's syntax alone, a set of words of which
//! every match must contain one ("summer" or "sommeren" or …), and compiles the regular
//! expression only once a text contains one of them. The set is a necessary condition, never
//! a guess: a pattern whose syntax gives no such set (a class, an optional part) is always
//! compiled, and the text is compared case-folded, as `(?i)` compares it. What a pattern
//! matches, and where, is exactly what [`regex::Regex`] says.

use std::borrow::Cow;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};
use regex::{Captures, Match, Regex};
use regex_syntax::ast::{self, Ast, RepetitionKind, RepetitionRange};

/// A regular expression, compiled on first need.
pub struct Pattern {
    source: String,
    /// `None`: no word is needed, every text may match.
    gate: OnceLock<Option<AhoCorasick>>,
    regex: OnceLock<Regex>,
}

impl Pattern {
    /// A pattern from its source. Nothing is parsed or compiled yet; a pattern that does not
    /// compile panics on first use, so a unit test must use each one.
    pub fn new(source: impl Into<String>) -> Pattern {
        Pattern {
            source: source.into(),
            gate: OnceLock::new(),
            regex: OnceLock::new(),
        }
    }

    /// The compiled expression when `haystack` may match it; `None` when it cannot.
    fn regex_for(&self, haystack: &str) -> Option<&Regex> {
        if let Some(regex) = self.regex.get() {
            return Some(regex);
        }
        let gate = self.gate.get_or_init(|| {
            required_words(&self.source).map(|words| {
                AhoCorasickBuilder::new()
                    // Built in microseconds; the texts read are short.
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(words)
                    .expect("a few words make an automaton")
            })
        });
        if let Some(gate) = gate {
            if !gate.is_match(fold(haystack).as_ref()) {
                return None;
            }
        }
        Some(self.regex.get_or_init(|| {
            Regex::new(&self.source)
                .unwrap_or_else(|e| panic!("pattern {:?} compiles: {e}", self.source))
        }))
    }

    /// True when the pattern matches somewhere in `haystack`.
    pub fn is_match(&self, haystack: &str) -> bool {
        self.regex_for(haystack)
            .is_some_and(|regex| regex.is_match(haystack))
    }

    /// Every match in `haystack`, as [`Regex::find_iter`] gives them.
    pub fn find_iter<'p, 'h>(
        &'p self,
        haystack: &'h str,
    ) -> impl Iterator<Item = Match<'h>> + use<'p, 'h> {
        self.regex_for(haystack)
            .into_iter()
            .flat_map(move |regex| regex.find_iter(haystack))
    }

    /// The first match's groups, as [`Regex::captures`] gives them.
    pub fn captures<'h>(&self, haystack: &'h str) -> Option<Captures<'h>> {
        self.regex_for(haystack)?.captures(haystack)
    }

    /// Every match's groups, as [`Regex::captures_iter`] gives them.
    pub fn captures_iter<'p, 'h>(
        &'p self,
        haystack: &'h str,
    ) -> impl Iterator<Item = Captures<'h>> + use<'p, 'h> {
        self.regex_for(haystack)
            .into_iter()
            .flat_map(move |regex| regex.captures_iter(haystack))
    }

    /// `haystack` with every match replaced, as [`Regex::replace_all`] does.
    pub fn replace_all<'h>(&self, haystack: &'h str, replacement: &str) -> Cow<'h, str> {
        match self.regex_for(haystack) {
            Some(regex) => regex.replace_all(haystack, replacement),
            None => Cow::Borrowed(haystack),
        }
    }
}

/// One character as `(?i)` compares it: lower case, and the same character for the few whose
/// simple case folding joins two lower-case forms (`ſ` is an `s`, a final `ς` a `σ`).
/// `tests::folding_covers_every_case_insensitive_pair` checks this against the regular
/// expression engine's own case folding, for every character.
fn fold_char(c: char) -> impl Iterator<Item = char> {
    let c = match c {
        'ſ' => 's',
        'ẛ' => 'ṡ',
        'ς' => 'σ',
        'ϐ' => 'β',
        'ϑ' => 'θ',
        'ϕ' => 'φ',
        'ϖ' => 'π',
        'ϰ' => 'κ',
        'ϱ' => 'ρ',
        'ϵ' => 'ε',
        'µ' => 'μ',
        '\u{345}' | '\u{1FBE}' => 'ι',
        'ᲀ' => 'в',
        'ᲁ' => 'д',
        'ᲂ' => 'о',
        'ᲃ' => 'с',
        'ᲄ' | 'ᲅ' => 'т',
        'ᲆ' => 'ъ',
        'ᲇ' => 'ѣ',
        'ᲈ' => 'ꙋ',
        'ﬅ' => 'ﬆ',
        '\u{1FD3}' => '\u{390}',
        '\u{1FE3}' => '\u{3B0}',
        c => c,
    };
    c.to_lowercase()
}

/// `text` case-folded character by character.
fn fold(text: &str) -> Cow<'_, str> {
    if text
        .chars()
        .all(|c| c.is_ascii() && !c.is_ascii_uppercase())
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().flat_map(fold_char).collect())
}

/// Words, case-folded, of which every match of `pattern` contains at least one; `None` when
/// the syntax gives no such set (or does not parse: the compiler then says why).
fn required_words(pattern: &str) -> Option<Vec<String>> {
    let ast = ast::parse::Parser::new().parse(pattern).ok()?;
    let words = required(&ast)?;
    // An empty word is in every text: no gate.
    (!words.iter().any(String::is_empty)).then_some(words)
}

/// The shortest word of a set: how selective the set is.
fn strength(words: &[String]) -> usize {
    words.iter().map(|w| w.chars().count()).min().unwrap_or(0)
}

/// Words of which every match of `ast` contains one, or `None` when no set is known.
fn required(ast: &Ast) -> Option<Vec<String>> {
    match ast {
        Ast::Literal(literal) => Some(vec![fold_char(literal.c).collect()]),
        Ast::Group(group) => required(&group.ast),
        Ast::Repetition(repetition) => {
            let at_least_once = match &repetition.op.kind {
                RepetitionKind::ZeroOrOne | RepetitionKind::ZeroOrMore => false,
                RepetitionKind::OneOrMore => true,
                RepetitionKind::Range(
                    RepetitionRange::Exactly(n)
                    | RepetitionRange::AtLeast(n)
                    | RepetitionRange::Bounded(n, _),
                ) => *n > 0,
            };
            if at_least_once {
                required(&repetition.ast)
            } else {
                None
            }
        }
        Ast::Alternation(alternation) => {
            let mut words = Vec::new();
            for branch in &alternation.asts {
                words.extend(required(branch)?);
            }
            words.sort();
            words.dedup();
            Some(words)
        }
        Ast::Concat(concat) => {
            // Any part's set will do; the most selective is kept. A run of literal
            // characters is one word.
            let mut best: Option<Vec<String>> = None;
            let mut consider = |words: Vec<String>| {
                if best.as_ref().is_none_or(|b| strength(&words) > strength(b)) {
                    best = Some(words);
                }
            };
            let mut run = String::new();
            for part in &concat.asts {
                match part {
                    Ast::Literal(literal) => run.extend(fold_char(literal.c)),
                    // Flags match nothing and leave a run of literals whole.
                    Ast::Flags(_) => {}
                    part => {
                        if !run.is_empty() {
                            consider(vec![std::mem::take(&mut run)]);
                        }
                        if let Some(words) = required(part) {
                            consider(words);
                        }
                    }
                }
            }
            if !run.is_empty() {
                consider(vec![run]);
            }
            best
        }
        Ast::Empty(_)
        | Ast::Flags(_)
        | Ast::Dot(_)
        | Ast::Assertion(_)
        | Ast::ClassUnicode(_)
        | Ast::ClassPerl(_)
        | Ast::ClassBracketed(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_are_derived_from_the_syntax() {
        let words = |p: &str| required_words(p);
        assert_eq!(
            words(r"(?i)\b(?:after (?:the )?summer|nach den ferien)\b"),
            Some(vec!["after ".to_string(), "nach den ferien".to_string()])
        );
        assert_eq!(words(r"(?i)\bq([1-4])\b"), Some(vec!["q".to_string()]));
        assert_eq!(
            words(r"\b(\d{1,2})\s+(jan|FEB)\b"),
            Some(vec!["feb".to_string(), "jan".to_string()])
        );
        // A branch without a word, an optional part, a class alone: no gate.
        assert_eq!(words(r"(?i)\b(?:week|\d+)\b"), None);
        assert_eq!(words(r"(?:after)?\s+"), None);
        assert_eq!(words(r"[a-z]+@[a-z]+"), Some(vec!["@".to_string()]));
        assert_eq!(words(r"(?:a|)"), None);
        assert_eq!(words(r"x{0,2}"), None);
        assert_eq!(words(r"(?:ab){2}"), Some(vec!["ab".to_string()]));
    }

    #[test]
    fn a_text_without_the_words_never_compiles_the_pattern() {
        let pattern = Pattern::new(r"(?i)\b(?:summer|sommeren)\b");
        assert!(!pattern.is_match("Takk, vi tar en prat."));
        assert_eq!(pattern.find_iter("nothing here").count(), 0);
        assert_eq!(pattern.replace_all("nothing", "x"), "nothing");
        assert!(
            pattern.regex.get().is_none(),
            "compiled for a text that cannot match"
        );
        assert!(pattern.is_match("Etter SOMMEREN."));
        assert!(pattern.regex.get().is_some());
        // Once compiled, the gate is not asked again and the answers stay the regex's.
        assert!(!pattern.is_match("summers"));
    }

    #[test]
    fn a_pattern_without_a_gate_is_compiled_for_any_text() {
        let pattern = Pattern::new(r"\d+");
        assert!(!pattern.is_match("no digits"));
        assert!(pattern.regex.get().is_some());
    }

    #[test]
    fn folding_covers_every_case_insensitive_pair() {
        // For every character with case variants, every character that `(?i)` lets it match
        // folds to the same text: a match can never hide from the gate.
        use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
        let mut unfolded = Vec::new();
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
            class.case_fold_simple();
            let own: String = fold_char(c).collect();
            for range in class.iter() {
                for other in range.start()..=range.end() {
                    let folded: String = fold_char(other).collect();
                    if own != folded {
                        unfolded.push((c, other));
                    }
                }
            }
        }
        assert!(
            unfolded.is_empty(),
            "pairs that match under (?i) but fold apart: {unfolded:?}"
        );
    }

    /// Sources with the shapes the rules use: literals in alternations, optional parts,
    /// classes, case-sensitive groups.
    const SHAPES: [&str; 6] = [
        r"(?i)\b(?:after (?:the )?summer(?: holidays?)?|etter sommeren|kesän jälkeen)\b",
        r"(?i)\b(?:in|i|im|early)\s+(mars|märz|maaliskuu|august)\b(?:\s+(20\d\d))?",
        r"(?i)\b(?:no longer (?:with|at) (?:us|(?-i:\p{Lu})\w*)|har (?:(?-i:\p{Lu})\w+ )?sluttet)\b",
        r"(?i)\bq([1-4])(?:[ /-]?(20\d\d))?\b",
        r"\b(?:[Kk]an|[Kk]unne) I\b",
        r"(?i)\b(?:en|ei) (?:ole )?enää (?:\S+ ){0,2}?(?:töissä|talossa)",
    ];

    proptest! {
        /// The gate never hides a match: whatever the text, the gated pattern answers as the
        /// plain regular expression does.
        #[test]
        fn the_gate_never_changes_an_answer(
            shape in 0..SHAPES.len(),
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("After the SUMMER".to_string()),
                    Just("etter Sommeren".to_string()),
                    Just("KESÄN jälkeen".to_string()),
                    Just("in MÄRZ 2027".to_string()),
                    Just("no longer with Acme".to_string()),
                    Just("har Kari sluttet".to_string()),
                    Just("q3".to_string()),
                    Just("Kan I".to_string()),
                    Just("ei ole enää täällä töissä".to_string()),
                    Just("ſummer".to_string()),
                    "[a-zA-ZæøåÆØÅäöÄÖ0-9 .,]{0,12}",
                ],
                0..6,
            ),
        ) {
            let text = pieces.join(" ");
            let gated = Pattern::new(SHAPES[shape]);
            let plain = Regex::new(SHAPES[shape]).unwrap();
            let ours: Vec<(usize, usize)> =
                gated.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            let theirs: Vec<(usize, usize)> =
                plain.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            prop_assert_eq!(ours, theirs);
        }
    }
}
