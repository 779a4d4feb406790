//! A hostile-mail corpus: what a stranger can put in the seller's INBOX (SPEC 13). Each
//! message is built here as bytes, with a name and what it tests; the big ones (a 10 MB body,
//! 500-deep nesting, 35,000 References, multi-MB headers) are generated, never stored.
//!
//! Most messages answer the *target* conversation (the seller's opener to a second prospect),
//! so that nudge fetches their text and runs them through every rule. The few that name the
//! *watched* conversation (a forged seller touch, a spoofed Message-ID) come last: a scenario
//! that puts the real reply of the watched conversation in the middle of the corpus has them
//! after it, where reading one wrongly would undo the reply.

/// One hostile message.
pub struct Hostile {
    /// Short and unique, like `nonstandard-bounce-byte-slice`.
    pub name: String,
    /// What it tests.
    pub tests: &'static str,
    /// The message as delivered.
    pub raw: Vec<u8>,
    /// It names the watched conversation (it is one of the last of the corpus).
    pub names_watched: bool,
}

/// Who and what the corpus aims at.
pub struct Scene<'a> {
    /// The seller's address, forged in From lines.
    pub seller: &'a str,
    /// The Message-ID (without brackets) of the seller's opener the stranger answers.
    pub target_id: &'a str,
    /// The prospect of that opener.
    pub target_prospect: &'a str,
    /// The Message-ID of the seller's opener in the conversation a scenario watches.
    pub watched_id: &'a str,
    /// The Message-ID of an opener that only forged seller mail names: its conversation
    /// goes on as if nothing came, and its draft owes nothing to the forgery.
    pub quiet_id: &'a str,
    /// An RFC 2822 date for the messages whose Date is not what they test.
    pub date: &'a str,
}

/// Bidi, isolate, zero-width and control characters a stranger may hide text with.
pub const HIDDEN: &str = "\u{202E}\u{2066}\u{200B}\u{200F}\u{FEFF}";

/// The line that once panicked a byte-sliced bounce reader: multi-byte letters around the
/// widths a reader cuts at.
const BYTE_SLICE_LINE: &str = "0123456789æøå … ÆØÅ ü — 0123456789ååååååååååå …";

const STRANGER: &str = "Ukjent Avsender <ukjent@stranger.example>";

