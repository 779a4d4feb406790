//! `nudge install-service` writes a user unit that systemd accepts.

use std::process::Command;

fn install(home: &std::path::Path, config: Option<&str>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nudge"));
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command
        .arg("install-service")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("NUDGE_CONFIG")
        .output()
        .expect("nudge runs")
}

#[test]
fn install_service_writes_a_unit_that_systemd_accepts() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("my nudge.toml");
    std::fs::write(&config, "").unwrap();
    let output = install(home.path(), Some(config.to_str().unwrap()));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.contains("systemctl --user enable --now nudge"),
        "{said}"
    );
    assert!(said.contains("journalctl --user -u nudge"), "{said}");

    let unit_path = home.path().join(".config/systemd/user/nudge.service");
    let unit = std::fs::read_to_string(&unit_path).expect("unit written");
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_nudge")).unwrap();
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert_eq!(
        exec,
        format!(
            "ExecStart={} --config \"{}\" run",
            binary.display(),
            config.display()
        )
    );
    assert!(unit.contains("Type=notify"));
    assert!(unit.contains("Restart=on-failure"));
    assert!(unit.contains("WantedBy=default.target"));

    verify_unit(&unit_path);

    // Installing again without --config changes the unit: the old one is kept.
    assert!(install(home.path(), None).status.success());
    let backup = std::fs::read_to_string(unit_path.with_extension("service.bak")).unwrap();
    assert_eq!(backup, unit);
}

fn which(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn install_service_without_home_writes_nothing_relative() {
    let cwd = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("install-service")
        .current_dir(cwd.path())
        .env_remove("HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NUDGE_CONFIG")
        .output()
        .expect("nudge runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("HOME"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "nothing written in the current folder"
    );
}

#[test]
fn install_service_escapes_systemd_specifiers_in_paths() {
    let home = tempfile::tempdir().unwrap();
    let folder = home.path().join("50%h $USER");
    std::fs::create_dir(&folder).unwrap();
    let config = folder.join("config.toml");
    std::fs::write(&config, "").unwrap();
    let output = install(home.path(), Some(config.to_str().unwrap()));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let unit_path = home.path().join(".config/systemd/user/nudge.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    let escaped = config
        .display()
        .to_string()
        .replace('%', "%%")
        .replace('$', "$$");
    assert!(
        exec.ends_with(&format!(" --config \"{escaped}\" run")),
        "{exec}"
    );
    verify_unit(&unit_path);
}

#[test]
fn install_service_never_writes_through_a_link() {
    let home = tempfile::tempdir().unwrap();
    let units = home.path().join(".config/systemd/user");
    std::fs::create_dir_all(&units).unwrap();
    let victim = home.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    std::os::unix::fs::symlink(&victim, units.join("nudge.service")).unwrap();
    let output = install(home.path(), None);
    assert!(!output.status.success());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}

/// A config whose store is in `<dir>/state/`, private.
fn config_in(dir: &std::path::Path) -> nudge::config::Config {
    let state = dir.join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    let text = include_str!("fixtures/config/spec-example.toml").replace(
        "/home/kari/.local/state/nudge/nudge.db",
        state.join("nudge.db").to_str().unwrap(),
    );
    nudge::config::Config::parse(&text, None, true).unwrap()
}

use std::os::unix::fs::PermissionsExt;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn summary_preview_is_private_and_never_follows_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let now = chrono::Utc::now();
    let (_, html) = nudge::commands::summary_preview(&config, now)
        .await
        .unwrap();
    assert_eq!(mode(&html), 0o600, "the summary names prospects");
    std::fs::set_permissions(&html, std::fs::Permissions::from_mode(0o644)).unwrap();
    nudge::commands::summary_preview(&config, now)
        .await
        .unwrap();
    assert_eq!(mode(&html), 0o600, "an existing file is made private");

    std::fs::remove_file(&html).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    std::os::unix::fs::symlink(&victim, &html).unwrap();
    assert!(nudge::commands::summary_preview(&config, now)
        .await
        .is_err());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert_eq!(mode(&victim), 0o644);
}

#[tokio::test]
async fn store_side_files_and_locks_never_follow_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let store = &config.store.path;
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let side = std::path::PathBuf::from(format!("{}{suffix}", store.display()));
        std::os::unix::fs::symlink(&victim, &side).unwrap();
        assert!(
            nudge::store::Store::open(store).await.is_err(),
            "a link at {suffix:?} is refused"
        );
        std::fs::remove_file(&side).unwrap();
        let _ = std::fs::remove_file(store);
    }
    for kind in [nudge::lock::Kind::Pass, nudge::lock::Kind::Daemon] {
        let lock = nudge::lock::path_of(store, kind);
        std::os::unix::fs::symlink(&victim, &lock).unwrap();
        let taken =
            nudge::lock::Lock::acquire(store, kind, "test", std::time::Duration::ZERO).await;
        assert!(taken.is_err(), "a link at {} is refused", lock.display());
        std::fs::remove_file(&lock).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");

    // The dry-run copy is a new private file.
    let opened = nudge::store::Store::open(store).await.unwrap();
    let (copy, _guard) = opened.snapshot().await.unwrap();
    assert_eq!(mode(copy.path()), 0o600);
    for suffix in ["", "-wal", "-shm"] {
        let side = std::path::PathBuf::from(format!("{}{suffix}", store.display()));
        if side.exists() {
            assert_eq!(mode(&side), 0o600, "{}", side.display());
        }
    }
}

#[test]
fn the_unit_is_hardened_as_far_as_a_user_manager_allows() {
    let home = tempfile::tempdir().unwrap();
    assert!(install(home.path(), None).status.success());
    let unit_path = home.path().join(".config/systemd/user/nudge.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    for line in [
        "LimitCORE=0",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "RestrictNamespaces=yes",
        "LockPersonality=yes",
        "RestrictRealtime=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@privileged @cpu-emulation @obsolete",
        "SystemCallErrorNumber=EPERM",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line} missing");
    }
    if !which("systemd-analyze") {
        eprintln!("systemd-analyze is not installed here: the exposure was not measured");
        return;
    }
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(&unit_path)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&security.stdout);
    let score: f64 = said
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for nudge.service: "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{said}"));
    // 8.5 before this hardening; namespaced settings would need user namespaces.
    assert!(score <= 6.5, "exposure {score}");
}

/// The team's system unit serves a folder of accounts as an unprivileged user, and systemd
/// accepts it as it is shipped.
#[test]
fn the_team_unit_serves_a_folder_of_accounts_and_systemd_accepts_it() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/nudge-team.service");
    let unit = std::fs::read_to_string(&path).unwrap();
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert!(exec.ends_with("--config /etc/nudge/conf.d run"), "{exec}");
    for line in [
        "Type=notify",
        "User=nudge",
        "After=network-online.target postgresql.service",
        "WantedBy=multi-user.target",
        "ProtectSystem=strict",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line} in the unit");
    }
    {
        // ExecStart's binary must exist for `verify`: point it at this build's.
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("nudge-team.service");
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_nudge"));
        std::fs::write(
            &copy,
            unit.replace("/usr/local/bin/nudge", &binary.display().to_string()),
        )
        .unwrap();
        verify_unit(&copy);
    }
}

/// systemd's own check of a unit file, where systemd-analyze is installed.
fn verify_unit(unit: &std::path::Path) {
    if !which("systemd-analyze") {
        eprintln!("systemd-analyze is not installed here: the unit was not verified");
        return;
    }
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(unit)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "systemd-analyze verify {}: {}{}",
        unit.display(),
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
