//! README.md tells the truth about the command line and the config file.
//!
//! Every `nudge …` line in its shell blocks (```sh, ```console, plain ```) is given to the
//! binary with `--help` appended: clap rejects an unknown flag, a bad value or a surplus
//! argument before it gets to `--help`, so a renamed or removed flag fails here, and each
//! `--flag` of the line must appear in that help text. The lines that are safe to run are then
//! run for real, in README order, against a Dovecot on loopback with a tracked conversation.
//! Every `[section]` TOML block must load as configuration.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use chrono::Utc;
use nudge::config::Config;
use support::mailclient::Message;
use support::nudge::{nudge_command, seller_dovecot, smtp_section, Nudge, PASSWORD, SELLER};
use support::{SmtpSecurity, SmtpServer};

/// A README line, numbered as an editor shows it.
#[derive(Debug, Clone)]
struct Line {
    number: usize,
    text: String,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "README.md line {}: `{}`", self.number, self.text.trim())
    }
}

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A fenced block: its info string ("sh", "toml", "" …), and its lines.
struct Block {
    info: String,
    lines: Vec<Line>,
}

fn fenced_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match open.take() {
                Some(block) => blocks.push(block),
                None => {
                    open = Some(Block {
                        info: info.trim().to_ascii_lowercase(),
                        lines: Vec::new(),
                    })
                }
            }
            continue;
        }
        if let Some(block) = open.as_mut() {
            block.lines.push(Line {
                number: index + 1,
                text: raw.to_string(),
            });
        }
    }
    assert!(
        open.is_none(),
        "README.md has a code fence that is never closed"
    );
    blocks
}

