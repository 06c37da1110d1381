//! Real SOCKS5 proxies on loopback: Dante (`danted`, no authentication; its rules let clients on 127.0.0.0/8
//! reach 127.0.0.0/8 only, so any other destination gets reply 0x02 "not allowed") and microsocks (RFC 1929
//! user and password). Each starts on first use, on a port chosen at run time, from a config in the scratch
//! directory, and is stopped by pid when the test binary exits, like the other peers.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use super::{free_port, scratch_dir, stop_at_exit, Stop};

/// The user and password microsocks accepts.
pub const PROXY_USER: &str = "mailer";
/// With characters that must be percent-encoded in a URL (`@`, `:`, `%`).
pub const PROXY_PASSWORD: &str = "p@ss:w%rd";
/// The same, percent-encoded for a URL's user information.
pub const PROXY_PASSWORD_ENCODED: &str = "p%40ss%3Aw%25rd";

pub struct Socks {
    pub port: u16,
    log: PathBuf,
}

impl Socks {
    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What the proxy logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

static DANTE: OnceLock<Socks> = OnceLock::new();
static MICROSOCKS: OnceLock<Socks> = OnceLock::new();

/// Dante: `socksmethod: none`, loopback-only rules, every connection logged.
pub fn dante() -> &'static Socks {
    DANTE.get_or_init(|| start_dante().unwrap_or_else(|e| panic!("cannot start the test danted: {e}")))
}

/// microsocks with a user and password (RFC 1929).
pub fn microsocks() -> &'static Socks {
    MICROSOCKS.get_or_init(|| start_microsocks().unwrap_or_else(|e| panic!("cannot start the test microsocks: {e}")))
}

fn start_dante() -> Result<Socks, String> {
    let binary = Path::new("/usr/sbin/danted");
    if !binary.exists() {
        return Err("danted is not installed (package dante-server); run scripts/test.sh".into());
    }
    let dir = scratch_dir("danted");
    let port = free_port("127.0.0.1");
    let log = dir.join("danted.log");
    let config = dir.join("danted.conf");
    fs::write(
        &config,
        format!(
            "logoutput: {log}\n\
             internal: 127.0.0.1 port = {port}\n\
             external: 127.0.0.1\n\
             clientmethod: none\n\
             socksmethod: none\n\
             user.privileged: root\n\
             user.unprivileged: nobody\n\
             client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect disconnect error }}\n\
             client block {{ from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }}\n\
             socks pass {{ from: 127.0.0.0/8 to: 127.0.0.0/8 log: connect disconnect error }}\n\
             socks block {{ from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }}\n",
            log = log.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    // In the foreground (no -D), so that the pid is the master's; its workers are its children.
    let mut child = Command::new(binary)
        .arg("-f")
        .arg(&config)
        .arg("-p")
        .arg(dir.join("danted.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("running danted: {e}"))?;
    stop_at_exit(Stop { pid: child.id() as i32, with_children: true });
    wait_listening(&mut child, port, "danted", || fs::read_to_string(&log).unwrap_or_default())?;
    Ok(Socks { port, log })
}

fn start_microsocks() -> Result<Socks, String> {
    let binary = Path::new("/usr/bin/microsocks");
    if !binary.exists() {
        return Err("microsocks is not installed; run scripts/test.sh".into());
    }
    let dir = scratch_dir("microsocks");
    let port = free_port("127.0.0.1");
    // microsocks logs each connection on stderr ("client[N] 127.0.0.1: connected to HOST:PORT", the name as
    // the client sent it).
    let log = dir.join("microsocks.log");
    let out = fs::File::create(&log).map_err(|e| e.to_string())?;
    let mut child = Command::new(binary)
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-u", PROXY_USER, "-P", PROXY_PASSWORD, "-b", "127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(out)
        .spawn()
        .map_err(|e| format!("running microsocks: {e}"))?;
    stop_at_exit(Stop { pid: child.id() as i32, with_children: false });
    wait_listening(&mut child, port, "microsocks", || fs::read_to_string(&log).unwrap_or_default())?;
    Ok(Socks { port, log })
}

/// Wait until the server accepts connections, or fail at once when it has exited (a bad config).
fn wait_listening(child: &mut Child, port: u16, name: &str, log: impl Fn() -> String) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{name} exited ({status}); its log:\n{}", log()));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(10));
    }
    Err(format!("{name} does not listen on 127.0.0.1:{port}; its log:\n{}", log()))
}
