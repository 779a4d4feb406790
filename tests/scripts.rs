//! `scripts/demo` and `scripts/test` share `scripts/lib/deps.sh`: as root it installs what is
//! missing; as anyone else it must say the one command to run and stop, installing nothing.

use std::process::{Command, Output};

/// A package name Debian has never had, so it is always missing.
const MISSING: &str = "nudge-test-no-such-package";

fn ensure_packages_as(user: Option<u32>) -> Output {
    // A copy in a dir anyone may read: the checkout itself may be private to its owner.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let deps = dir.path().join("deps.sh");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/lib/deps.sh"),
        &deps,
    )
    .expect("copy deps.sh");
    for path in [dir.path(), deps.as_path()] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let script = format!(". '{}' && ensure_packages {MISSING}", deps.display());
    let mut command = match user {
        Some(uid) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
                "bash",
                "-c",
                &script,
            ]);
            c
        }
        None => {
            let mut c = Command::new("bash");
            c.args(["-c", &script]);
            c
        }
    };
    command.current_dir("/").output().expect("bash runs")
}

fn is_root() -> bool {
    let output = Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

#[test]
fn without_root_a_missing_package_is_named_with_the_command_to_install_it() {
    // As root, act as the unprivileged `nobody`; otherwise the test's own user is not root.
    let output = ensure_packages_as(is_root().then_some(65534));
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "sudo apt-get update && sudo apt-get install -y {MISSING}"
        )),
        "{said}"
    );
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("installing"),
        "it tried to install: {said}"
    );
}