/// Splits a shell line into words, respecting quotes and backslashes, dropping a `# comment`.
/// Unquoted `|`, `;`, `&&` and `||` end a command: the result is one word list per command.
fn shell_commands(line: &str) -> Result<Vec<Vec<String>>, String> {
    let mut commands = vec![Vec::new()];
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            '#' if !in_word => break,
            // Redirections (`2>&1`, `> file`) are not arguments: drop them and their target.
            '>' | '<' => {
                if in_word {
                    if !word.chars().all(|c| c.is_ascii_digit()) {
                        commands.last_mut().unwrap().push(word.clone());
                    }
                    word.clear();
                    in_word = false;
                }
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                if chars.peek() == Some(&'&') {
                    chars.next();
                }
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                while chars.peek().is_some_and(|c| !c.is_whitespace()) {
                    chars.next();
                }
            }
            '|' | ';' | '&' => {
                if in_word {
                    commands.last_mut().unwrap().push(std::mem::take(&mut word));
                    in_word = false;
                }
                if (c == '|' || c == '&') && chars.peek() == Some(&c) {
                    chars.next();
                } else if c == '&' {
                    return Err("a background `&` in a README command".into());
                }
                commands.push(Vec::new());
            }
            c if c.is_whitespace() => {
                if in_word {
                    commands.last_mut().unwrap().push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        commands.last_mut().unwrap().push(word);
    }
    commands.retain(|c| !c.is_empty());
    Ok(commands)
}

/// A `nudge …` command found in the README: environment assignments before it, and its
/// arguments (after `nudge`), still with placeholders and `[optional]` brackets.
#[derive(Debug, Clone)]
struct Shown {
    line: Line,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

fn is_env_assignment(word: &str) -> Option<(String, String)> {
    let (name, value) = word.split_once('=')?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    valid.then(|| (name.to_string(), value.to_string()))
}

/// Every `nudge …` command in the README's shell blocks. In ```console blocks only the
/// lines with a `$ ` prompt are commands (the rest is output).
fn shown_commands(text: &str) -> Result<Vec<Shown>, Vec<String>> {
    let mut shown = Vec::new();
    let mut errors = Vec::new();
    for block in fenced_blocks(text) {
        let console = block.info == "console";
        if !(console || matches!(block.info.as_str(), "" | "sh" | "bash" | "shell")) {
            continue;
        }
        for line in block.lines {
            let trimmed = line.text.trim();
            let command = match trimmed.strip_prefix("$ ") {
                Some(rest) => rest,
                None if console => continue,
                None => trimmed,
            };
            let commands = match shell_commands(command) {
                Ok(commands) => commands,
                Err(e) => {
                    if command.contains("nudge ") {
                        errors.push(format!("{line}: cannot be read as a shell line: {e}"));
                    }
                    continue;
                }
            };
            for words in commands {
                let mut env = Vec::new();
                let mut words = words.into_iter().peekable();
                while let Some(assignment) = words.peek().and_then(|w| is_env_assignment(w)) {
                    env.push(assignment);
                    words.next();
                }
                if words.next().as_deref() == Some("nudge") {
                    shown.push(Shown {
                        line: line.clone(),
                        env,
                        args: words.collect(),
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(shown)
    } else {
        Err(errors)
    }
}

/// The argument lists a command stands for: each `[optional part]` left out and put in.
fn expand_optional(args: &[String]) -> Result<Vec<Vec<String>>, String> {
    let mut variants: Vec<Vec<String>> = vec![Vec::new()];
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        if let Some(start) = arg.strip_prefix('[') {
            let mut group = Vec::new();
            let mut current = start.to_string();
            loop {
                if let Some(last) = current.strip_suffix(']') {
                    if !last.is_empty() {
                        group.push(last.to_string());
                    }
                    break;
                }
                group.push(current);
                index += 1;
                current = args
                    .get(index)
                    .ok_or("an optional `[` is never closed with `]`")?
                    .clone();
            }
            if group.is_empty() || group.iter().any(|g| g.contains(['[', ']', '|'])) {
                return Err(format!(
                    "the optional part [{}] is not one plain choice",
                    group.join(" ")
                ));
            }
            variants = variants
                .into_iter()
                .flat_map(|without| {
                    let mut with = without.clone();
                    with.extend(group.iter().cloned());
                    [without, with]
                })
                .collect();
        } else if arg.contains(['[', ']']) {
            return Err(format!("`{arg}`: brackets this test cannot read"));
        } else {
            for variant in &mut variants {
                variant.push(arg.clone());
            }
        }
        index += 1;
    }
    Ok(variants)
}

/// What the README's placeholders stand for in the test.
struct Placeholders {
    id: String,
    config: PathBuf,
    now: String,
}

impl Placeholders {
    fn value(&self, word: &str) -> Option<String> {
        Some(match word {
            "ID" => self.id.clone(),
            "UNTIL" => "2w".into(),
            "DATE" => "2027-01-11".into(),
            "ADDRESS-OR-DOMAIN" | "ADDRESS" | "DOMAIN" => "competitor.example".into(),
            "NAME" => "followup-1".into(),
            "L" | "LANG" => "nb".into(),
            "RFC3339" => self.now.clone(),
            "PATH" => self.config.display().to_string(),
            "FILE" => Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/mail/ooo-exchange-nb-return-date.eml")
                .display()
                .to_string(),
            _ => return None,
        })
    }

    /// Replaces every placeholder; an all-capitals word that is not a known one is an error,
    /// so a new placeholder cannot slip through as a literal value.
    fn substitute(&self, args: &[String]) -> Result<Vec<String>, String> {
        args.iter()
            .map(|arg| {
                if let Some(value) = self.value(arg) {
                    return Ok(value);
                }
                let looks_like_placeholder = arg.starts_with(|c: char| c.is_ascii_uppercase())
                    && arg
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "-_".contains(c));
                if looks_like_placeholder {
                    Err(format!("the placeholder {arg} is unknown to this test"))
                } else {
                    Ok(arg.clone())
                }
            })
            .collect()
    }
}

/// The subcommand of an argument list (skipping the global options), with what follows it.
fn subcommand(args: &[String]) -> Option<(&str, &[String])> {
    let mut index = 0;
    while index < args.len() {
        match args[index].as_str() {
            "--config" | "--account" => index += 2,
            a if a.starts_with("--config=") || a == "--verbose" || a == "-v" => index += 1,
            a if a.starts_with('-') => return None,
            a => return Some((a, &args[index + 1..])),
        }
    }
    None
}

/// The `--flags` of an argument list, without `=value`.
fn long_flags(args: &[String]) -> BTreeSet<String> {
    args.iter()
        .filter(|a| a.starts_with("--") && a.len() > 2)
        .map(|a| a.split('=').next().unwrap_or(a).to_string())
        .collect()
}

fn nudge(config: Option<&Path>, args: &[String]) -> Command {
    let mut command = nudge_command(config);
    command.args(args);
    command
}

/// Whether the line gives its own `--config`.
fn names_a_config(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "--config" || a.starts_with("--config="))
}

fn output_text(output: &Output) -> String {
    format!(
        "exit status {}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The world the README's commands run in: the seller's Dovecot with one conversation
/// tracked, an SMTP server for the summary, and a home directory of its own.
struct World {
    _dovecot: support::Dovecot,
    smtp: SmtpServer,
    nudge: Nudge,
    home: tempfile::TempDir,
    placeholders: Placeholders,
}

const SUBJECT: &str = "Tilbud på rammeavtale";

impl World {
    async fn new() -> World {
        let dovecot = seller_dovecot();
        let smtp = SmtpServer::start(SmtpSecurity::StartTls, SELLER, PASSWORD, dovecot.ca());
        let smtp_section = smtp_section(&dovecot, &smtp);
        let nudge = Nudge::new(&dovecot, &smtp_section);
        let mut client = support::mailclient::MailClient::connect(&dovecot, SELLER, PASSWORD).await;
        // Sent an hour ago: the real `nudge sync` (no --now) tracks it.
        let date = (Utc::now() - chrono::Duration::hours(1))
            .format("%a, %d %b %Y %H:%M:%S +0000")
            .to_string();
        let opener = Message {
            from: "Kari Nordmann <kari@fjordsalg.no>",
            to: "Ingrid Berg <ingrid.berg@fjordkraft.no>",
            subject: SUBJECT,
            message_id: "readme-opener@fjordsalg.no",
            in_reply_to: None,
            date: &date,
            body: "Hei Ingrid,\n\nHer er tilbudet på rammeavtalen vi snakket om, med priser for tre år.\n\nVennlig hilsen\nKari",
            extra: "",
        }
        .render();
        client.append("Sent", &opener, &["\\Seen"]).await;
        let output = nudge.run(&["sync"]);
        assert!(
            output.status.success(),
            "first sync: {}",
            output_text(&output)
        );
        let id = nudge
            .conversation(SUBJECT)
            .unwrap_or_else(|| panic!("the opener is tracked: {:?}", nudge.status()))["id"]
            .to_string();
        let placeholders = Placeholders {
            id,
            config: nudge.config.clone(),
            now: Utc::now().to_rfc3339(),
        };
        World {
            _dovecot: dovecot,
            smtp,
            nudge,
            home: tempfile::tempdir().expect("temp home"),
            placeholders,
        }
    }

    /// `nudge ARGS --help` as the README line has it: it must succeed, be the help of the
    /// command the line names, and show each of the line's flags.
    fn check_help(&self, shown: &Shown, args: &[String]) -> Result<(), String> {
        let config = (!names_a_config(args)).then_some(self.nudge.config.as_path());
        let help_args = match subcommand(args) {
            Some(_) => [args, &["--help".to_string()]].concat(),
            // `nudge --version` and the like: their flags are in the top-level help.
            None => vec!["--help".to_string()],
        };
        let output = nudge(config, &help_args)
            .envs(shown.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("nudge runs");
        let help = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            return Err(format!(
                "`nudge {}` is refused:\n{}",
                help_args.join(" "),
                output_text(&output)
            ));
        }
        if let Some((name, _)) = subcommand(args) {
            let usage = format!("Usage: nudge {name}");
            if !help.contains(&usage) {
                return Err(format!("the help does not say `{usage}`:\n{help}"));
            }
        }
        let missing: Vec<String> = long_flags(args)
            .into_iter()
            .filter(|flag| !help.contains(flag.as_str()))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{} not in `nudge {}`:\n{help}",
                missing.join(", "),
                help_args.join(" ")
            ));
        }
        Ok(())
    }

    /// Runs the command for real when that is safe; returns whether it ran.
    fn run_for_real(&self, shown: &Shown, args: &[String]) -> Result<bool, String> {
        let Some((name, rest)) = subcommand(args) else {
            let output = nudge(None, args).output().expect("nudge runs");
            check_success(&output)?;
            let said = String::from_utf8_lossy(&output.stdout);
            let version = concat!("nudge ", env!("CARGO_PKG_VERSION"));
            if args.iter().any(|a| a == "--version" || a == "-V") && !said.contains(version) {
                return Err(format!("it does not print \"{version}\": {said}"));
            }
            return Ok(true);
        };
        let has_config = names_a_config(args);
        let config = (!has_config).then_some(self.nudge.config.as_path());
        let run = |config: Option<&Path>, args: &[String], extra_env: &[(&str, &Path)]| {
            let mut command = nudge(config, args);
            command.envs(shown.env.iter().map(|(k, v)| (k, v)));
            for (key, value) in extra_env {
                command.env(key, value);
            }
            command.output().expect("nudge runs")
        };
        match name {
            // The daemon runs until stopped: tests/daemon.rs runs it. `--help` was enough.
            "run" => Ok(false),
            "init" => {
                // A fresh path each time: init never overwrites.
                let fresh = tempfile::tempdir().expect("temp dir");
                let fresh = fresh.path();
                let path = fresh.join("nudge/config.toml");
                let args: Vec<String> = if has_config {
                    self.with_config(args, &path)
                } else {
                    [
                        vec!["--config".into(), path.display().to_string()],
                        args.to_vec(),
                    ]
                    .concat()
                };
                let output = run(None, &args, &[("HOME", fresh)]);
                check_success(&output)?;
                Config::load(&path)
                    .map_err(|e| format!("the file nudge init wrote does not load: {e}"))?;
                Ok(true)
            }
            "install-service" => {
                let home = self.home.path();
                let config_home = home.join(".config");
                let output = run(
                    config,
                    args,
                    &[("HOME", home), ("XDG_CONFIG_HOME", &config_home)],
                );
                check_success(&output)?;
                let unit = config_home.join("systemd/user/nudge.service");
                if !unit.is_file() {
                    return Err(format!("{} was not written", unit.display()));
                }
                Ok(true)
            }
            "classify" => {
                let output = run(config, args, &[]);
                check_success(&output)?;
                let stdout = String::from_utf8_lossy(&output.stdout);
                if rest.iter().any(|a| a == "--json") {
                    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout)
                        .map_err(|e| format!("classify --json is not a JSON array: {e}"))?;
                    if rows.first().and_then(|r| r["class"].as_str()) != Some("auto_reply") {
                        return Err(format!("the sample out-of-office is not one: {stdout}"));
                    }
                } else if !stdout.contains(": auto_reply\n") {
                    return Err(format!("the sample out-of-office is not one: {stdout}"));
                }
                Ok(true)
            }
            "check" | "sync" | "status" | "show" | "stop" | "done" | "resume" | "snooze"
            | "suppress" | "templates" | "summary" => {
                let sent_before = self.smtp.received().len();
                // A config the README names (a folder of accounts) is the world's here.
                let args = if has_config {
                    self.with_config(args, &self.nudge.config)
                } else {
                    args.to_vec()
                };
                let output = run(config, &args, &[]);
                check_success(&output)?;
                let stdout = String::from_utf8_lossy(&output.stdout);
                match name {
                    "status" if rest.iter().any(|a| a == "--json") => {
                        let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout)
                            .map_err(|e| format!("status --json is not a JSON array: {e}"))?;
                        if rows.is_empty() {
                            return Err("status --json lists no conversation".into());
                        }
                    }
                    "status" | "show" if !stdout.contains(SUBJECT) => {
                        return Err(format!("the output does not name \"{SUBJECT}\""));
                    }
                    "summary" if rest.iter().any(|a| a == "--send") => {
                        let got = self.smtp.wait_for(sent_before + 1, Duration::from_secs(10));
                        match got.get(sent_before) {
                            Some(mail) if mail.rcpt_to == [SELLER] => {}
                            other => {
                                return Err(format!(
                                    "the summary did not reach {SELLER} over SMTP: {other:?}"
                                ))
                            }
                        }
                    }
                    _ => {}
                }
                Ok(true)
            }
            other => Err(format!(
                "this test does not know whether `nudge {other}` is safe to run: \
                 teach it (run it, or --help only)"
            )),
        }
    }

    /// `args` with the value after `--config` replaced by `path`.
    fn with_config(&self, args: &[String], path: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if arg == "--config" {
                iter.next();
                out.push(arg.clone());
                out.push(path.display().to_string());
            } else if arg.starts_with("--config=") {
                out.push(format!("--config={}", path.display()));
            } else {
                out.push(arg.clone());
            }
        }
        out
    }
}

