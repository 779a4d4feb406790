//! The PostgreSQL the tests run on: a real server from Debian's packages, started here on
//! 127.0.0.1 in a temp dir, never a system-wide one. One shared server per test binary holds a
//! database per test; a restart keeps the port and the data; nothing outlives the test binary.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::{Connection, PgPool};
use support::Postgres;

/// A pool that gives up on a connection after a few seconds (sqlx's default: 30).
async fn connect(url: &str) -> PgPool {
    PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(3))
        .connect(url)
        .await
        .expect("connect to the test database")
}

/// A notes table with `rows` in it.
async fn seed(url: &str, rows: &[&str]) -> PgPool {
    let pool = connect(url).await;
    sqlx::query("CREATE TABLE notes (id SERIAL PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&pool)
        .await
        .expect("create table");
    for body in rows {
        sqlx::query("INSERT INTO notes (body) VALUES ($1)")
            .bind(body)
            .execute(&pool)
            .await
            .expect("insert");
    }
    pool
}

async fn notes(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT body FROM notes ORDER BY id")
        .fetch_all(pool)
        .await
        .expect("read notes")
}

async fn show(pool: &PgPool, setting: &str) -> String {
    sqlx::query_scalar("SELECT current_setting($1)")
        .bind(setting)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("current_setting({setting}): {e}"))
}

/// Whether one plain connection attempt to `url` succeeds within a few seconds.
async fn connects(url: &str) -> bool {
    tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(url))
        .await
        .is_ok_and(|c| c.is_ok())
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// A process exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat_fields(&stat).first() != Some(&"Z"))
}

/// The fields of /proc/PID/stat after `pid (comm)`: state, ppid, ...
fn stat_fields(stat: &str) -> Vec<&str> {
    stat.rfind(')')
        .map(|end| stat[end + 1..].split_whitespace().collect())
        .unwrap_or_default()
}

/// Pids whose parent is `pid` (the postmaster's backends and auxiliary processes).
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("read /proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .is_ok_and(|stat| stat_fields(&stat).get(1) == Some(&pid.to_string().as_str()))
        })
        .collect()
}

/// The real uid of a process, from /proc/PID/status; None once it is gone.
fn uid_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next()?.parse().ok())
}

fn accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Waits up to 10 s for every pid to be gone; returns those still running.
fn still_running(pids: &[u32]) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn two_databases_on_the_shared_server_keep_their_own_rows() {
    let pg = Postgres::shared();
    let url_a = pg.create_database("fjordsalg");
    let url_b = pg.create_database("vikingsalg");
    assert_eq!(
        url_a,
        format!("postgres://postgres@127.0.0.1:{}/fjordsalg", pg.port())
    );

    let a = seed(&url_a, &["Kari: opener to Lindqvist", "Kari: check-back"]).await;
    let b = seed(&url_b, &["Ola: opener to Hansen"]).await;

    assert_eq!(
        notes(&a).await,
        ["Kari: opener to Lindqvist", "Kari: check-back"]
    );
    assert_eq!(notes(&b).await, ["Ola: opener to Hansen"]);
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&b)
        .await
        .expect("current_database");
    assert_eq!(name, "vikingsalg");

    // A row written through one database is not seen through the other.
    sqlx::query("DELETE FROM notes")
        .execute(&b)
        .await
        .expect("delete");
    assert!(notes(&b).await.is_empty());
    assert_eq!(notes(&a).await.len(), 2);

    // Same name twice is refused: every test gets a database of its own.
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pg.create_database("fjordsalg")
    }));
    assert!(again.is_err(), "a second fjordsalg was created");
}

