//! Text from mail shown to the seller (logs, `status`, `show`, the summary) is written by
//! strangers. Control characters and Unicode format characters (category Cf: the bidi
//! overrides U+202E, marks U+200E/F, isolates U+2066–2069, zero-width characters, …) can hide
//! or reorder what is shown, so every place that shows such text passes it through
//! [`neutralise`], which writes them as visible `<U+XXXX>` escapes (SPEC 13).

use std::borrow::Cow;

/// True for a character of Unicode's Cf (format) category.
pub fn is_format(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// True for a character that [`neutralise`] escapes.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_format(c)
}

/// `text` with every control and format character written as `<U+XXXX>`; borrowed when
/// there is none.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hidden(c) {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_format_and_control_characters_are_escaped() {
        assert_eq!(
            neutralise("Faktura \u{202E}fdp.exe"),
            "Faktura <U+202E>fdp.exe"
        );
        assert_eq!(neutralise("a\u{200E}b\u{200F}c"), "a<U+200E>b<U+200F>c");
        assert_eq!(
            neutralise("\u{2066}\u{2067}\u{2068}\u{2069}"),
            "<U+2066><U+2067><U+2068><U+2069>"
        );
        assert_eq!(
            neutralise("zero\u{200B}width\u{FEFF}"),
            "zero<U+200B>width<U+FEFF>"
        );
        assert_eq!(neutralise("tag\u{E0041}"), "tag<U+E0041>");
        assert_eq!(
            neutralise("line\r\nbreak\x1b[31m\0"),
            "line<U+000D><U+000A>break<U+001B>[31m<U+0000>"
        );
        assert_eq!(neutralise("\u{85}"), "<U+0085>");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        let text = "SV: Tilbud på «fjordlaks» – 20 % 🐟 שלום";
        assert!(matches!(neutralise(text), Cow::Borrowed(t) if t == text));
    }
}