fn check_success(output: &Output) -> Result<(), String> {
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("it fails:\n{}", output_text(output)))
    }
}

#[tokio::test]
async fn every_nudge_command_in_the_readme_exists_and_runs() {
    let text = readme();
    let shown = shown_commands(&text).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    let lines: BTreeSet<usize> = shown.iter().map(|s| s.line.number).collect();
    assert!(
        lines.len() >= 15,
        "only {} README lines with a nudge command were found: is the extraction broken?",
        lines.len()
    );

    let world = World::new().await;
    let mut failures = Vec::new();
    let (mut helped, mut ran) = (0, 0);
    for command in &shown {
        let variants = match expand_optional(&command.args) {
            Ok(variants) => variants,
            Err(e) => {
                failures.push(format!("{}: {e}", command.line));
                continue;
            }
        };
        for variant in variants {
            let args = match world.placeholders.substitute(&variant) {
                Ok(args) => args,
                Err(e) => {
                    failures.push(format!("{}: {e}", command.line));
                    continue;
                }
            };
            let shown_as = format!("nudge {}", args.join(" "));
            match world.check_help(command, &args) {
                Ok(()) => helped += 1,
                Err(e) => {
                    failures.push(format!("{} (as `{shown_as}`): {e}", command.line));
                    continue;
                }
            }
            match world.run_for_real(command, &args) {
                Ok(true) => ran += 1,
                Ok(false) => {}
                Err(e) => failures.push(format!("{} (as `{shown_as}`): {e}", command.line)),
            }
        }
    }
    println!(
        "{} README lines, {helped} command forms checked against --help, {ran} run for real",
        lines.len()
    );
    assert!(
        failures.is_empty(),
        "README commands that do not hold:\n\n{}",
        failures.join("\n\n")
    );
    assert!(ran >= 10, "only {ran} README commands were run for real");
}