/// The corpus: at least 40 messages, every one different.
pub fn corpus(scene: &Scene) -> Vec<Hostile> {
    let mut out = Vec::new();
    let mut add = |name: &str, tests: &'static str, raw: Vec<u8>| {
        out.push(Hostile {
            name: name.to_string(),
            tests,
            raw,
            names_watched: false,
        })
    };
    let target = scene.target_id;
    let reply_to_target = format!("In-Reply-To: <{target}>\r\nReferences: <{target}>\r\n");

    // (1) Non-standard bounces whose text once panicked a byte-slicing reader.
    add(
        "nonstandard-bounce-byte-slice",
        "a bounce from MAILER-DAEMON without a report, the returned id in the text, a line of multi-byte letters",
        plain(
            "Mail Delivery System <MAILER-DAEMON@mx.stranger.example>",
            scene.seller,
            "Undelivered Mail Returned to Sender",
            "bounce.1@mx.stranger.example",
            scene.date,
            "",
            &format!(
                "{BYTE_SLICE_LINE}\r\n{}\r\n\r\n<{}>: host said: 550 {BYTE_SLICE_LINE}\r\n\r\n--- original ---\r\nMessage-ID: <{target}>\r\nSubject: {BYTE_SLICE_LINE}\r\n",
                "æ".repeat(600),
                scene.target_prospect,
            ),
        ),
    );
    add(
        "failure-subject-bounce-byte-slice",
        "a failure subject from an ordinary address, multi-byte letters at every offset",
        plain(
            "Postkontoret <noreply-post@stranger.example>",
            scene.seller,
            "Delivery Status Notification (Failure) æøå",
            "bounce.2@stranger.example",
            scene.date,
            &reply_to_target,
            &(0..40)
                .map(|n| format!("{}{BYTE_SLICE_LINE}\r\n", "x".repeat(n)))
                .collect::<String>(),
        ),
    );

    // (2) Tens of thousands of thread ids.
    let many_ids = |n: usize| -> String {
        (0..n)
            .map(|i| format!("<m{i}.list@lists.stranger.example>"))
            .collect::<Vec<_>>()
            .join("\r\n ")
    };
    add(
        "references-35000",
        "a reply whose References hold 35,000 ids (beyond SQLite's bound variables)",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "refs.35000@stranger.example",
            scene.date,
            &format!(
                "In-Reply-To: <{target}>\r\nReferences: <{target}>\r\n {}\r\n",
                many_ids(35_000)
            ),
            "Takk for tilbudet.",
        ),
    );
    add(
        "in-reply-to-35000",
        "a reply whose In-Reply-To holds 35,000 ids",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "irt.35000@stranger.example",
            scene.date,
            &format!("In-Reply-To: <{target}>\r\n {}\r\n", many_ids(35_000)),
            "Takk for tilbudet.",
        ),
    );

    // (3) Multi-MB headers.
    add(
        "header-3mb-received",
        "a 3 MB header section of Received lines (a relay loop)",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "header.3mb@stranger.example",
            scene.date,
            &format!(
                "{reply_to_target}{}",
                "Received: from relay.stranger.example (relay.stranger.example [192.0.2.1]) by mx.stranger.example with ESMTP id 0123456789ABCDEF; Tue, 1 Dec 2026 10:00:00 +0100\r\n"
                    .repeat(3 * 1024 * 1024 / 150)
            ),
            "Se under.",
        ),
    );
    add(
        "header-100k-lines",
        "100,000 header lines before the fields nudge reads",
        {
            let mut head = String::new();
            for n in 0..100_000 {
                head.push_str(&format!("X-Trace-{n}: {n}\r\n"));
            }
            plain(
                STRANGER,
                scene.seller,
                "Re: Tilbud",
                "header.100k@stranger.example",
                scene.date,
                &format!("{head}{reply_to_target}"),
                "Hei.",
            )
        },
    );
    add(
        "subject-2mb-one-line",
        "a 2 MB Subject on one line, beyond the bounded header fetch",
        plain(
            STRANGER,
            scene.seller,
            &format!("Re: Tilbud {}", "æ ".repeat(1024 * 1024)),
            "subject.2mb@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei.",
        ),
    );
    add(
        "header-line-5000-unfolded",
        "header lines over 998 characters, never folded",
        plain(
            &format!("{} <long@stranger.example>", "N".repeat(5000)),
            scene.seller,
            &format!("Re: Tilbud {}", "x".repeat(5000)),
            "long.header@stranger.example",
            scene.date,
            &format!("{reply_to_target}X-Long: {}\r\n", "y".repeat(20_000)),
            "Hei.",
        ),
    );
    add(
        "subject-15000-reply-prefixes",
        "a subject of 15,000 reply prefixes (stripped one by one by a naive reader)",
        plain(
            STRANGER,
            scene.seller,
            &format!("{}Tilbud", "Re: SV: AW: ".repeat(5000)),
            "prefixes@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei.",
        ),
    );
    add(
        "subject-10000-encoded-words",
        "a subject of 10,000 RFC 2047 encoded words",
        plain(
            STRANGER,
            scene.seller,
            &"=?UTF-8?B?w6bDuMOl?= ".repeat(10_000),
            "encoded.words@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei.",
        ),
    );

    // (12) Bidi and format characters.
    add(
        "bidi-from-subject-body",
        "U+202E and other hidden characters in the From name, the subject and the text",
        plain(
            &format!("\"Per{HIDDEN} Olsen\" <{}>", scene.target_prospect),
            scene.seller,
            &format!("Re: Faktura {HIDDEN}fdp.exe"),
            "bidi.1@havbruk.example",
            scene.date,
            &reply_to_target,
            &format!("Hei{HIDDEN}! Se vedlagt faktura \u{202E}fdp.exe\r\n\u{202E}"),
        ),
    );
    add(
        "bidi-encoded-words",
        "U+202E and terminal escapes hidden in RFC 2047 encoded words",
        plain(
            "=?UTF-8?Q?Per_=E2=80=AEnesloO?= <per.olsen@stranger.example>",
            scene.seller,
            "=?UTF-8?Q?Re:_Tilbud_=E2=80=AEfdp.exe_=1B[31mRED=1B[0m_=07=08=00?=",
            "bidi.2@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei.",
        ),
    );
    add(
        "control-characters-raw",
        "raw ESC, BEL, backspace and DEL in header values and the text",
        plain(
            "Per \u{1b}[2J\u{7}Olsen <per.olsen@stranger.example>",
            scene.seller,
            "Re: Tilbud \u{1b}]0;pwned\u{7}\u{8}\u{8}\u{7f}",
            "control@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei \u{1b}[31mrød\u{1b}[0m tekst\u{7}\u{8}.",
        ),
    );

    // Line endings, missing and long things.
    add(
        "bare-lf",
        "every line ended by a bare LF",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "bare.lf@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei,\r\n\r\ntakk.\r\n",
        )
        .into_iter()
        .filter(|&b| b != b'\r')
        .collect(),
    );
    add(
        "bare-cr",
        "every line ended by a bare CR",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "bare.cr@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei,\r\n\r\ntakk.\r\n",
        )
        .into_iter()
        .filter(|&b| b != b'\n')
        .collect(),
    );
    add(
        "mixed-line-endings",
        "CRLF, LF, CR and LFCR mixed, a CR inside a header value",
        format!(
            "From: {STRANGER}\r\nTo: {}\nSubject: Re: Tilbud\rX-Odd: a\rb\n\rMessage-ID: <mixed@stranger.example>\r\nDate: {}\n{reply_to_target}\n\rHei\r\rtakk\n\r",
            scene.seller, scene.date
        )
        .into_bytes(),
    );
    add(
        "no-headers-at-all",
        "a text with no header section at all",
        b"\r\nHei Kari, takk for tilbudet.\r\n".to_vec(),
    );
    add(
        "headers-only-no-separator",
        "headers and no blank line, no body",
        format!(
            "From: {STRANGER}\r\nSubject: Re: Tilbud\r\n{reply_to_target}Message-ID: <nosep@stranger.example>"
        )
        .into_bytes(),
    );
    add("one-byte", "a message of one byte", b"x".to_vec());
    add(
        "missing-from-date-id",
        "a reply without From, Date or Message-ID",
        format!(
            "To: {}\r\nSubject: Re: Tilbud\r\n{reply_to_target}\r\nHei.\r\n",
            scene.seller
        )
        .into_bytes(),
    );
    add(
        "opt-out-without-from",
        "an opt-out with no sender to suppress",
        format!(
            "To: {}\r\nSubject: Re: Tilbud\r\nFrom: <>\r\nMessage-ID: <optout.nofrom@stranger.example>\r\n{reply_to_target}\r\nIkke kontakt meg igjen. Please remove me from your list.\r\n",
            scene.seller
        )
        .into_bytes(),
    );
    add(
        "body-line-100k",
        "a text line of 100,000 characters, multi-byte letters across every boundary",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "long.body@stranger.example",
            scene.date,
            &reply_to_target,
            &"æø0123456å".repeat(10_000),
        ),
    );
    add(
        "body-10mb",
        "a 10 MB text body",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "body.10mb@stranger.example",
            scene.date,
            &reply_to_target,
            &"Dette er en lang tekst med æøå og mange linjer, gjentatt om og om igjen.\r\n"
                .repeat(10 * 1024 * 1024 / 74),
        ),
    );

    // NUL bytes, invalid UTF-8 and charsets.
    add(
        "nul-bytes",
        "NUL bytes in header values and the text",
        bytes(&[
            format!("From: Per\0Olsen <per.olsen@stranger.example>\r\nTo: {}\r\nSubject: Re: Tilbud\0\0hidden\r\nMessage-ID: <nul@stranger.example>\r\nDate: {}\r\n{reply_to_target}\r\n", scene.seller, scene.date).as_bytes(),
            b"Hei\0\0\0 takk\r\n\0",
        ]),
    );
    add(
        "invalid-utf8-headers",
        "bytes that are not UTF-8 in the From name and subject",
        bytes(&[
            b"From: Per \xff\xfe\xc3 Olsen <per.olsen@stranger.example>\r\n",
            format!("To: {}\r\n", scene.seller).as_bytes(),
            b"Subject: Re: Tilbud \xc3\x28 \xe2\x82 \xf0\x9f\x92\r\n",
            format!(
                "Message-ID: <badutf8.1@stranger.example>\r\nDate: {}\r\n{reply_to_target}\r\n",
                scene.date
            )
            .as_bytes(),
            b"Hei.\r\n",
        ]),
    );
    add(
        "invalid-utf8-body-declared-utf8",
        "a text declared UTF-8 that is not, cut in the middle of a letter",
        bytes(&[
            Head {
                from: STRANGER,
                to: scene.seller,
                subject: "Re: Tilbud",
                id: "badutf8.2@stranger.example",
                date: scene.date,
                extra: &reply_to_target,
            }
            .text("text/plain; charset=utf-8", "8bit")
            .as_bytes(),
            b"Hei \xe6\xf8\xe5 \xc3\r\n\xed\xa0\x80 surrogate \xf4\x90\x80\x80 beyond\r\n\xc3",
        ]),
    );
    add(
        "latin1-raw-headers-no-charset",
        "raw ISO-8859-1 bytes in headers and text, no charset anywhere",
        bytes(&[
            b"From: J\xf8rgen L\xe6rdal <jorgen@stranger.example>\r\n",
            format!("To: {}\r\n", scene.seller).as_bytes(),
            b"Subject: Re: Tilbud p\xe5 rammeavtale\r\n",
            format!(
                "Message-ID: <latin1@stranger.example>\r\nDate: {}\r\n{reply_to_target}\r\n",
                scene.date
            )
            .as_bytes(),
            b"Takk, vi h\xf8rer fra oss.\r\n",
        ]),
    );
    add(
        "broken-encoded-words",
        "RFC 2047 words that do not decode: bad base64, unterminated, unknown charset, nested",
        plain(
            "=?UTF-8?B?!!!not*base64?= =?utf-8?Q?unterminated <x@stranger.example>",
            scene.seller,
            "=?x-unknown?Q?Re:_Tilbud?= =?UTF-8?B?w6?= =?UTF-8?Q?=C3?= =?=?UTF-8?Q?a?=?= =?utf-7?Q?+AGEAYgBj-?= =?UTF-8*en?Q?lang?=",
            "encoded.broken@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei.",
        ),
    );
    add(
        "unknown-charset-body",
        "a text in charset x-unknown",
        with_type(
            scene,
            &reply_to_target,
            "text/plain; charset=x-unknown",
            "8bit",
            b"Hei \xe6\xf8\xe5 \x80\x81\x82\r\n",
            "charset.unknown",
        ),
    );
    add(
        "utf7-charset-body",
        "a text in UTF-7, partly invalid",
        with_type(
            scene,
            &reply_to_target,
            "text/plain; charset=utf-7",
            "7bit",
            b"Hei +AOYA+ADl- og +///+ ugyldig +\r\n",
            "charset.utf7",
        ),
    );
    add(
        "utf16-odd-bytes",
        "a text in UTF-16 with an odd number of bytes and a lone surrogate",
        with_type(
            scene,
            &reply_to_target,
            "text/plain; charset=utf-16",
            "binary",
            b"\xff\xfeH\x00e\x00\x00\xd8i",
            "charset.utf16",
        ),
    );
    add(
        "base64-not-decoding",
        "Content-Transfer-Encoding base64 over text that is not base64",
        with_type(
            scene,
            &reply_to_target,
            "text/plain; charset=utf-8",
            "base64",
            b"!!!***Hei, dette er ikke base64 ===\r\n@@@@\r\n",
            "base64.bad",
        ),
    );
    add(
        "quoted-printable-broken",
        "quoted-printable with bad escapes and a soft break at the end",
        with_type(
            scene,
            &reply_to_target,
            "text/plain; charset=utf-8",
            "quoted-printable",
            b"Hei =ZZ =C3=\r\n=E2=80=AE =\r\n=",
            "qp.bad",
        ),
    );

    // MIME structure.
    add(
        "multipart-no-boundary",
        "a multipart without a boundary parameter",
        with_type(
            scene,
            &reply_to_target,
            "multipart/mixed",
            "7bit",
            b"--x\r\nContent-Type: text/plain\r\n\r\nHei.\r\n--x--\r\n",
            "mime.noboundary",
        ),
    );
    add(
        "multipart-boundary-never-closed",
        "a multipart whose boundary is opened and never closed",
        with_type(scene, &reply_to_target, "multipart/alternative; boundary=\"open\"", "7bit", b"--open\r\nContent-Type: text/plain\r\n\r\nHei.\r\n--open\r\nContent-Type: text/html\r\n\r\n<p>Hei", "mime.unclosed"),
    );
    add(
        "multipart-empty-and-huge-boundary",
        "an empty boundary, and a boundary of 100,000 characters",
        with_type(
            scene,
            &reply_to_target,
            &format!(
                "multipart/mixed; boundary=\"\"; boundary=\"{}\"",
                "b".repeat(100_000)
            ),
            "7bit",
            format!(
                "--\r\n\r\nHei.\r\n--{}\r\nContent-Type: text/plain\r\n\r\nTekst\r\n",
                "b".repeat(100_000)
            )
            .as_bytes(),
            "mime.boundaries",
        ),
    );
    add(
        "multipart-nested-500",
        "multipart parts nested 500 deep",
        with_type(
            scene,
            &reply_to_target,
            "multipart/mixed; boundary=\"b0\"",
            "7bit",
            nested_multipart(500).as_bytes(),
            "mime.nested500",
        ),
    );
    add(
        "rfc822-nested-500",
        "message/rfc822 parts nested 500 deep, the innermost a bounce of the target",
        with_type(
            scene,
            &reply_to_target,
            "message/rfc822",
            "7bit",
            nested_rfc822(500, scene).as_bytes(),
            "mime.rfc822nested",
        ),
    );
    add(
        "attachment-only",
        "a multipart with only a PDF attachment and no text",
        with_type(
            scene,
            &reply_to_target,
            "multipart/mixed; boundary=\"att\"",
            "7bit",
            b"--att\r\nContent-Type: application/pdf; name=\"tilbud.pdf\"\r\nContent-Disposition: attachment; filename=\"tilbud.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\r\n--att--\r\n",
            "attachment.only",
        ),
    );
    add(
        "content-type-10000-parameters",
        "a Content-Type with 10,000 parameters",
        with_type(
            scene,
            &reply_to_target,
            &format!(
                "text/plain; charset=utf-8{}",
                (0..10_000)
                    .map(|n| format!(";\r\n p{n}=\"v{n}\""))
                    .collect::<String>()
            ),
            "8bit",
            "Hei æøå.\r\n".as_bytes(),
            "ct.params",
        ),
    );
    add(
        "html-only-nested-tags",
        "an HTML-only text of 50,000 nested tags and a script",
        with_type(
            scene,
            &reply_to_target,
            "text/html; charset=utf-8",
            "8bit",
            format!(
                "<html><script>alert(1)</script>{}Hei{}</html>",
                "<div><blockquote x=\"".repeat(25_000),
                "\"></blockquote></div>".repeat(10)
            )
            .as_bytes(),
            "html.nested",
        ),
    );

    // Reports and automatic mail.
    add(
        "dsn-malformed-delivery-status",
        "a multipart/report whose message/delivery-status part is garbage",
        with_type(
            scene,
            &reply_to_target,
            "multipart/report; report-type=delivery-status; boundary=\"r\"",
            "7bit",
            format!(
                "--r\r\nContent-Type: text/plain\r\n\r\n{BYTE_SLICE_LINE}\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA dns;\r\nAction: failed\r\nFinal-Recipient: ;;;;\r\nStatus: 9.9.9.9.9\r\nFinal-Recipient: rfc822;\r\nAction:\r\nAction: failed\r\nFinal-Recipient: rfc822; {}æøå\r\n--r\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <{target}>\r\n--r--\r\n",
                "x".repeat(3000)
            )
            .as_bytes(),
            "dsn.malformed",
        ),
    );
    add(
        "dsn-report-without-parts",
        "a multipart/report that announces a delivery-status and holds nothing",
        Head {
            from: "MAILER-DAEMON",
            to: scene.seller,
            subject: "failure notice",
            id: "dsn.empty@stranger.example",
            date: scene.date,
            extra: &reply_to_target,
        }
        .message(
            "multipart/report; report-type=delivery-status; boundary=\"q\"",
            "7bit",
            b"--q--\r\n",
        ),
    );
    add(
        "auto-reply-loop",
        "an auto-reply to an auto-reply to …, 40 prefixes, naming itself",
        plain(
            STRANGER,
            scene.seller,
            &format!("{}Tilbud", "Automatic reply: Re: Auto: ".repeat(40)),
            "loop.40@stranger.example",
            scene.date,
            &format!(
                "Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\nPrecedence: auto_reply\r\nIn-Reply-To: <loop.40@stranger.example>\r\nReferences: <{target}> {}<loop.40@stranger.example>\r\n",
                (0..40).map(|n| format!("<loop.{n}@stranger.example> ")).collect::<String>()
            ),
            "Jeg er borte til 31. desember 9999 og tilbake 0. januar 0000. I'm back on 32 December.",
        ),
    );
    add(
        "ooo-return-date-absurd",
        "an out-of-office whose return date is absurd or gigantic",
        plain(
            STRANGER,
            scene.seller,
            "Out of Office: Re: Tilbud",
            "ooo.absurd@stranger.example",
            scene.date,
            &format!("Auto-Submitted: auto-replied\r\n{reply_to_target}"),
            "Back on 99999999999999999999 December. Tilbake 31.02.2026. Zurück am 00.00.0000. åter 3 december 292277026596.",
        ),
    );

    // Dates.
    for (name, tests, date) in [
        (
            "date-unparseable",
            "a Date that does not parse",
            "yesterday at noon, probably",
        ),
        (
            "date-far-future",
            "a Date in the far future",
            "Fri, 31 Dec 2099 23:59:59 +0000",
        ),
        (
            "date-year-9999",
            "a Date in year 9999",
            "Fri, 31 Dec 9999 23:59:59 -1200",
        ),
        (
            "date-year-1",
            "a Date in year 1",
            "Mon, 1 Jan 0001 00:00:00 +1400",
        ),
        (
            "date-overflow",
            "a Date whose every field overflows",
            "Thu, 32 Feb 99999999999 25:61:61 +9999",
        ),
    ] {
        add(
            name,
            tests,
            plain(
                STRANGER,
                scene.seller,
                "Re: Tilbud",
                &format!("{name}@stranger.example"),
                date,
                &reply_to_target,
                "Hei.",
            ),
        );
    }

    // Header injection.
    add(
        "header-injection-encoded-crlf",
        "encoded CR LF in the subject and name trying to add Bcc and To lines",
        plain(
            "=?UTF-8?Q?Per=0D=0ABcc:_victim@evil.example=0D=0A?= <per.olsen@stranger.example>",
            scene.seller,
            "=?UTF-8?Q?Re:_Tilbud=0D=0ABcc:_victim@evil.example=0D=0ATo:_all@evil.example?=",
            "inject.1@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei.\r\n.\r\nMAIL FROM:<evil@evil.example>\r\n",
        ),
    );
    add(
        "header-injection-folded-ids",
        "ids with spaces, CR, quotes and header names inside them",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "inject.2@stranger.example>\r\n\tBcc: <victim@evil.example",
            scene.date,
            &format!("In-Reply-To: <{target}>\r\nReferences: <{target}> <a\r\n Bcc: victim@evil.example> <\"quoted id\"@x> <>\r\n"),
            "Hei.",
        ),
    );
    add(
        "recipients-10000",
        "10,000 To addresses and a From of many addresses, group syntax and empty ones",
        plain(
            "undisclosed-recipients:;, <>, @, \"\" <@>, a@, Per <per.olsen@stranger.example>",
            &(0..10_000)
                .map(|n| format!("r{n}@stranger.example"))
                .collect::<Vec<_>>()
                .join(",\r\n "),
            "Re: Tilbud",
            "recipients@stranger.example",
            scene.date,
            &reply_to_target,
            "Hei.",
        ),
    );

    // Ids shared, spoofed and looped.
    for n in 0..8 {
        add(
            &format!("shared-message-id-{n}"),
            "one Message-ID on many messages",
            plain(
                STRANGER,
                scene.seller,
                "Re: Tilbud",
                "shared@stranger.example",
                scene.date,
                &reply_to_target,
                &format!("Kopi nummer {n}."),
            ),
        );
    }
    add(
        "references-loop",
        "two messages naming each other and themselves",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "loop.a@stranger.example",
            scene.date,
            &format!("In-Reply-To: <loop.b@stranger.example>\r\nReferences: <{target}> <loop.a@stranger.example> <loop.b@stranger.example> <loop.a@stranger.example>\r\n"),
            "A.",
        ),
    );
    add(
        "references-loop-other-half",
        "the other half of the loop",
        plain(
            STRANGER,
            scene.seller,
            "Re: Tilbud",
            "loop.b@stranger.example",
            scene.date,
            "In-Reply-To: <loop.a@stranger.example>\r\nReferences: <loop.b@stranger.example> <loop.a@stranger.example>\r\n",
            "B.",
        ),
    );
    add(
        "other-domain-reply",
        "a reply naming the seller's opener, from a domain no prospect has",
        plain(
            "Konkurrent <salg@konkurrent.example>",
            scene.seller,
            "Re: Tilbud",
            "other.domain@konkurrent.example",
            scene.date,
            &reply_to_target,
            "Vi tar over herfra. Send alt til oss.",
        ),
    );
    add(
        "spoofed-thread-target-id",
        "a stranger's message carrying the Message-ID of the seller's opener",
        plain(
            STRANGER,
            scene.seller,
            "Tilbud",
            target,
            scene.date,
            "",
            "Denne meldingen later som den er selgerens.",
        ),
    );
    add(
        "forged-seller-from-quiet",
        "a stranger's message with the seller's address in From, in INBOX, to a stranger",
        plain(
            &format!("Kari Nordmann <{}>", scene.seller),
            "Ny Kontakt <evil@evil.example>",
            "Re: Demo",
            "forged.1@stranger.example",
            scene.date,
            &format!(
                "Reply-To: evil@evil.example\r\nCc: evil@evil.example\r\nIn-Reply-To: <{}>\r\nReferences: <{}>\r\n",
                scene.quiet_id, scene.quiet_id
            ),
            "Glem tilbudet, skriv til evil@evil.example.",
        ),
    );

    // Last: the ones naming the watched conversation.
    let watched = scene.watched_id;
    let watched_reply = format!("In-Reply-To: <{watched}>\r\nReferences: <{watched}>\r\n");
    let mut last = |name: &str, tests: &'static str, raw: Vec<u8>| {
        out.push(Hostile {
            name: name.to_string(),
            tests,
            raw,
            names_watched: true,
        })
    };
    last(
        "forged-seller-touch-watched",
        "a stranger's message claiming the seller's address, in the watched thread: no touch",
        plain(
            &format!("Kari Nordmann <{}>", scene.seller),
            "Ingrid Berg <ingrid.berg@fjordkraft.no>",
            "Re: Tilbud på rammeavtale",
            "forged.2@stranger.example",
            scene.date,
            &watched_reply,
            "Hei igjen Ingrid, har du sett på tilbudet?",
        ),
    );
    last(
        "forged-seller-alias-watched",
        "the same with the seller's alias and a bidi override in the name",
        plain(
            "\"Kari\u{202E} Nordmann\" <kari.nordmann@fjordsalg.no>",
            "ingrid.berg@fjordkraft.no",
            "Re: Tilbud på rammeavtale",
            "forged.3@stranger.example",
            scene.date,
            &watched_reply,
            "Hei igjen.",
        ),
    );
    last(
        "spoofed-thread-watched-id",
        "a stranger's message carrying the Message-ID of the watched opener",
        plain(
            STRANGER,
            scene.seller,
            "Tilbud på rammeavtale",
            watched,
            scene.date,
            "",
            "Jeg er selgerens melding.",
        ),
    );
    out
}

