//! Separating what someone newly wrote from what they quoted. Opt-out phrases and
//! out-of-office dates are looked for only in the new text, so a reply that merely quotes
//! "unsubscribe" or an auto-reply is still a human reply.

/// The new text of a message body: everything before the first quote, attribution line,
/// forwarded/original-message block or signature separator, without `>` lines.
pub fn new_text(body: &str) -> String {
    let lines: Vec<&str> = body.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut end = lines.len();
    for index in 0..lines.len() {
        if starts_quote(&lines, index) {
            end = index;
            break;
        }
    }
    lines[..end]
        .iter()
        .filter(|l| !l.trim_start().starts_with('>'))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// True when line `index` begins quoted or trailing material.
fn starts_quote(lines: &[&str], index: usize) -> bool {
    let line = lines[index].trim();
    if line == "--" || lines[index] == "-- " {
        return true; // signature separator
    }
    let lower = line.to_lowercase();
    const SEPARATORS: [&str; 11] = [
        "-----original message-----",
        "-----alkuperäinen viesti-----",
        "-----opprinnelig melding-----",
        "-----ursprungligt meddelande-----",
        "-----oprindelig meddelelse-----",
        "-----ursprüngliche nachricht-----",
        "-----message d'origine-----",
        "---------- forwarded message",
        "---------- videresendt melding",
        "---------- vidarebefordrat meddelande",
        "---------- weitergeleitete nachricht",
    ];
    if SEPARATORS.iter().any(|s| lower.starts_with(s)) {
        return true;
    }
    // Outlook's bar above the quoted header block.
    if line.len() >= 20 && line.chars().all(|c| c == '_') {
        return true;
    }
    if is_outlook_header_block(lines, index) {
        return true;
    }
    is_attribution(lines, index)
}

/// "From: … / Sent: …" (and localized) header blocks that Outlook puts above the quote.
fn is_outlook_header_block(lines: &[&str], index: usize) -> bool {
    const FROM: [&str; 8] = [
        "from:",
        "fra:",
        "från:",
        "von:",
        "de :",
        "de:",
        "van:",
        "lähettäjä:",
    ];
    const SENT: [&str; 13] = [
        "sent:",
        "sendt:",
        "skickat:",
        "gesendet:",
        "envoyé :",
        "envoyé:",
        "date:",
        "dato:",
        "datum:",
        "verzonden:",
        "lähetetty:",
        "to:",
        "til:",
    ];
    let lower = lines[index].trim().to_lowercase();
    let lower = lower.trim_start_matches('*');
    if !FROM.iter().any(|f| lower.starts_with(f)) {
        return false;
    }
    lines[index + 1..]
        .iter()
        .take(3)
        .map(|l| l.trim().trim_start_matches('*').to_lowercase())
        .any(|l| SENT.iter().any(|s| l.starts_with(s)))
}

/// "On … wrote:", "Den … skrev:", "Am … schrieb …:", possibly wrapped over up to 3 lines.
fn is_attribution(lines: &[&str], index: usize) -> bool {
    const ENDINGS: [&str; 9] = [
        "wrote:",
        "skrev:",
        "schrieb:",
        "a écrit :",
        "a écrit:",
        "escribió:",
        "kirjoitti:",
        "schreef:",
        "scrisse:",
    ];
    let first = lines[index].trim();
    if first.is_empty() {
        return false;
    }
    let starter = {
        let lower = first.to_lowercase();
        lower.chars().any(|c| c.is_ascii_digit())
            || ["on ", "den ", "am ", "le ", "el ", "il ", "op "]
                .iter()
                .any(|s| lower.starts_with(s))
    };
    let mut joined = String::new();
    for (taken, line) in lines[index..].iter().take(3).enumerate() {
        // A wrapped attribution has no blank line inside and starts like one.
        if taken > 0 && (line.trim().is_empty() || !starter) {
            break;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(line.trim());
        let lower = joined.to_lowercase();
        let ends = ENDINGS.iter().any(|e| lower.ends_with(e))
            || (lower.ends_with(':') && lower.contains(" skrev "))
            || (lower.ends_with(':') && lower.contains(" schrieb "))
            || (lower.ends_with(':') && lower.contains(" wrote "));
        if ends {
            // An attribution names a date or an address; a sentence ending in "wrote:" rarely does.
            return lower.contains('@') || lower.chars().any(|c| c.is_ascii_digit());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_gmail_attribution_wrapped_over_two_lines() {
        let body = "Thanks, Thursday works.\n\nOn Tue, 10 Nov 2026 at 10:15, Kari Nordmann <\nkari@fjordsalg.no> wrote:\n> Please unsubscribe me\n";
        assert_eq!(new_text(body), "Thanks, Thursday works.");
    }

    #[test]
    fn strips_scandinavian_and_german_attributions() {
        for attribution in [
            "tir. 10. nov. 2026 kl. 10:15 skrev Kari Nordmann <kari@fjordsalg.no>:",
            "Den tis 10 nov. 2026 kl 10:15 skrev Kari Nordmann <kari@fjordsalg.no>:",
            "Den tir. 10. nov. 2026 kl. 10.15 skrev Kari Nordmann <kari@fjordsalg.no>:",
            "Am Di., 10. Nov. 2026 um 10:15 Uhr schrieb Kari Nordmann <kari@fjordsalg.no>:",
            "On 10 Nov 2026, at 10:15, Kari Nordmann <kari@fjordsalg.no> wrote:",
            // nudge's own Finnish and German attributions, and Gmail's Finnish one.
            "ti 10.11.2026 klo 10.15 Kari Nordmann <kari@fjordsalg.no> kirjoitti:",
            "Am 10.11.2026 um 10:15 schrieb Kari Nordmann <kari@fjordsalg.no>:",
            "ti 10.11.2026 klo 10.15 Kari Nordmann (kari@fjordsalg.no) kirjoitti:",
        ] {
            let body = format!("Hei!\nHøres bra ut.\n\n{attribution}\n\nSluta maila mig\n");
            assert_eq!(new_text(&body), "Hei!\nHøres bra ut.", "{attribution}");
        }
    }

    #[test]
    fn strips_outlook_header_blocks() {
        let body = "Ring meg gjerne.\r\n\r\nFra: Kari Nordmann <kari@fjordsalg.no>\r\nSendt: tirsdag 10. november 2026 10:15\r\nTil: Ingrid Berg\r\nEmne: Tilbud\r\n\r\nAvregistrer meg\r\n";
        assert_eq!(new_text(body), "Ring meg gjerne.");
        let body = "Sounds good.\n________________________________\nFrom: Kari\nSent: Tuesday\n";
        assert_eq!(new_text(body), "Sounds good.");
        let body = "Soitellaan.\r\n\r\nLähettäjä: Kari Nordmann <kari@fjordsalg.no>\r\nLähetetty: tiistai 10. marraskuuta 2026 10.15\r\nVastaanottaja: Mikko Virtanen\r\nAihe: Tarjous\r\n\r\nPoistakaa minut listalta\r\n";
        assert_eq!(new_text(body), "Soitellaan.");
        let body = "Kiitos.\n-----Alkuperäinen viesti-----\nPoista minut\n";
        assert_eq!(new_text(body), "Kiitos.");
    }

    #[test]
    fn drops_quoted_lines_and_signatures() {
        let body =
            "> earlier\nYes please.\n> more\nAnd Friday.\n-- \nIngrid\nTo unsubscribe click here\n";
        assert_eq!(new_text(body), "Yes please.\nAnd Friday.");
    }

    #[test]
    fn plain_text_is_kept() {
        assert_eq!(
            new_text("Please remove me from your list.\n"),
            "Please remove me from your list."
        );
        assert_eq!(new_text("I wrote: nothing else"), "I wrote: nothing else");
    }
}