/// Minimal sections a README block may leave out, so it can be loaded on its own.
const BASE_ACCOUNT: &str =
    "[account]\nemail = \"you@example.com\"\nname = \"You\"\ntimezone = \"Europe/Oslo\"\n\n";
const BASE_IMAP: &str =
    "[imap]\nhost = \"imap.example.com\"\nusername = \"you\"\npassword_env = \"NUDGE_IMAP_PASSWORD\"\n\n";

#[test]
fn every_config_block_in_the_readme_loads() {
    let text = readme();
    // README's `ca_file` paths name files of the reader's machine: point them at a real file.
    let ca = tempfile::NamedTempFile::new().expect("temp file");
    let mut loaded = 0;
    let mut failures = Vec::new();
    for block in fenced_blocks(&text)
        .into_iter()
        .filter(|b| b.info == "toml")
    {
        let first = block
            .lines
            .iter()
            .map(|l| l.text.trim())
            .find(|t| !t.is_empty() && !t.starts_with('#'));
        let Some(first) = first.filter(|t| t.starts_with('[')) else {
            continue;
        };
        let header = |name: &str| {
            block
                .lines
                .iter()
                .any(|l| l.text.trim() == format!("[{name}]"))
        };
        let mut config = String::new();
        if !header("account") {
            config.push_str(BASE_ACCOUNT);
        }
        if !header("imap") {
            config.push_str(BASE_IMAP);
        }
        for line in &block.lines {
            let trimmed = line.text.trim_start();
            if trimmed.starts_with("ca_file") && trimmed.contains('=') {
                config.push_str(&format!("ca_file = \"{}\"\n", ca.path().display()));
            } else {
                config.push_str(&line.text);
                config.push('\n');
            }
        }
        let at = &block.lines[0];
        match Config::parse(&config, None, true) {
            Ok(_) => loaded += 1,
            Err(e) => failures.push(format!(
                "the TOML block at README.md line {} (`{first}`) does not load: {e}\n{config}",
                at.number
            )),
        }
    }
    println!("{loaded} TOML blocks of README.md loaded as configuration");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        loaded >= 5,
        "only {loaded} TOML blocks of README.md were loaded"
    );
}

