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
            SecretSource::Plain { password, .. } => Ok(password.clone()),
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
                run_secret_command(command).await.map_err(fail)
            }
        }
    }
}

/// Runs a password or token command through `sh -c` and returns the first line it printed.
pub async fn run_secret_command(command: &str) -> std::result::Result<String, String> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    let output = tokio::time::timeout(SECRET_COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            format!(
                "`{command}` did not finish within {} s",
                SECRET_COMMAND_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`{command}` failed ({}): {}",
            output.status,
            stderr.trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    first_line(&stdout).ok_or_else(|| format!("`{command}` printed nothing"))
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
            Auth::XOAuth2 { token_command } => {
                run_secret_command(token_command)
                    .await
                    .map_err(|reason| Error::Secret {
                        key: "oauth2_token_command".to_string(),
                        reason,
                        helper: true,
                    })
            }
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
}
