//! Secrets fetched when a connection needs them: a command's output (password_command,
//! oauth2_token_command), an environment variable, a systemd credential, or the file itself.

use std::path::Path;
use std::time::Duration;

use super::{Auth, SecretSource, ServerConfig};
use crate::error::{Error, Result};

/// How long a secret command may run (a password manager may wait for an agent).
const SECRET_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

impl SecretSource {
    /// The config key the secret comes from, for messages.
    pub fn key(&self) -> &str {
        match self {
            SecretSource::Command { key, .. }
            | SecretSource::Env { key, .. }
            | SecretSource::Credential { key, .. }
            | SecretSource::Plain { key, .. } => key,
        }
    }

    /// Fetches the secret now. Nothing is cached: a rotated password is picked up at the next
    /// connection. A failing command is a helper failure (it may work later, see
    /// [`crate::ErrorKind::Unavailable`]); an unset variable or a missing credential file is
    /// not going to change for this process.
    pub async fn resolve(&self) -> Result<String> {
        let helper = matches!(self, SecretSource::Command { .. });
        let fail = |reason: String| Error::Secret {
            key: self.key().to_string(),
            reason,
            helper,
        };
        match self {
            SecretSource::Plain { password, .. } => Ok(password.expose().to_string()),
            SecretSource::Env { variable, .. } => match std::env::var(variable) {
                Ok(value) if !value.is_empty() => Ok(value),
                _ => Err(fail(format!(
                    "the environment variable {variable} is not set"
                ))),
            },
            SecretSource::Credential { name, .. } => {
                let dir = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
                    fail(format!(
                        "$CREDENTIALS_DIRECTORY is not set: the credential \"{name}\" is given \
                         by systemd's LoadCredential= when nudge runs as a service"
                    ))
                })?;
                let path = Path::new(&dir).join(name);
                let text = tokio::fs::read_to_string(&path)
                    .await
                    .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
                first_line(&text).ok_or_else(|| fail(format!("{} is empty", path.display())))
            }
            SecretSource::Command { command, .. } => {
                run_secret_command(command.expose()).await.map_err(fail)
            }
        }
    }
}

/// How much of a failing helper's stderr is shown.
const STDERR_SHOWN: usize = 200;

/// Runs a password or token command through `sh -c` and returns the first line it printed.
/// An error never holds the command line (it may hold a password) nor its output: only the
/// exit status and the start of its stderr, cleaned by [`clean_stderr`]. The caller adds the
/// config key.
pub async fn run_secret_command(command: &str) -> std::result::Result<String, String> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("the command cannot be run: {e}"))?;
    let output = tokio::time::timeout(SECRET_COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            format!(
                "the command did not finish within {} s",
                SECRET_COMMAND_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("the command cannot be run: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let secret = first_line(&stdout).unwrap_or_default();
        let stderr = clean_stderr(&stderr, &secret);
        return Err(if stderr.is_empty() {
            format!("the command failed ({})", output.status)
        } else {
            format!("the command failed ({}): {stderr}", output.status)
        });
    }
    first_line(&stdout).ok_or_else(|| "the command printed nothing".to_string())
}

/// A helper's stderr made fit for a log line: anything equal to `secret` (what the helper
/// printed on stdout, when it did) replaced, control and format characters dropped,
/// whitespace collapsed, at most [`STDERR_SHOWN`] characters.
pub fn clean_stderr(stderr: &str, secret: &str) -> String {
    let scrubbed = if secret.is_empty() {
        stderr.to_string()
    } else {
        stderr.replace(secret, "[redacted]")
    };
    let words: Vec<&str> = scrubbed.split_whitespace().collect();
    let joined = words.join(" ");
    let clean: String = joined
        .chars()
        .filter(|c| !c.is_control() && !crate::display::is_format(*c))
        .collect();
    let mut shown: String = clean.chars().take(STDERR_SHOWN).collect();
    if clean.chars().count() > STDERR_SHOWN {
        shown.push('…');
    }
    shown
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .next()
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.is_empty())
}

impl ServerConfig {
    /// The password or access token to log in with, fetched now.
    pub async fn credential(&self) -> Result<String> {
        match &self.auth {
            Auth::Password(source) => source.resolve().await,
            Auth::XOAuth2 { token_command } => run_secret_command(token_command.expose())
                .await
                .map_err(|reason| Error::Secret {
                    key: "oauth2_token_command".to_string(),
                    reason,
                    helper: true,
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_of_secret_output() {
        assert_eq!(first_line("s3cret\nmore\n"), Some("s3cret".into()));
        assert_eq!(first_line("s3cret\r\n"), Some("s3cret".into()));
        assert_eq!(first_line("\n"), None);
    }

    #[test]
    fn stderr_is_scrubbed_cleaned_and_truncated() {
        assert_eq!(
            clean_stderr("bad token hunter2\n", "hunter2"),
            "bad token [redacted]"
        );
        assert_eq!(
            clean_stderr("a\x1b[31mred\u{202e}x\0y\r\nz", ""),
            "a[31mredxy z"
        );
        let long = clean_stderr(&"e".repeat(1000), "");
        assert_eq!(long.chars().count(), STDERR_SHOWN + 1);
        assert!(long.ends_with('…'));
    }

    #[tokio::test]
    async fn a_failing_helper_shows_its_status_not_its_command_or_secret() {
        let error = run_secret_command(
            "printf 'hunter2\\n'; printf 'no agent for hunter2\\033[0m' >&2; exit 3 # marker-99",
        )
        .await
        .unwrap_err();
        assert!(error.contains("exit status: 3"), "{error}");
        assert!(error.contains("no agent for [redacted]"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        assert!(!error.contains("marker-99"), "{error}");
        assert!(!error.contains('\x1b'), "{error}");

        let error = run_secret_command("true # marker-99").await.unwrap_err();
        assert_eq!(error, "the command printed nothing");
    }

    #[test]
    fn debug_of_a_config_secret_is_redacted() {
        let auth = Auth::Password(SecretSource::Plain {
            key: "imap.password".into(),
            password: "hunter2".into(),
        });
        let shown = format!("{auth:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        let xoauth = Auth::XOAuth2 {
            token_command: "printf '%s' hunter2".into(),
        };
        assert!(!format!("{xoauth:?}").contains("hunter2"));
        let command = SecretSource::Command {
            key: "imap.password_command".into(),
            command: "echo hunter2".into(),
        };
        assert!(!format!("{command:?}").contains("hunter2"));
    }
}