#[test]
fn the_reader_of_readme_lines_reads_them_as_a_shell_would() {
    assert_eq!(
        shell_commands("nudge snooze ID 2w    # or a date").unwrap(),
        vec![vec!["nudge", "snooze", "ID", "2w"]]
    );
    assert_eq!(
        shell_commands("RUST_LOG=nudge=debug nudge sync --dry-run 2>&1 | less").unwrap(),
        vec![
            vec!["RUST_LOG=nudge=debug", "nudge", "sync", "--dry-run"],
            vec!["less"]
        ]
    );
    assert_eq!(
        shell_commands(r#"nudge suppress add "a b#c" && nudge suppress list"#).unwrap(),
        vec![
            vec!["nudge", "suppress", "add", "a b#c"],
            vec!["nudge", "suppress", "list"]
        ]
    );
    let args: Vec<String> = ["status", "[--json]"].map(String::from).to_vec();
    assert_eq!(
        expand_optional(&args).unwrap(),
        vec![
            vec!["status".to_string()],
            vec!["status".into(), "--json".into()]
        ]
    );
    let args: Vec<String> = ["sync", "[--now", "RFC3339]"].map(String::from).to_vec();
    assert_eq!(expand_optional(&args).unwrap().len(), 2);
    assert!(expand_optional(&["[--preview|--send]".to_string()]).is_err());

    let blocks = "```toml\nnudge run\n```\n```console\n$ nudge check\nnudge: config error\n```\n\
                  ```sh\nnudge status   # all\nsystemctl --user start nudge\n```\n";
    let found: Vec<(usize, Vec<String>)> = shown_commands(blocks)
        .unwrap()
        .into_iter()
        .map(|s| (s.line.number, s.args))
        .collect();
    assert_eq!(
        found,
        vec![
            (5, vec!["check".to_string()]),
            (9, vec!["status".to_string()])
        ]
    );
    let placeholders = Placeholders {
        id: "7".into(),
        config: "/c.toml".into(),
        now: "2026-12-01T08:00:00+01:00".into(),
    };
    assert_eq!(
        placeholders
            .substitute(&["show".into(), "ID".into()])
            .unwrap(),
        vec!["show", "7"]
    );
    assert!(placeholders
        .substitute(&["show".into(), "WHO".into()])
        .is_err());
}