/// A plain-text message; `extra` holds more header lines, each ended by CRLF.
fn plain(
    from: &str,
    to: &str,
    subject: &str,
    id: &str,
    date: &str,
    extra: &str,
    body: &str,
) -> Vec<u8> {
    Head {
        from,
        to,
        subject,
        id,
        date,
        extra,
    }
    .message("text/plain; charset=utf-8", "8bit", body.as_bytes())
}

/// The header fields of a corpus message (some of them hold what it tests).
struct Head<'a> {
    from: &'a str,
    to: &'a str,
    subject: &'a str,
    id: &'a str,
    date: &'a str,
    /// More header lines, each ended by CRLF.
    extra: &'a str,
}

impl Head<'_> {
    /// The header section, with this content type and transfer encoding.
    fn text(&self, content_type: &str, encoding: &str) -> String {
        let Head {
            from,
            to,
            subject,
            id,
            date,
            extra,
        } = self;
        format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: {date}\r\nMIME-Version: 1.0\r\n{extra}Content-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
        )
    }

    /// The whole message, with this content type, transfer encoding and body.
    fn message(&self, content_type: &str, encoding: &str, body: &[u8]) -> Vec<u8> {
        bytes(&[self.text(content_type, encoding).as_bytes(), body, b"\r\n"])
    }
}

