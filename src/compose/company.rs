//! The prospect's company as people write it ("Tromsø Sjømat AS"), for `prospect_company`.
//! Pure: everything it reads is passed in.
//!
//! The sources, most trusted first:
//! 1. the seller's `[companies]` entry for the prospect's domain or its organisation domain;
//! 2. the `Organization:` header of the prospect's latest message;
//! 3. the display name, when it carries the company: "Ingrid Berg | Fjordkraft AS",
//!    "Ingrid Berg - Fjordkraft", "Ingrid Berg (Fjordkraft AS)", "Berg, Ingrid (Fjordkraft)";
//! 4. the signature of the prospect's latest new text: a line after their name that names a
//!    company form ("Acme GmbH") or spells the domain ("Tromsø Sjømat" for tromsosjomat.no);
//! 5. the domain itself ("Fjordkraft" for fjordkraft.no), never a free-mail one.
//!
//! Sources 3 and 4 are guesses from free text, so they are conservative: a part of a name or a
//! signature line counts only when it carries a company form (AS, AB, GmbH, Ltd, …) or is the
//! domain's name written out. "Berg, Ingrid (IT)" names a department, not a company.

use crate::mail::address::{domain, is_freemail, organisation_domain};

/// The longest company name taken from mail: longer is a slogan or a sentence, not a name.
const MAX_COMPANY_CHARS: usize = 80;

/// How many of the last non-empty lines of a text are looked at for a signature.
const SIGNATURE_LINES: usize = 8;

/// Words that mark a company form, as written (case matters: "AS" is one, "as" is a word).
/// Not "SE": in a signature it is more often Sweden than a European company.
const COMPANY_FORMS: &[&str] = &[
    "AS", "ASA", "AB", "Ab", "A/S", "ApS", "I/S", "IVS", "Oy", "Oyj", "Ltd", "Ltd.", "Limited",
    "Inc", "Inc.", "LLC", "plc", "PLC", "Corp", "Corp.", "GmbH", "AG", "KG", "SA", "S.A.", "SAS",
    "BV", "B.V.", "NV", "N.V.", "Srl", "S.r.l.", "SpA", "S.p.A.", "ehf", "ehf.", "hf", "hf.",
];

/// What an `Organization:` header says when it names no company.
const NOT_COMPANIES: &[&str] = &[
    "none",
    "n/a",
    "na",
    "-",
    "private",
    "privat",
    "home",
    "personal",
    "unknown",
    "self",
    "self-employed",
];

/// The company of the prospect at `prospect_address`, from the best source that has one (see
/// the module header); empty when none has (a free-mail address and nothing else).
///
/// `organization_header` and `new_text` are the `Organization:` header and the new text (the
/// quotes cut) of the prospect's latest message in the thread, `None` where the caller does not
/// have them. `overrides` are `[companies]`: lower-case domains and their names.
pub fn company_name(
    prospect_address: &str,
    display_name: Option<&str>,
    organization_header: Option<&str>,
    new_text: Option<&str>,
    overrides: &[(String, String)],
) -> String {
    let (domain, organisation, label) = domain_parts(prospect_address);
    if !domain.is_empty() {
        if let Some((_, name)) = overrides
            .iter()
            .find(|(key, _)| *key == domain || *key == organisation)
        {
            return name.clone();
        }
    }
    organization_header
        .and_then(from_header)
        .or_else(|| display_name.and_then(|n| from_display_name(n, label.as_deref())))
        .or_else(|| {
            new_text
                .and_then(|t| from_signature(t, display_name, prospect_address, label.as_deref()))
        })
        .or_else(|| {
            Some(&organisation)
                .filter(|_| label.is_some())
                .map(|o| from_domain(o))
        })
        .unwrap_or_default()
}

/// An address's domain, its organisation domain, and the organisation's own name folded for
/// comparison when it may name a company (not for free mail).
fn domain_parts(address: &str) -> (String, String, Option<String>) {
    let domain = domain(address).trim_end_matches('.').to_lowercase();
    let organisation = organisation_domain(&domain);
    let label = Some(organisation.split('.').next().unwrap_or(""))
        .filter(|l| !l.is_empty() && !is_freemail(&domain))
        .map(fold);
    (domain, organisation, label)
}