/// Also the child run of `the_shared_server_stops_when_the_test_binary_exits`, which reads the
/// line this prints.
#[tokio::test]
async fn the_shared_server_is_one_server_on_loopback_only() {
    let pg = Postgres::shared();
    assert!(
        std::ptr::eq(pg, Postgres::shared()),
        "a second shared server"
    );
    let pid = pg.pid().expect("the shared server runs");
    let url = pg.create_database("loopback_only");
    let pool = connect(&url).await;

    assert_eq!(show(&pool, "listen_addresses").await, "127.0.0.1");
    assert_eq!(show(&pool, "port").await, pg.port().to_string());
    assert_eq!(
        show(&pool, "unix_socket_directories").await,
        pg.dir().join("run").display().to_string()
    );
    assert_eq!(
        show(&pool, "data_directory").await,
        pg.data_dir().display().to_string()
    );
    for setting in ["fsync", "synchronous_commit", "full_page_writes"] {
        assert_eq!(show(&pool, setting).await, "off", "{setting}");
    }
    let server_addr: String = sqlx::query_scalar("SELECT host(inet_server_addr())")
        .fetch_one(&pool)
        .await
        .expect("inet_server_addr");
    assert_eq!(server_addr, "127.0.0.1");
    assert!(accepts(SocketAddr::from(([127, 0, 0, 1], pg.port()))));
    assert!(
        !accepts(SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], pg.port()))),
        "the server answers on ::1 too"
    );
    pool.close().await;

    let children: Vec<String> = children_of(pid).iter().map(u32::to_string).collect();
    println!(
        "shared postgres: pid={pid} children={} dir={}",
        children.join(","),
        pg.dir().display()
    );
}

#[test]
fn the_server_runs_unprivileged_and_owns_its_data() {
    let pg = Postgres::shared();
    let pid = pg.pid().expect("the shared server runs");
    let uid = uid_of(pid).expect("the postmaster's uid");
    // SAFETY: geteuid cannot fail and touches no memory.
    let ours = unsafe { libc::geteuid() };
    if is_root() {
        assert_ne!(uid, 0, "postgres runs as root");
    } else {
        assert_eq!(uid, ours, "postgres runs as another user");
    }
    let children = children_of(pid);
    assert!(!children.is_empty(), "the postmaster has no children");
    for child in children {
        // A backend of another test may have ended since.
        if let Some(child_uid) = uid_of(child) {
            assert_eq!(child_uid, uid, "child {child} of the postmaster");
        }
    }
    let owner = std::fs::metadata(pg.data_dir()).expect("data dir").uid();
    assert_eq!(owner, uid, "the data dir belongs to another user");
    assert_eq!(pg.psql("postgres", "SELECT current_user"), "postgres\n");
}

#[tokio::test]
async fn a_restarted_server_keeps_its_port_and_its_data() {
    let mut pg = Postgres::start();
    let port = pg.port();
    let url = pg.create_database("restarts");
    let pool = seed(&url, &["before the stop"]).await;
    let first_pid = pg.pid();

    pg.stop();
    assert!(!pg.is_running());
    assert!(!connects(&url).await, "a stopped server took a connection");
    assert!(
        sqlx::query("SELECT 1").execute(&pool).await.is_err(),
        "a query on a stopped server succeeded"
    );

    pg.restart();
    assert!(pg.is_running());
    assert_ne!(pg.pid(), first_pid, "the old postmaster still runs");
    assert_eq!(pg.port(), port);
    assert!(connects(&url).await, "no new connection after the restart");
    let fresh = connect(&url).await;
    assert_eq!(notes(&fresh).await, ["before the stop"]);
    sqlx::query("INSERT INTO notes (body) VALUES ('after the restart')")
        .execute(&fresh)
        .await
        .expect("insert after the restart");
    // The pool from before the stop drops its dead connections and makes new ones.
    assert_eq!(notes(&pool).await, ["before the stop", "after the restart"]);

    // A restart of a running server works the same way.
    pg.restart();
    assert_eq!(pg.port(), port);
    assert_eq!(notes(&fresh).await.len(), 2);
}

