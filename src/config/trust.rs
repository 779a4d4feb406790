//! Who else can change what nudge trusts (SPEC 13): the config file can run commands through
//! `password_command` and send the password wherever `host` says, templates choose a draft's
//! words, and the store's folder holds the record of every draft. Like OpenSSH's StrictModes,
//! nudge refuses them when another user could write them.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Why a path cannot be trusted, in words that name the path and the fix.
pub fn problem(path: &Path, what: &str) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    problem_of(path, what, meta.mode(), meta.uid(), me)
}

/// The rule on its own: writable by group or others, or owned by someone other than the user
/// running nudge or root.
pub fn problem_of(path: &Path, what: &str, mode: u32, owner: u32, me: u32) -> Option<String> {
    let shown = path.display();
    if mode & 0o022 != 0 {
        return Some(format!(
            "{what} {shown} is writable by other users (mode {:04o}), who could then change \
             what nudge runs or sends; fix it with `chmod go-w {shown}`",
            mode & 0o7777
        ));
    }
    if owner != me && owner != 0 {
        return Some(format!(
            "{what} {shown} belongs to another user (uid {owner}), who could then change what \
             nudge runs or sends; it must belong to you (uid {me}) or root: fix it with \
             `chown {me} {shown}`"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_by_others_or_owned_by_another_user_is_refused() {
        let p = Path::new("/home/kari/.config/nudge/config.toml");
        assert_eq!(problem_of(p, "the config file", 0o100600, 1000, 1000), None);
        assert_eq!(problem_of(p, "the config file", 0o100644, 1000, 1000), None);
        assert_eq!(problem_of(p, "the config file", 0o100644, 0, 1000), None);
        for mode in [0o100664, 0o100646, 0o100666, 0o040777, 0o041777] {
            let error = problem_of(p, "the config file", mode, 1000, 1000).expect("refused");
            assert!(error.contains("chmod go-w /home/kari/.config/nudge/config.toml"));
        }
        let error = problem_of(p, "the config file", 0o100600, 1001, 1000).expect("refused");
        assert!(error.contains("uid 1001"), "{error}");
        assert!(error.contains("chown 1000"), "{error}");
    }
}