/// A stranger's answer to the target with this content type and body.
fn with_type(
    scene: &Scene,
    extra: &str,
    content_type: &str,
    encoding: &str,
    body: &[u8],
    id: &str,
) -> Vec<u8> {
    Head {
        from: STRANGER,
        to: scene.seller,
        subject: "Re: Tilbud",
        id: &format!("{id}@stranger.example"),
        date: scene.date,
        extra,
    }
    .message(content_type, encoding, body)
}

fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The body of a `multipart/mixed; boundary="b0"` nesting `depth` multiparts, text inside.
fn nested_multipart(depth: usize) -> String {
    let mut out = String::new();
    for n in 0..depth {
        out.push_str(&format!(
            "--b{n}\r\nContent-Type: multipart/mixed; boundary=\"b{}\"\r\n\r\n",
            n + 1
        ));
    }
    out.push_str(&format!(
        "--b{depth}\r\nContent-Type: text/plain\r\n\r\nInnerst.\r\n--b{depth}--\r\n"
    ));
    for n in (0..depth).rev() {
        out.push_str(&format!("--b{n}--\r\n"));
    }
    out
}

/// The body of a message/rfc822 nesting `depth` messages, the innermost a bounce of the
/// target.
fn nested_rfc822(depth: usize, scene: &Scene) -> String {
    let mut out = String::new();
    for n in 0..depth {
        out.push_str(&format!(
            "Subject: {n}\r\nMessage-ID: <nest.{n}@stranger.example>\r\nContent-Type: message/rfc822\r\n\r\n"
        ));
    }
    out.push_str(&format!(
        "From: MAILER-DAEMON\r\nSubject: Undeliverable\r\nMessage-ID: <{}>\r\n\r\nfailed.\r\n",
        scene.target_id
    ));
    out
}