#[tokio::test]
async fn a_dropped_server_leaves_no_process_and_no_dir() {
    let pg = Postgres::start();
    let pid = pg.pid().expect("running");
    let dir = pg.dir().to_path_buf();
    let port = pg.port();
    let url = pg.create_database("dropped");
    // A session open at the drop: its backend must go too.
    let mut session = PgConnection::connect(&url).await.expect("connect");
    sqlx::query("SELECT 1")
        .execute(&mut session)
        .await
        .expect("select");
    let mut processes = children_of(pid);
    assert!(
        processes.len() >= 3,
        "expected a backend and the auxiliary processes, got {processes:?}"
    );
    processes.push(pid);

    drop(pg);
    assert_eq!(still_running(&processes), Vec::<u32>::new());
    assert!(!accepts(SocketAddr::from(([127, 0, 0, 1], port))));
    assert!(
        sqlx::query("SELECT 1").execute(&mut session).await.is_err(),
        "the session outlived its server"
    );
    if !support::keep_dirs() {
        assert!(!dir.exists(), "{} is still there", dir.display());
    }
}

#[test]
fn the_shared_server_stops_when_the_test_binary_exits() {
    // This binary again, running one test that starts the shared server and says where it is.
    let out = Command::new(std::env::current_exe().expect("current exe"))
        .args([
            "--exact",
            "the_shared_server_is_one_server_on_loopback_only",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("NUDGE_KEEP_TEST_DIRS")
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child run failed ({}): {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| Some(l.split_once("shared postgres: ")?.1))
        .unwrap_or_else(|| panic!("no report line in {stdout}"));
    let field = |name: &str| {
        line.split(' ')
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
            .to_string()
    };
    let mut processes: Vec<u32> = field("children")
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().expect("a pid"))
        .collect();
    assert!(!processes.is_empty(), "no children reported: {line}");
    processes.push(field("pid").parse().expect("a pid"));
    let dir = std::path::PathBuf::from(field("dir"));

    // Gone already when the binary has exited, not only after the sentinel's grace period.
    let left: Vec<u32> = processes.iter().copied().filter(|&p| alive(p)).collect();
    assert_eq!(left, Vec::<u32>::new(), "still running after the exit");
    assert!(!dir.exists(), "{} is still there", dir.display());
}

/// Two machines with one account on one PostgreSQL take turns: each keeps its lock files in
/// a folder of its own, and the server's advisory lock is what they share. The second is told
/// who holds the turn; it gets it once the first lets go. Another account is not held up.
#[tokio::test]
async fn two_hosts_of_one_account_take_turns_by_the_servers_lock() {
    use nudge::config::{PostgresStore, StoreConfig};
    use nudge::lock::{Kind, Lock};
    use nudge::store::Store;

    let url = Postgres::shared().create_database("turns");
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let host = |dir: &tempfile::TempDir, schema: &str| StoreConfig {
        path: dir.path().join("state/nudge.db"),
        postgres: Some(PostgresStore {
            url: url.clone().into(),
            schema: schema.into(),
        }),
    };
    let (first, second) = (host(&one, "kari"), host(&two, "kari"));
    let first_store = Store::connect(&first).await.unwrap();
    let second_store = Store::connect(&second).await.unwrap();
    let held = Lock::acquire_for(
        &first,
        &first_store,
        Kind::Pass,
        "nudge run",
        Duration::ZERO,
    )
    .await
    .expect("the first host takes the turn");
    let started = Instant::now();
    let busy = Lock::acquire_for(
        &second,
        &second_store,
        Kind::Pass,
        "nudge sync",
        Duration::from_millis(300),
    )
    .await
    .expect_err("the second host must wait for the first");
    assert!(started.elapsed() >= Duration::from_millis(300), "it waited");
    let text = busy.to_string();
    assert!(
        text.contains(&format!("nudge pid {}", std::process::id())),
        "names the holder: {text}"
    );
    // The daemon's lock is another lock, and another account another key.
    Lock::acquire_for(
        &second,
        &second_store,
        Kind::Daemon,
        "nudge run",
        Duration::ZERO,
    )
    .await
    .expect("the daemon lock is free");
    let other = host(&two, "ola");
    let other_store = Store::connect(&other).await.unwrap();
    Lock::acquire_for(
        &other,
        &other_store,
        Kind::Pass,
        "nudge sync",
        Duration::ZERO,
    )
    .await
    .expect("another account is not held up");
    drop(held);
    Lock::acquire_for(
        &second,
        &second_store,
        Kind::Pass,
        "nudge sync",
        Duration::from_secs(5),
    )
    .await
    .expect("the turn is free once the first lets go");
}

/// The daemon's lock on the server lives as long as the session that took it: a restart of
/// the server ends it without a word. The daemon makes sure of it before every pass
/// (`Lock::keep`): it takes it again when it is free, and when another host took it meanwhile
/// it is told who, and does nothing for the account. A lock of a session gone is never
/// "released" on the new session.
#[tokio::test]
async fn the_daemons_lock_outlives_a_restart_of_the_server_or_is_known_lost() {
    use nudge::config::{PostgresStore, StoreConfig};
    use nudge::lock::{Kind, Lock};
    use nudge::store::Store;

    let mut postgres = Postgres::start_durable();
    let url = postgres.create_database("keep");
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let host = |dir: &tempfile::TempDir| StoreConfig {
        path: dir.path().join("state/nudge.db"),
        postgres: Some(PostgresStore {
            url: url.clone().into(),
            schema: "kari".into(),
        }),
    };
    let (first, second) = (host(&one), host(&two));
    let first_store = Store::connect(&first).await.unwrap();
    let second_store = Store::connect(&second).await.unwrap();
    let daemon = |config: StoreConfig, store: Store| async move {
        Lock::acquire_for(&config, &store, Kind::Daemon, "nudge run", Duration::ZERO).await
    };
    let mut held = daemon(first.clone(), first_store.clone())
        .await
        .expect("the first host's daemon starts");
    held.keep(&first_store).await.expect("held: nothing to do");
    assert!(daemon(second.clone(), second_store.clone()).await.is_err());

    // The server restarts: the first host takes its lock again before its next pass.
    postgres.stop();
    postgres.restart();
    held.keep(&first_store)
        .await
        .expect("taken again while free");
    let refused = daemon(second.clone(), second_store.clone())
        .await
        .expect_err("the first host holds it again");
    assert!(
        refused.to_string().contains("another nudge is working"),
        "{refused}"
    );

    // Again, but the second host's daemon starts first: the first host is told it lost.
    postgres.stop();
    postgres.restart();
    let second_held = daemon(second.clone(), second_store.clone())
        .await
        .expect("free after the restart");
    let lost = held
        .keep(&first_store)
        .await
        .expect_err("the second host holds it now");
    assert!(
        lost.to_string().contains("nudge pid"),
        "names the holder: {lost}"
    );
    // Dropping the first host's stale lock leaves the second's alone.
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(daemon(first.clone(), first_store.clone()).await.is_err());
    drop(second_held);
}

/// A dry run on PostgreSQL works on a copy of the account's schema and drops it at the end;
/// a dry run killed before that leaves its copy behind, and the next dry run drops every
/// copy older than six hours (a fresh one may be another dry run's, still running).
#[tokio::test]
async fn the_copies_of_killed_dry_runs_are_dropped_by_the_next() {
    use nudge::config::{PostgresStore, StoreConfig};
    use nudge::store::Store;

    let url = Postgres::shared().create_database("dry_runs");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&StoreConfig {
        path: dir.path().join("nudge.db"),
        postgres: Some(PostgresStore {
            url: url.clone().into(),
            schema: "kari".into(),
        }),
    })
    .await
    .unwrap();
    let pool = connect(&url).await;
    let fresh = format!(
        "nudge_dry_{}_4242_0000beef",
        chrono::Utc::now().timestamp() - 60
    );
    for name in [
        "nudge_dry_1700000000_4242_0000dead",
        "nudge_dry_4242_0000cafe",
        &fresh,
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
            .execute(&pool)
            .await
            .unwrap();
    }
    let dry_runs = || async {
        let mut names: Vec<String> = sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'nudge\\_dry\\_%'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        names.sort();
        names
    };
    let (copy, snapshot) = store.snapshot().await.unwrap();
    let during = dry_runs().await;
    assert_eq!(
        during.len(),
        2,
        "the fresh one and this run's copy: {during:?}"
    );
    assert!(during.contains(&fresh), "{during:?}");
    copy.close().await;
    snapshot.remove().await;
    assert_eq!(dry_runs().await, [fresh]);
}
