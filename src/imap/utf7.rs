//! IMAP's modified UTF-7 for folder names (RFC 3501 section 5.1.3): "Entw&APw-rfe" is
//! "Entwürfe". Pure code; a malformed name decodes to `None` and the caller keeps the raw name.

/// Decodes a folder name as the server sent it. `None` when it is not valid modified UTF-7.
pub fn decode(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('-')?;
        let encoded = &after[..end];
        if encoded.is_empty() {
            out.push('&');
        } else {
            out.push_str(&decode_utf16_base64(encoded)?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Encodes a folder name for the server (the inverse of [`decode`]).
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&encode_base64(&bytes));
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn decode_utf16_base64(encoded: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut bytes = Vec::new();
    for c in encoded.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rfc_examples_and_localized_names() {
        assert_eq!(decode("INBOX").as_deref(), Some("INBOX"));
        assert_eq!(decode("Entw&APw-rfe").as_deref(), Some("Entwürfe"));
        assert_eq!(
            decode("[Google Mail]/Entw&APw-rfe").as_deref(),
            Some("[Google Mail]/Entwürfe")
        );
        assert_eq!(decode("Skr&AOQ-ppost").as_deref(), Some("Skräppost"));
        assert_eq!(
            decode("Sendte elementer").as_deref(),
            Some("Sendte elementer")
        );
        assert_eq!(decode("Tom &- Jerry").as_deref(), Some("Tom & Jerry"));
        assert_eq!(
            decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").as_deref(),
            Some("~peter/mail/台北/日本語")
        );
        assert_eq!(decode("&2D3eAA-").as_deref(), Some("😀"));
    }

    #[test]
    fn malformed_names_are_refused_not_panicked_on() {
        for bad in ["&", "&APw", "&A!w-", "&AA-", "&2D0-"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn encode_roundtrips() {
        for name in [
            "Entwürfe",
            "Tom & Jerry",
            "台北/日本語",
            "Sendte elementer",
            "Éléments envoyés",
            "😀 x",
        ] {
            let encoded = encode(name);
            assert!(encoded.is_ascii());
            assert_eq!(decode(&encoded).as_deref(), Some(name), "{encoded}");
        }
        assert_eq!(encode("Entwürfe"), "Entw&APw-rfe");
    }
}