/// The person in a display name that also names the company: "Ingrid Berg" of "Ingrid Berg |
/// Fjordkraft AS", "Ingrid Berg - Fjordkraft" or "Ingrid Berg (Fjordkraft AS)", so a draft
/// greets a person, not a signature. Any other name is returned as it is.
pub fn person_name(display_name: &str, prospect_address: &str) -> String {
    let (_, _, label) = domain_parts(prospect_address);
    let label = label.as_deref();
    let name = display_name.trim().trim_matches('"').trim();
    if let Some((before, inner)) = name.strip_suffix(')').and_then(|n| n.rsplit_once('(')) {
        if !before.trim().is_empty() && names_company(inner, label).is_some() {
            return before.trim().to_string();
        }
    }
    for separator in [" | ", " - ", " – ", " — "] {
        if let Some((before, after)) = name.split_once(separator) {
            if !before.trim().is_empty()
                && after
                    .split(separator)
                    .any(|piece| names_company(piece, label).is_some())
            {
                return before.trim().to_string();
            }
        }
    }
    name.to_string()
}

/// "Fjordkraft" from "fjordkraft.no", "Thamesbuild" from "thamesbuild.co.uk".
fn from_domain(organisation: &str) -> String {
    let label = organisation.split('.').next().unwrap_or("");
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A name as it may be shown: on one line, without control characters and without format
/// characters (a stranger's bidi override would reorder the draft's sentence), trimmed of
/// white space and of the punctuation that ends a line ("Fjordkraft AS,"); `None` when nothing
/// that looks like a name is left (no letter, an address, a link, too long).
fn cleaned(text: &str) -> Option<String> {
    let one_line: String = text
        .chars()
        .filter(|&c| !crate::display::is_format(c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let name = one_line.trim_end_matches([',', ';', ':']).trim();
    let plausible = name.chars().any(char::is_alphabetic)
        && name.chars().count() <= MAX_COMPANY_CHARS
        && !name.contains('@')
        && !name.contains("://")
        && !name.to_lowercase().starts_with("www.");
    plausible.then(|| name.to_string())
}

/// The `Organization:` header, unless it says there is none.
fn from_header(value: &str) -> Option<String> {
    cleaned(value).filter(|name| !NOT_COMPANIES.contains(&name.to_lowercase().as_str()))
}

/// A name that carries a company form as its first or last word: "Fjordkraft AS",
/// "Oy Example Ab", "Example A/S".
fn has_company_form(name: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    words.len() >= 2
        && (COMPANY_FORMS.contains(&words[0]) || COMPANY_FORMS.contains(&words[words.len() - 1]))
}

/// `text` folded to compare with a domain name: lower case, the Nordic and German letters
/// written the way a domain writes them, without spaces or hyphens ("Tromsø Sjømat" gives
/// "tromsosjomat").
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ø' | 'ö' | 'ó' | 'ò' => out.push('o'),
            'å' | 'ä' | 'á' | 'à' => out.push('a'),
            'æ' => out.push_str("ae"),
            'ü' | 'ú' => out.push('u'),
            'é' | 'è' => out.push('e'),
            ' ' | '-' | '\u{a0}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A piece of a name or a signature that names a company: it carries a company form, or it is
/// the domain's name written out (`label`, folded).
fn names_company(candidate: &str, label: Option<&str>) -> Option<String> {
    let name = cleaned(candidate)?;
    let spells_domain = label.is_some_and(|l| fold(&name) == l);
    (has_company_form(&name) || spells_domain).then_some(name)
}

/// The company in a display name: after " | ", " - " or " – ", in the parentheses at its end,
/// or the whole name when it carries a company form. "Berg, Ingrid" alone gives none.
fn from_display_name(name: &str, label: Option<&str>) -> Option<String> {
    let name = name.trim().trim_matches('"').trim();
    if let Some(inner) = name
        .strip_suffix(')')
        .and_then(|n| n.rsplit_once('('))
        .map(|(_, inner)| inner)
    {
        if let Some(company) = names_company(inner, label) {
            return Some(company);
        }
    }
    for separator in [" | ", " - ", " – ", " — "] {
        if let Some((_, after)) = name.split_once(separator) {
            // "Ingrid Berg | Key accounts | Fjordkraft AS": the piece that names a company.
            if let Some(company) = after
                .split(separator)
                .find_map(|piece| names_company(piece, label))
            {
                return Some(company);
            }
        }
    }
    // A shared mailbox's name is the company's: "Fjordkraft AS <post@fjordkraft.no>".
    cleaned(name).filter(|n| has_company_form(n))
}

/// The company in the signature of `text`: among its last lines, a line after the one with
/// the prospect's name that names a company. Without the name found, none: a company form in
/// the middle of a text is no signature.
fn from_signature(
    text: &str,
    display_name: Option<&str>,
    address: &str,
    label: Option<&str>,
) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let last = &lines[lines.len().saturating_sub(SIGNATURE_LINES)..];
    // The words of the prospect's name: from the display name, else from the address
    // ("ingrid.berg@" gives "ingrid" and "berg").
    let local = address.split('@').next().unwrap_or("");
    // Only the person's part of the name: "Ingrid Berg (IT)" is no reason to take a line
    // with "it" for the name.
    let person = display_name.map(|n| {
        [" | ", " - ", " – ", " — ", "("]
            .iter()
            .fold(n, |n, separator| n.split(separator).next().unwrap_or(n))
    });
    let source = match person {
        Some(n) if n.chars().any(char::is_alphabetic) => n.to_string(),
        _ => local.replace(['.', '_', '-'], " "),
    };
    let name_words: Vec<String> = source
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect();
    let is_name_line = |line: &str| {
        line.split(|c: char| !c.is_alphabetic())
            .any(|w| name_words.contains(&w.to_lowercase()))
    };
    let after_name = last.iter().rposition(|l| is_name_line(l))?;
    last[after_name + 1..].iter().find_map(|line| {
        // The line, or what it starts with: "Fjordkraft AS | Postboks 123 | 5804 Bergen".
        let first = line.split(['|', '·', ',']).next().unwrap_or(line);
        [*line, first]
            .into_iter()
            .find_map(|candidate| names_company(candidate, label))
            .filter(|n| n.split_whitespace().count() <= 6)
    })
}

#[cfg(test)]
mod person_tests {
    use super::person_name;

    #[test]
    fn the_person_is_told_from_the_company_in_a_display_name() {
        let at = "ingrid.berg@fjordkraft.no";
        assert_eq!(
            person_name("Ingrid Berg | Fjordkraft AS", at),
            "Ingrid Berg"
        );
        assert_eq!(person_name("Ingrid Berg - Fjordkraft", at), "Ingrid Berg");
        assert_eq!(
            person_name("Ingrid Berg (Fjordkraft AS)", at),
            "Ingrid Berg"
        );
        assert_eq!(person_name("\"Berg, Ingrid\"", at), "Berg, Ingrid");
        assert_eq!(
            person_name("Anne-Lise Dahl - Salg", at),
            "Anne-Lise Dahl - Salg"
        );
        assert_eq!(person_name("Ingrid Berg (IT)", at), "Ingrid Berg (IT)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(
        address: &str,
        name: Option<&str>,
        header: Option<&str>,
        text: Option<&str>,
    ) -> String {
        company_name(address, name, header, text, &[])
    }

    #[test]
    fn the_seller_s_entry_comes_first_by_domain_or_organisation() {
        let overrides = vec![
            (
                "tromsosjomat.no".to_string(),
                "Tromsø Sjømat AS".to_string(),
            ),
            (
                "thamesbuild.co.uk".to_string(),
                "Thames Build Ltd".to_string(),
            ),
        ];
        let all = |address: &str| {
            company_name(
                address,
                Some("Ingrid Berg | Fjordkraft AS"),
                Some("Other Org AS"),
                Some("Hei\n\nIngrid\nFjordkraft AS"),
                &overrides,
            )
        };
        assert_eq!(all("ingrid@tromsosjomat.no"), "Tromsø Sjømat AS");
        assert_eq!(all("Ingrid@TROMSOSJOMAT.NO"), "Tromsø Sjømat AS");
        assert_eq!(all("james@mail.thamesbuild.co.uk"), "Thames Build Ltd");
        assert_eq!(
            all("ingrid@fjordkraft.no"),
            "Other Org AS",
            "no entry: the header"
        );
    }

    #[test]
    fn the_organization_header_comes_next() {
        let text = Some("Hei\n\nIngrid\nFjordkraft AS");
        let name = Some("Ingrid Berg (Fjordkraft Nett AS)");
        assert_eq!(
            company(
                "ingrid@fjordkraft.no",
                name,
                Some("  Fjordkraft\tAS \r\n"),
                text
            ),
            "Fjordkraft AS"
        );
        // A header that says there is none, or holds no name, is passed over.
        for header in [
            "none",
            "N/A",
            "-",
            "Private",
            "  ",
            "123",
            "www.fjordkraft.no",
        ] {
            assert_eq!(
                company("ingrid@fjordkraft.no", name, Some(header), text),
                "Fjordkraft Nett AS",
                "{header:?}"
            );
        }
        assert_eq!(
            company("ola@gmail.com", None, Some("Fjordkraft AS"), None),
            "Fjordkraft AS",
            "a free-mail prospect may name a company"
        );
        assert_eq!(
            company(
                "x@gmail.com",
                None,
                Some("Fjord\u{202E}kraft AS\u{200B}"),
                None
            ),
            "Fjordkraft AS",
            "no format characters"
        );
        let long = "A".repeat(MAX_COMPANY_CHARS + 1);
        assert_eq!(
            company("x@fjordkraft.no", None, Some(&long), None),
            "Fjordkraft"
        );
    }

    #[test]
    fn display_names_that_carry_the_company() {
        let cases = [
            ("Ingrid Berg | Fjordkraft AS", "Fjordkraft AS"),
            ("Ingrid Berg - Fjordkraft", "Fjordkraft"),
            ("Ingrid Berg – Fjordkraft AS", "Fjordkraft AS"),
            ("Ingrid Berg (Fjordkraft AS)", "Fjordkraft AS"),
            ("Berg, Ingrid (Fjordkraft)", "Fjordkraft"),
            ("\"Ingrid Berg | Salg | Fjordkraft AS\"", "Fjordkraft AS"),
            ("Fjordkraft AS", "Fjordkraft AS"),
        ];
        for (name, expected) in cases {
            // On a free-mail address: only the name can tell.
            let on_gmail = company("ingrid@gmail.com", Some(name), None, None);
            let on_domain = company("ingrid@fjordkraft.no", Some(name), None, None);
            assert_eq!(on_domain, expected, "{name}");
            if has_company_form(expected) {
                assert_eq!(on_gmail, expected, "{name} on gmail.com");
            }
        }
        // A company form in the name, whatever the domain.
        assert_eq!(
            company(
                "ingrid@kraft-it.no",
                Some("Ingrid Berg | Acme GmbH"),
                None,
                None
            ),
            "Acme GmbH"
        );
        // Not a company: the domain decides (or nothing, on free mail).
        for name in [
            "Berg, Ingrid",
            "Ingrid Berg",
            "Berg, Ingrid (IT)",
            "Ingrid Berg (she/her)",
            "Ingrid Berg - Key Account Manager",
            "Ingrid Berg (ingrid@fjordkraft.no)",
            "Anne-Lise Berg",
        ] {
            assert_eq!(
                company("x@fjordkraft.no", Some(name), None, None),
                "Fjordkraft"
            );
            assert_eq!(company("x@gmail.com", Some(name), None, None), "", "{name}");
        }
    }

    #[test]
    fn the_signature_after_the_name() {
        let text =
            |signature: &str| format!("Hei Kari,\n\nTakk, det høres bra ut.\n\nMvh\n{signature}\n");
        let cases = [
            ("Ingrid Berg\nFjordkraft AS", "Fjordkraft AS"),
            (
                "Ingrid\nKey Account Manager\nAcme GmbH\nTel. +47 000 00 000",
                "Acme GmbH",
            ),
            ("Ingrid Berg\nOy Example Ab", "Oy Example Ab"),
            ("Ingrid Berg\nExample AB", "Example AB"),
            ("Ingrid Berg\nExample A/S", "Example A/S"),
            ("Ingrid Berg\nExample ApS", "Example ApS"),
            ("Ingrid Berg\nExample Ltd", "Example Ltd"),
            ("Ingrid Berg\nExample Inc.", "Example Inc."),
            (
                "Ingrid Berg\nFjordkraft AS | Postboks 7050 | 5020 Bergen",
                "Fjordkraft AS",
            ),
            ("Ingrid Berg\nExample AB, Box 123, Stockholm", "Example AB"),
        ];
        for (signature, expected) in cases {
            assert_eq!(
                company(
                    "ingrid@gmail.com",
                    Some("Ingrid Berg"),
                    None,
                    Some(&text(signature))
                ),
                expected,
                "{signature}"
            );
        }
        // The domain's name written out, in any casing and with its letters.
        assert_eq!(
            company(
                "ingrid@tromsosjomat.no",
                Some("Ingrid Berg"),
                None,
                Some(&text("Ingrid Berg\nSalgssjef\nTROMSØ SJØMAT"))
            ),
            "TROMSØ SJØMAT"
        );
        assert_eq!(
            company(
                "ingrid.berg@tromsosjomat.no",
                None,
                None,
                Some(&text("Ingrid\nTromsø Sjømat"))
            ),
            "Tromsø Sjømat",
            "the name from the address"
        );
        // Conservative: not after the name, not a company, or the name not there.
        for signature in [
            "Fjordkraft AS\nIngrid Berg",
            "Ingrid Berg\nSalgssjef",
            "Ingrid Berg\nWe at Fjordkraft AS have many great offers for your whole team",
            "Per Olsen\nFjordkraft AS",
            "Ingrid Berg\nTromsø",
        ] {
            assert_eq!(
                company(
                    "ingrid@tromsosjomat.no",
                    Some("Ingrid Berg"),
                    None,
                    Some(&text(signature))
                ),
                "Tromsosjomat",
                "{signature}"
            );
        }
        // The name's words, not a department in parentheses: "it" is no name line.
        assert_eq!(
            company(
                "i@gmail.com",
                Some("Ingrid Berg (IT)"),
                None,
                Some("Hei\n\nSee if it works\nExample AB")
            ),
            "",
        );
        assert_eq!(
            company(
                "i@gmail.com",
                Some("Ingrid"),
                None,
                Some("Ingrid\nStockholm, SE")
            ),
            ""
        );
        // Only the last lines are a signature.
        let early = format!("Ingrid Berg\nFjordkraft AS\n{}", "Mer tekst.\n".repeat(10));
        assert_eq!(
            company("i@gmail.com", Some("Ingrid Berg"), None, Some(&early)),
            ""
        );
    }

    #[test]
    fn the_domain_last_and_never_a_free_mail_one() {
        assert_eq!(
            company("ingrid@fjordkraft.no", None, None, None),
            "Fjordkraft"
        );
        assert_eq!(
            company("james@thamesbuild.co.uk", None, None, None),
            "Thamesbuild"
        );
        assert_eq!(company("ola@gmail.com", None, None, None), "");
        assert_eq!(company("ola@hotmail.co.uk", None, None, None), "");
        assert_eq!(company("no address", None, None, None), "");
        // A free-mail domain's name written out in a signature is no company either.
        assert_eq!(
            company("ola@gmail.com", Some("Ola"), None, Some("Ola\nGmail")),
            ""
        );
    }

    #[test]
    fn the_order_of_the_sources() {
        let overrides = [("fjordkraft.no".to_string(), "Override AS".to_string())];
        let name = Some("Ingrid Berg | Name AS");
        let header = Some("Header AS");
        let text = Some("Ingrid Berg\nSignature AS");
        let address = "ingrid@fjordkraft.no";
        assert_eq!(
            company_name(address, name, header, text, &overrides),
            "Override AS"
        );
        assert_eq!(company_name(address, name, header, text, &[]), "Header AS");
        assert_eq!(company_name(address, name, None, text, &[]), "Name AS");
        assert_eq!(
            company_name(address, Some("Ingrid Berg"), None, text, &[]),
            "Signature AS"
        );
        assert_eq!(
            company_name(address, Some("Ingrid Berg"), None, None, &[]),
            "Fjordkraft"
        );
    }

    #[test]
    fn folding_writes_names_the_way_domains_do() {
        assert_eq!(fold("Tromsø Sjømat"), "tromsosjomat");
        assert_eq!(
            fold("Bergbau-Gesellschaft Müller"),
            "bergbaugesellschaftmuller"
        );
        assert_eq!(fold("Blåbær Æble"), "blabaeraeble");
    }
}
