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

    if which("systemd-analyze") {
        let verify = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&unit_path)
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "systemd-analyze verify: {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
    } else {
        eprintln!("systemd-analyze is not installed here: the unit was not verified");
    }

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
