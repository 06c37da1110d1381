//! Real peers for the integration tests: a private Postfix instance on loopback delivering to a Maildir, a
//! Dovecot LMTP server, a signed DNS hierarchy with a validating resolver and MTA-STS policy servers
//! (`secure_dns`, in harness/secure_dns.rs), SOCKS5 proxies (`socks`: Dante and microsocks), a scripted server for misbehaviour a real one will not produce,
//! and a helper that runs the built binary in a clean environment and shows everything on failure.
//!
//! One Postfix serves the whole test binary, and one LMTP server: each starts on first use on ports chosen at
//! run time, and an exit handler stops them (and dnsmasq, the SASL Dovecot, NSD and Unbound) by pid when the
//! test binary ends (pass or fail), then removes the scratch directory that everything the tests write goes
//! under (`scratch_dir`).

#![allow(dead_code)]

use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

mod oauth;
mod secure_dns;
#[allow(unused_imports)]
pub use oauth::{oauth, OauthLab, CLIENT_ID, CLIENT_SECRET, EXPIRED_REFRESH_TOKEN};
mod socks;
pub use socks::{dante, microsocks, PROXY_PASSWORD, PROXY_PASSWORD_ENCODED, PROXY_USER};
// The whole API of the signed DNS and policy servers, some of it for the DANE and MTA-STS tests to come.
#[allow(unused_imports)]
pub use secure_dns::{
    dns_query, extended_dns_error, secure_dns, PolicyRequest, SecureDns, MAIL_DOMAINS, POLICY_PATH, TLSRPT_USER,
};

/// A real DNS server (dnsmasq) on loopback, serving the routing test zones. All of `.test` is local to it:
/// any other name under it is NXDOMAIN. Hosts are on 127.0.0.0/8 and ::1, where the test Postfix listens
/// (127.0.0.1, 127.0.0.2, ::1) or nothing does (127.0.0.3).
pub struct DnsServer {
    pub port: u16,
}

pub fn dns() -> &'static DnsServer {
    DNS.get_or_init(|| DnsServer::start().unwrap_or_else(|e| panic!("cannot start the test DNS server: {e}")))
}

impl DnsServer {
    const RECORDS: &'static [&'static str] = &[
        // Two MX hosts: the preferred one (10) must be used.
        "--mx-host=pref.test,mx1.pref.test,10",
        "--mx-host=pref.test,mx2.pref.test,20",
        "--host-record=mx1.pref.test,127.0.0.2",
        "--host-record=mx2.pref.test,127.0.0.1",
        // The preferred MX has nothing listening: the second must deliver.
        "--mx-host=fallback.test,dead.fallback.test,10",
        "--mx-host=fallback.test,live.fallback.test,20",
        "--host-record=dead.fallback.test,127.0.0.3",
        "--host-record=live.fallback.test,127.0.0.1",
        // No MX: the domain's own address (implicit MX).
        "--host-record=implicit.test,127.0.0.1",
        // RFC 7505 null MX: preference 0, exchange "." (wire form 00 00 00).
        "--dns-rr=nullmx.test,15,000000",
        // An MX that is an alias, and one that is an IP address.
        "--mx-host=alias.test,alias-mx.alias.test,10",
        "--cname=alias-mx.alias.test,real.alias.test",
        "--host-record=real.alias.test,127.0.0.1",
        "--mx-host=iplit.test,127.0.0.1,10",
        // One MX host with an IPv4 and an IPv6 address.
        "--mx-host=dual.test,mx.dual.test,10",
        "--host-record=mx.dual.test,127.0.0.1,::1",
        // Two MX hosts on addresses the tests' scripted servers listen on.
        "--mx-host=slow.test,s1.slow.test,10",
        "--mx-host=slow.test,s2.slow.test,20",
        "--host-record=s1.slow.test,127.0.0.4",
        "--host-record=s2.slow.test,127.0.0.5",
        // For postie probe: four MX hosts, one of each kind.
        "--mx-host=probe.test,good.probe.test,10",
        "--mx-host=probe.test,expired.probe.test,20",
        "--mx-host=probe.test,dead.probe.test,30",
        "--mx-host=probe.test,slow.probe.test,40",
        "--host-record=good.probe.test,127.0.0.6",
        "--host-record=expired.probe.test,127.0.0.7",
        "--host-record=dead.probe.test,127.0.0.8",
        "--host-record=slow.probe.test,127.0.0.9",
    ];

    fn start() -> Result<DnsServer, String> {
        if !Path::new("/usr/sbin/dnsmasq").exists() {
            return Err("dnsmasq is not installed; run .ci/run (it installs the test peers)".into());
        }
        let port = free_udp_port();
        let child = Command::new("/usr/sbin/dnsmasq")
            .args(["--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null"])
            .args(["--listen-address=127.0.0.1", "--bind-interfaces", "--local=/test/", "--user=root"])
            .arg(format!("--port={port}"))
            .args(Self::RECORDS)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("running dnsmasq: {e}"))?;
        stop_at_exit(Stop { pid: child.id() as i32, with_children: false });
        let server = DnsServer { port };
        server.wait_until_answering()?;
        Ok(server)
    }

    /// A DNS query over UDP for pref.test MX, until dnsmasq answers.
    fn wait_until_answering(&self) -> Result<(), String> {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let query: &[u8] = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04pref\x04test\x00\x00\x0f\x00\x01";
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut answer = [0u8; 512];
        while Instant::now() < deadline {
            let _ = socket.send_to(query, ("127.0.0.1", self.port));
            if let Ok((n, _)) = socket.recv_from(&mut answer) {
                if n > 2 && answer[..2] == [0x12, 0x34] {
                    return Ok(());
                }
            }
        }
        Err(format!("dnsmasq does not answer on 127.0.0.1:{}", self.port))
    }

    /// The value for --dns-server.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port").local_addr().unwrap().port()
}

/// A port free right now on `ip` (the kernel picks it; we release it for the server to take).
pub fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0)).expect("bind an ephemeral port").local_addr().unwrap().port()
}

/// A name no other test uses, to find this test's message in a shared Maildir.
pub fn marker(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    // Fixed width, so that message sizes in transcript snapshots do not depend on the pid.
    format!("postie-{test}-{:07}-{:04}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub struct Postfix {
    pub root: PathBuf,
    /// Plain SMTP on 127.0.0.1, 127.0.0.2 and ::1: no STARTTLS, no AUTH.
    pub port: u16,
    /// STARTTLS with a certificate from the test CA for mx.postie.test, 127.0.0.1 and ::1; also on 127.0.0.2,
    /// which the certificate does not name (the --tls-name case).
    pub starttls_port: u16,
    /// STARTTLS with an expired certificate.
    pub expired_port: u16,
    /// Implicit TLS (smtps, wrapper mode).
    pub smtps_port: u16,
    /// Submission: STARTTLS required, AUTH offered (PLAIN, LOGIN, CRAM-MD5 through Dovecot).
    pub submission_port: u16,
    /// AUTH offered without TLS, for the plaintext-AUTH refusal.
    pub plain_auth_port: u16,
    /// SIZE 2000: larger messages are refused.
    pub small_port: u16,
    /// Offers none of 8BITMIME, SMTPUTF8, PIPELINING, CHUNKING, DSN, SIZE.
    pub bare_port: u16,
    /// For `postie probe`: STARTTLS with a valid certificate on 127.0.0.6, with an expired one on 127.0.0.7;
    /// nothing listens on 127.0.0.8, and a test's scripted server may take 127.0.0.9.
    pub probe_port: u16,
    /// XCLIENT (the Postfix extension) allowed from 127.0.0.0/8: EHLO offers it, and after `XCLIENT ADDR=..
    /// NAME=..` the session is the forged client's (a new 220; the client must EHLO again, and that EHLO no
    /// longer offers XCLIENT, the forged address not being authorized). SASL is active there (AUTH offered
    /// without TLS), so that `LOGIN=` counts as authenticated: Received then says `with ESMTPA`. The plain
    /// listeners answer XCLIENT with `550 5.7.0 Error: insufficient authorization`. Postfix logs the forged
    /// client, so `wait_for_sessions` cannot find these sessions by postie's own address.
    pub xclient_port: u16,
    /// Expects a PROXY protocol header (haproxy v1 text or v2 binary) before anything else, and takes the
    /// address in it as the client's (in Received and the log; so, as for XCLIENT, `wait_for_sessions` cannot
    /// find these sessions). Without a header it answers `421 4.3.0 mx.postie.test Server local error` after
    /// 5 s (`smtpd_upstream_proxy_timeout`); with anything else first, the same at once. Peer names are not
    /// looked up: the forged address would go to the system's DNS server.
    pub proxy_port: u16,
    /// `smtpd_forbid_bare_newline = yes`, which Postfix 3.7.11 takes as `normalize`: only `<CR><LF>.<CR><LF>`
    /// ends the message, and lines ending in a bare LF are taken as if they ended in CRLF (nothing is
    /// refused). The plain `port` has the parameter set to `no` (where this Postfix knows it, as 3.7.11
    /// does): there a bare `<LF>.<LF>` ends the message, and what follows is read as commands.
    pub strict_newline_port: u16,
    /// `smtpd_forbid_bare_newline = reject`: only `<CR><LF>.<CR><LF>` ends the message; a message with a bare
    /// LF anywhere gets `550 5.5.2 mx.postie.test Error: bare <LF> received` after its end (the session goes
    /// on), and a command ending in a bare LF gets the same reply and the connection is closed.
    pub reject_newline_port: u16,
    /// Submission (STARTTLS required, AUTH) with XOAUTH2 and OAUTHBEARER only, checked by a second Dovecot
    /// against the test token service (see `oauth()`, which must be called before connecting: that Dovecot
    /// starts there).
    pub oauth_port: u16,
    conf: PathBuf,
}

/// The SASL user the submission listener accepts.
pub const SASL_USER: &str = "bob";
pub const SASL_PASSWORD: &str = "s3cret-Pa55w0rd!";

/// The test CA and certificates, in `dir`: ca.pem, valid.pem/valid.key, expired.pem/expired.key (Postfix's),
/// and for the MTA-STS policy servers (see `secure_dns`) mta-sts.pem/mta-sts.key (from the test CA, naming
/// every `mta-sts.DOMAIN` host served there) and mta-sts-wrong.pem/.key (from the test CA, naming another host).
fn make_certificates(dir: &Path) -> Result<(), String> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let err = |e: rcgen::Error| e.to_string();
    let day = |offset_days: i64| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let date = postie::message::utc_date(now + offset_days * 86_400);
        let parts: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
        rcgen::date_time_ymd(parts[0] as i32, parts[1] as u8, parts[2] as u8)
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "postie test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = day(-30);
    ca_params.not_after = day(3650);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(err)?).map_err(err)?;
    fs::write(dir.join("ca.pem"), ca.pem()).map_err(|e| e.to_string())?;
    let postfix_names: Vec<String> = ["mx.postie.test", "good.probe.test", "expired.probe.test", "127.0.0.1", "::1"]
        .into_iter()
        .chain(secure_dns::POSTFIX_CERTIFICATE_NAMES.iter().copied())
        .map(String::from)
        .collect();
    let policy_names: Vec<String> = secure_dns::MTA_STS_CERTIFICATE_NAMES.iter().map(|n| n.to_string()).collect();
    let wrong_names = vec![secure_dns::MTA_STS_WRONG_NAME.to_string()];
    for (name, names, not_before, not_after) in [
        ("valid", &postfix_names, -1, 90),
        ("expired", &postfix_names, -400, -3),
        ("mta-sts", &policy_names, -1, 90),
        ("mta-sts-wrong", &wrong_names, -1, 90),
    ] {
        let mut params = CertificateParams::new(names.clone()).map_err(err)?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.distinguished_name.push(DnType::CommonName, names[0].as_str());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = day(not_before);
        params.not_after = day(not_after);
        let key = KeyPair::generate().map_err(err)?;
        let certificate = params.signed_by(&key, &ca).map_err(err)?;
        // Postfix's valid certificate goes with its issuer, as RFC 7671 §5.2.2 asks of a server whose domain
        // publishes DANE-TA(2) records: the trust anchor must be in the chain the server sends.
        let pem = if name == "valid" { format!("{}{}", certificate.pem(), ca.pem()) } else { certificate.pem() };
        fs::write(dir.join(format!("{name}.pem")), pem).map_err(|e| e.to_string())?;
        fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Dovecot as Postfix's SASL server only (no mail protocols), with one passwd-file user.
fn start_dovecot(root: &Path) -> Result<PathBuf, String> {
    if !Path::new("/usr/sbin/dovecot").exists() {
        return Err("dovecot is not installed; run .ci/run (it installs the test peers)".into());
    }
    let dir = root.join("dovecot");
    fs::create_dir_all(dir.join("run")).map_err(|e| e.to_string())?;
    let socket = dir.join("auth");
    fs::write(dir.join("passwd"), format!("{SASL_USER}:{{PLAIN}}{SASL_PASSWORD}\n")).map_err(|e| e.to_string())?;
    let d = dir.display();
    let config = format!(
        "protocols =\nbase_dir = {d}/run\nstate_dir = {d}/run\nlog_path = {d}/dovecot.log\nssl = no\n\
         auth_mechanisms = plain login cram-md5\n\
         passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {d}/passwd\n}}\n\
         userdb {{\n  driver = static\n  args = uid=postfix gid=postfix home={d}\n}}\n\
         service auth {{\n  unix_listener {d}/auth {{\n    mode = 0666\n  }}\n}}\n"
    );
    fs::write(dir.join("dovecot.conf"), config).map_err(|e| e.to_string())?;
    let child = Command::new("/usr/sbin/dovecot")
        .arg("-F")
        .arg("-c")
        .arg(dir.join("dovecot.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("running dovecot: {e}"))?;
    // Its children too: Dovecot's master, signalled alone, always waits a second for them before it exits.
    stop_at_exit(Stop { pid: child.id() as i32, with_children: true });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        if Instant::now() > deadline {
            return Err(format!("dovecot did not create {}", socket.display()));
        }
        thread::sleep(Duration::from_millis(20));
    }
    Ok(socket)
}

static POSTFIX: OnceLock<Postfix> = OnceLock::new();
static DNS: OnceLock<DnsServer> = OnceLock::new();
/// Servers to stop when the test binary exits (pass or fail).
static CLEANUP: Mutex<Vec<Stop>> = Mutex::new(Vec::new());
/// This test binary's scratch directory, removed when it exits (pass or fail), once the servers have stopped.
static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

/// A server to stop at exit.
struct Stop {
    pid: i32,
    /// Signal its child processes together with it.
    with_children: bool,
}

fn stop_at_exit(stop: Stop) {
    clean_up_at_exit();
    CLEANUP.lock().unwrap().push(stop);
}

fn clean_up_at_exit() {
    static REGISTER: std::sync::Once = std::sync::Once::new();
    // SAFETY: registering a plain extern "C" function, once.
    REGISTER.call_once(|| unsafe {
        libc::atexit(clean_up);
    });
}

/// A directory for `name` (created, empty at first use) under this test binary's scratch directory,
/// `$TMPDIR/postie-test-PID`: the Postfix instance, its Maildir, certificates and the Dovecot directory, and
/// the tests' own input files. The exit handler removes the whole scratch directory.
pub fn scratch_dir(name: &str) -> PathBuf {
    let root = SCRATCH.get_or_init(|| {
        clean_up_at_exit();
        let root = std::env::temp_dir().join(format!("postie-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root); // left by an earlier binary that had this pid and was killed
        fs::create_dir_all(&root).unwrap_or_else(|e| panic!("creating {}: {e}", root.display()));
        // Postfix's delivery agent (user postfix) must get through it to the Maildir, whatever the umask.
        fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        root
    });
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// The exit handler: stop the servers, then remove the scratch directory.
extern "C" fn clean_up() {
    stop_servers();
    if let Some(root) = SCRATCH.get() {
        // Postfix's master is gone, but a child of it may still be writing its last log line: try again
        // until the directory is gone, for a little while.
        let deadline = Instant::now() + Duration::from_secs(5);
        while fs::remove_dir_all(root).is_err() && root.exists() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

fn stop_servers() {
    let Ok(mut servers) = CLEANUP.lock() else { return };
    let servers: Vec<Stop> = servers.drain(..).collect();
    for server in &servers {
        let children = if server.with_children { children_of(server.pid) } else { Vec::new() };
        // The parent first: Dovecot's master, seeing its children die before its own SIGTERM, starts new ones
        // and then waits for them (6 s in 4 of 8 trials); in this order it stopped within 110 ms in 25 of 25.
        for pid in [server.pid].into_iter().chain(children) {
            // SAFETY: signalling a pid we started (or its child); Postfix's master stops its children on SIGTERM.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }
    // All were signalled at once: they stop in parallel, and one deadline covers them all.
    let deadline = Instant::now() + Duration::from_secs(5);
    for server in &servers {
        while !has_exited(server.pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The state and parent pid from /proc/PID/stat: the fields after the command name in parentheses (which
/// may itself contain spaces and parentheses).
fn process_state(pid: i32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    Some((state, fields.next()?.parse().ok()?))
}

fn children_of(parent: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| process_state(pid).is_some_and(|(_, ppid)| ppid == parent))
        .collect()
}

/// Whether a server we signalled is gone. A zombie still answers `kill(pid, 0)`, so that is no test:
/// our own children (dnsmasq, Dovecot) are reaped here, and a process that is not our child (Postfix's
/// master daemonizes, so init is its parent, and init reaps slowly) counts as gone once it is a zombie.
fn has_exited(pid: i32) -> bool {
    let mut status = 0;
    // SAFETY: waitpid with WNOHANG on a pid; it only reaps our own child, and never blocks.
    match unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } {
        0 => return false, // our child, still running
        reaped if reaped == pid => return true,
        _ => {} // not our child (ECHILD)
    }
    // Gone, or a zombie waiting for init.
    process_state(pid).is_none_or(|(state, _)| matches!(state, 'Z' | 'X'))
}

/// The domains the test Postfix accepts mail for; the MX-routing tests use all but example.test.
pub const DOMAINS: &[&str] =
    &["example.test", "pref.test", "fallback.test", "implicit.test", "alias.test", "iplit.test", "dual.test"];

/// The users with a mailbox; anyone else at example.test gets 550 5.1.1. Other domains get 454 (relay
/// denied, temporary), which gives the tests a real temporary refusal.
pub const USERS: &[&str] = &["bob", "carol", "dave"];

/// Mailboxes for the tests that send 64 MiB messages (tests/e2e/memory.rs), one each, so that no other test
/// reads through their messages while it looks for its own.
pub const BIG_USERS: &[&str] = &["big-data", "big-stdin", "big-attach"];

pub fn postfix() -> &'static Postfix {
    POSTFIX.get_or_init(|| Postfix::start().unwrap_or_else(|e| panic!("cannot start the test Postfix: {e}")))
}

impl Postfix {
    fn start() -> Result<Postfix, String> {
        if !Path::new("/usr/sbin/postfix").exists() {
            return Err("postfix is not installed; run .ci/run (it installs the test peers)".into());
        }
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("the test Postfix needs root (postfix start drops privileges itself)".into());
        }
        let (uid, gid) = postfix_ids()?;
        let root = scratch_dir("postfix");
        let conf = root.join("conf");
        for dir in ["conf", "queue", "data", "meta", "mail", "log"] {
            fs::create_dir_all(root.join(dir)).map_err(|e| e.to_string())?;
        }
        for file in ["postfix-files", "dynamicmaps.cf"] {
            fs::copy(Path::new("/etc/postfix").join(file), root.join("meta").join(file)).map_err(|e| e.to_string())?;
        }
        chown(&root.join("data"), uid, gid)?;
        chown(&root.join("mail"), uid, gid)?;
        let certs = root.join("certs");
        fs::create_dir_all(&certs).map_err(|e| e.to_string())?;
        make_certificates(&certs)?;
        let sasl_socket = start_dovecot(&root)?;
        let port = free_port("127.0.0.1");
        let [starttls_port, expired_port, smtps_port, submission_port, plain_auth_port, small_port, bare_port] =
            std::array::from_fn(|_| free_port("127.0.0.1"));
        let probe_port = free_port("127.0.0.6");
        let [xclient_port, proxy_port, strict_newline_port, reject_newline_port, oauth_port] =
            std::array::from_fn(|_| free_port("127.0.0.1"));
        // Set explicitly where this Postfix knows it (the default may change with a security update), as
        // `no`, so that the plain listener keeps the old behaviour a client must not rely on. postconf says
        // nothing on stdout for a parameter it does not know (and exits 0).
        let bare_newline =
            if knows_parameter("smtpd_forbid_bare_newline")? { "smtpd_forbid_bare_newline = no\n" } else { "" };
        let r = root.display();
        let main_cf = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {r}/queue\n\
             data_directory = {r}/data\n\
             meta_directory = {r}/meta\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             myhostname = mx.postie.test\n\
             mydomain = postie.test\n\
             myorigin = postie.test\n\
             mydestination =\n\
             mynetworks =\n\
             inet_interfaces = loopback-only\n\
             inet_protocols = ipv4, ipv6\n\
             maillog_file = {r}/log/maillog\n\
             maillog_file_prefixes = {r}/log\n\
             smtpd_client_port_logging = yes\n\
             alias_maps =\n\
             alias_database =\n\
             local_recipient_maps =\n\
             virtual_mailbox_domains = {domains}\n\
             virtual_mailbox_base = {r}/mail\n\
             virtual_mailbox_maps = texthash:{r}/conf/vmailbox\n\
             virtual_uid_maps = static:{uid}\n\
             virtual_gid_maps = static:{gid}\n\
             virtual_minimum_uid = 1\n\
             default_transport = error\n\
             relay_transport = error\n\
             smtpd_error_sleep_time = 0\n\
             smtpd_soft_error_limit = 1000\n\
             smtpd_hard_error_limit = 1000\n\
             smtputf8_enable = yes\n\
             smtpd_tls_security_level = none\n\
             smtpd_tls_cert_file = {r}/certs/valid.pem\n\
             smtpd_tls_key_file = {r}/certs/valid.key\n\
             smtpd_sasl_type = dovecot\n\
             smtpd_sasl_path = {sasl}\n\
             smtpd_sasl_auth_enable = no\n\
             message_size_limit = 104857600\n\
             virtual_mailbox_limit = 0\n\
             {bare_newline}",
            sasl = sasl_socket.display(),
            domains = DOMAINS.iter().chain(secure_dns::MAIL_DOMAINS).copied().collect::<Vec<_>>().join(", ")
        );
        fs::write(conf.join("main.cf"), main_cf).map_err(|e| e.to_string())?;
        let mut mailboxes: String =
            DOMAINS.iter().flat_map(|d| USERS.iter().map(move |u| format!("{u}@{d} {u}/\n"))).collect();
        // The DANE and MTA-STS domains: the same users, and the TLS-RPT address (RFC 8460) their records name.
        mailboxes.extend(
            secure_dns::MAIL_DOMAINS
                .iter()
                .flat_map(|d| USERS.iter().chain(&[secure_dns::TLSRPT_USER]).map(move |u| format!("{u}@{d} {u}/\n"))),
        );
        // An internationalised mailbox (SMTPUTF8, RFC 6531).
        mailboxes.push_str("jörg@example.test jorg/\n");
        // One mailbox for each big-message test: finding a message reads every file in the folder.
        mailboxes.extend(BIG_USERS.iter().map(|u| format!("{u}@example.test {u}/\n")));
        fs::write(conf.join("vmailbox"), mailboxes).map_err(|e| e.to_string())?;
        let master_cf = format!(
            "127.0.0.1:{port} inet n - n - - smtpd\n\
             127.0.0.2:{port} inet n - n - - smtpd\n\
             [::1]:{port} inet n - n - - smtpd\n\
             127.0.0.1:{starttls_port} inet n - n - - smtpd -o smtpd_tls_security_level=may\n\
             127.0.0.2:{starttls_port} inet n - n - - smtpd -o smtpd_tls_security_level=may\n\
             [::1]:{starttls_port} inet n - n - - smtpd -o smtpd_tls_security_level=may\n\
             127.0.0.1:{expired_port} inet n - n - - smtpd -o smtpd_tls_security_level=may \
               -o smtpd_tls_cert_file={r}/certs/expired.pem -o smtpd_tls_key_file={r}/certs/expired.key\n\
             127.0.0.1:{smtps_port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes\n\
             127.0.0.1:{submission_port} inet n - n - - smtpd -o smtpd_tls_security_level=encrypt \
               -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes\n\
             127.0.0.1:{plain_auth_port} inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes\n\
             127.0.0.1:{small_port} inet n - n - - smtpd -o message_size_limit=2000\n\
             127.0.0.6:{probe_port} inet n - n - - smtpd -o smtpd_tls_security_level=may\n\
             127.0.0.7:{probe_port} inet n - n - - smtpd -o smtpd_tls_security_level=may \
               -o smtpd_tls_cert_file={r}/certs/expired.pem -o smtpd_tls_key_file={r}/certs/expired.key\n\
             127.0.0.1:{bare_port} inet n - n - - smtpd \
               -o smtpd_discard_ehlo_keywords=8bitmime,smtputf8,pipelining,chunking,dsn,size\n\
             127.0.0.1:{xclient_port} inet n - n - - smtpd -o smtpd_authorized_xclient_hosts=127.0.0.0/8 \
               -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=no\n\
             127.0.0.1:{proxy_port} inet n - n - - smtpd -o smtpd_upstream_proxy_protocol=haproxy \
               -o smtpd_peername_lookup=no -o smtpd_upstream_proxy_timeout=5s\n\
             127.0.0.1:{strict_newline_port} inet n - n - - smtpd -o smtpd_forbid_bare_newline=yes\n\
             127.0.0.1:{reject_newline_port} inet n - n - - smtpd -o smtpd_forbid_bare_newline=reject\n\
             127.0.0.1:{oauth_port} inet n - n - - smtpd -o smtpd_tls_security_level=encrypt \
               -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_sasl_path={oauth_sasl}\n\
             tlsmgr unix - - n 1000? 1 tlsmgr\n\
             pickup unix n - n 60 1 pickup\n\
             cleanup unix n - n - 0 cleanup\n\
             qmgr unix n - n 300 1 qmgr\n\
             rewrite unix - - n - - trivial-rewrite\n\
             bounce unix - - n - 0 bounce\n\
             defer unix - - n - 0 bounce\n\
             trace unix - - n - 0 bounce\n\
             verify unix - - n - 1 verify\n\
             flush unix n - n 1000? 0 flush\n\
             proxymap unix - - n - - proxymap\n\
             smtp unix - - n - - smtp\n\
             showq unix n - n - - showq\n\
             error unix - - n - - error\n\
             retry unix - - n - - error\n\
             discard unix - - n - - discard\n\
             virtual unix - n n - - virtual\n\
             anvil unix - - n - 1 anvil\n\
             scache unix - - n - 1 scache\n\
             postlog unix-dgram n - n - 1 postlogd\n",
            oauth_sasl = root.join("dovecot-oauth/auth").display()
        );
        fs::write(conf.join("master.cf"), master_cf).map_err(|e| e.to_string())?;

        // Detached stdio: the master process would otherwise hold the test runner's pipes open.
        let status = Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(&conf)
            .arg("start")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("running postfix: {e}"))?;
        let log = || fs::read_to_string(root.join("log/maillog")).unwrap_or_default();
        if !status.success() {
            return Err(format!("postfix start failed ({status}); its log:\n{}", log()));
        }
        let pid_file = root.join("queue/pid/master.pid");
        let pid: i32 = fs::read_to_string(&pid_file)
            .map_err(|e| format!("reading {}: {e}", pid_file.display()))?
            .trim()
            .parse()
            .map_err(|e| format!("master.pid: {e}"))?;
        stop_at_exit(Stop { pid, with_children: false });
        let postfix = Postfix {
            root,
            port,
            starttls_port,
            expired_port,
            smtps_port,
            submission_port,
            plain_auth_port,
            small_port,
            bare_port,
            probe_port,
            xclient_port,
            proxy_port,
            strict_newline_port,
            reject_newline_port,
            oauth_port,
            conf,
        };
        postfix.wait_until_listening()?;
        Ok(postfix)
    }

    fn wait_until_listening(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listeners = [
            ("127.0.0.1", self.port),
            ("127.0.0.2", self.port),
            ("::1", self.port),
            ("127.0.0.1", self.starttls_port),
            ("127.0.0.2", self.starttls_port),
            ("127.0.0.1", self.expired_port),
            ("127.0.0.1", self.smtps_port),
            ("127.0.0.1", self.submission_port),
            ("127.0.0.1", self.plain_auth_port),
            ("127.0.0.1", self.small_port),
            ("127.0.0.1", self.bare_port),
            ("127.0.0.6", self.probe_port),
            ("127.0.0.7", self.probe_port),
            ("127.0.0.1", self.xclient_port),
            // A connection without a PROXY header is fine here: smtpd sees the end of input and forgets it.
            ("127.0.0.1", self.proxy_port),
            ("127.0.0.1", self.strict_newline_port),
            ("127.0.0.1", self.reject_newline_port),
        ];
        for (ip, port) in listeners {
            let address = SocketAddr::new(ip.parse().unwrap(), port);
            while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
                if Instant::now() > deadline {
                    return Err(format!("Postfix does not listen on {address}"));
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// `127.0.0.1:PORT`, for --server.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A command line that speaks SMTP on its stdin and stdout and hands the message to this instance:
    /// Postfix's sendmail in `-bs` mode, which runs `smtpd -S` as the invoking user and queues through the
    /// setgid postdrop (there is no `postfix -c DIR sendmail`). `-C` names this instance's config directory,
    /// which sendmail trusts only from root, as the tests run. Words are separated by single spaces; no word
    /// contains one (the scratch directory's path has none).
    pub fn sendmail_pipe_command(&self) -> String {
        let conf = self.conf.display().to_string();
        assert!(!conf.contains(char::is_whitespace), "the Postfix config directory {conf:?} contains a space");
        format!("/usr/sbin/sendmail -C {conf} -bs")
    }

    /// Where the OAuth Dovecot lives; its SASL socket is `auth` there.
    fn oauth_dovecot_dir(&self) -> PathBuf {
        self.root.join("dovecot-oauth")
    }

    /// The test CA's certificate, for --ca-file.
    pub fn ca_file(&self) -> String {
        self.root.join("certs/ca.pem").display().to_string()
    }

    pub fn maillog(&self) -> String {
        fs::read_to_string(self.root.join("log/maillog")).unwrap_or_default()
    }

    /// Wait for the message containing `marker` in `user`'s Maildir (delivery is asynchronous: the 250
    /// after the final dot means queued) and return its bytes.
    pub fn delivered(&self, user: &str, marker: &str) -> Vec<u8> {
        wait_in_maildir(&self.new_folder(user), user, marker, || format!("maillog:\n{}", self.maillog()))
    }

    /// Remove what reached `user` (a big message, once checked).
    pub fn empty_mailbox(&self, user: &str) {
        for entry in fs::read_dir(self.new_folder(user)).into_iter().flatten().flatten() {
            let _ = fs::remove_file(entry.path());
        }
    }

    /// Where `user`'s new messages are.
    fn new_folder(&self, user: &str) -> PathBuf {
        self.root.join("mail").join(user).join("new")
    }

    /// Assert that `run` never started a message, from its own transcript (no DATA or BDAT, no content), and
    /// so that nothing with `marker` reached `user`: checked at once, since nothing can be on its way.
    pub fn assert_nothing_sent(&self, run: &Run, user: &str, marker: &str) {
        run.assert_sent_no_message();
        assert!(
            find_in_maildir(&self.new_folder(user), marker).is_none(),
            "a message with {marker:?} was delivered to {user}\n{run:?}"
        );
    }

    /// Assert that no message with `marker` reaches `user` from `run`, which got as far as DATA (or may
    /// have): first wait until Postfix is done with each of its sessions (see `wait_for_sessions`), so that
    /// a message it accepted would be in the Maildir by now.
    /// Assert that `run` never sent a command to any server (it stopped before connecting, or at TLS), so
    /// nothing with `marker` can have reached `user`: checked at once.
    pub fn assert_never_sent_anything(&self, run: &Run, user: &str, marker: &str) {
        let sent: Vec<String> =
            run.client_lines().into_iter().filter(|l| !l.starts_with("EHLO") && l != "STARTTLS").collect();
        assert!(sent.is_empty(), "postie sent {sent:?}\n{run:?}");
        assert!(
            find_in_maildir(&self.new_folder(user), marker).is_none(),
            "a message with {marker:?} was delivered to {user}\n{run:?}"
        );
    }

    pub fn assert_not_delivered(&self, run: &Run, user: &str, marker: &str) {
        self.wait_for_sessions(run);
        assert!(
            find_in_maildir(&self.new_folder(user), marker).is_none(),
            "a message with {marker:?} was delivered to {user}\n{run:?}"
        );
    }

    /// Wait until Postfix is done with every session of `run` (found by postie's local address, which
    /// Postfix logs with `smtpd_client_port_logging`): its smtpd logged the disconnect, and every queue file
    /// the session opened has left the queue, delivered or thrown away.
    pub fn wait_for_sessions(&self, run: &Run) {
        let clients = run.local_addresses();
        assert!(!clients.is_empty(), "postie's transcript shows no connection\n{run:?}");
        let deadline = Instant::now() + Duration::from_secs(10);
        for client in clients {
            // As Postfix logs the client: name[address]:port.
            let client = format!("[{}]:{}", client.ip(), client.port());
            let queue_ids = loop {
                let log = self.maillog();
                if let Some(queue_ids) = finished_session(&log, &client) {
                    break queue_ids;
                }
                assert!(
                    Instant::now() < deadline,
                    "Postfix logged no disconnect from {client} in 10 s\n{run:?}\n{log}"
                );
                thread::sleep(Duration::from_millis(10));
            };
            for id in queue_ids {
                while let Some(file) = self.queue_file(&id) {
                    assert!(
                        Instant::now() < deadline,
                        "{} is still in Postfix's queue after 10 s; maillog:\n{}",
                        file.display(),
                        self.maillog()
                    );
                    thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }

    /// The queue file named `id` in any of Postfix's queues (deferred and defer are hashed into subdirectories).
    fn queue_file(&self, id: &str) -> Option<PathBuf> {
        fn search(dir: &Path, id: &str) -> Option<PathBuf> {
            for entry in fs::read_dir(dir).ok()?.flatten() {
                let path = entry.path();
                if entry.file_name() == id {
                    return Some(path);
                }
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    if let Some(found) = search(&path, id) {
                        return Some(found);
                    }
                }
            }
            None
        }
        let queue = self.root.join("queue");
        ["maildrop", "incoming", "active", "deferred", "hold", "corrupt"]
            .iter()
            .find_map(|q| search(&queue.join(q), id))
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// In a maillog, the last session from `client` (`[address]:port`): `None` while it has not logged its
/// disconnect, then the queue ids it opened (`QUEUEID: client=name[address]:port`, at the first accepted RCPT).
fn finished_session(maillog: &str, client: &str) -> Option<Vec<String>> {
    // The client that follows `prefix` in `line`: `name[address]:port`, up to a space or comma.
    let is_client = |line: &str, prefix: &str| {
        line.split_once(prefix)
            .is_some_and(|(_, rest)| rest.split([' ', ',']).next().is_some_and(|token| token.ends_with(client)))
    };
    let lines: Vec<&str> = maillog.lines().collect();
    let start = lines.iter().rposition(|line| is_client(line, "]: connect from "))?;
    let mut queue_ids = Vec::new();
    for line in &lines[start..] {
        if is_client(line, "]: disconnect from ") {
            return Some(queue_ids);
        }
        if is_client(line, ": client=") {
            // "... postfix/smtpd[PID]: QUEUEID: client=..."
            let before = line.split_once(": client=").unwrap().0;
            queue_ids.extend(before.rsplit(": ").next().map(String::from));
        }
    }
    None
}

/// Whether the installed Postfix knows `parameter` (postconf prints its default value; for an unknown one it
/// prints nothing on stdout, a warning on stderr, and still exits 0).
fn knows_parameter(parameter: &str) -> Result<bool, String> {
    let output = Command::new("/usr/sbin/postconf")
        .arg("-d")
        .arg(parameter)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running postconf -d {parameter}: {e}"))?;
    Ok(String::from_utf8_lossy(&output.stdout).starts_with(&format!("{parameter} =")))
}

fn postfix_ids() -> Result<(u32, u32), String> {
    user_ids("postfix")
}

/// The uid and gid of the system user `name`, from /etc/passwd.
fn user_ids(name: &str) -> Result<(u32, u32), String> {
    let passwd = fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&name))
                .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))?
        })
        .ok_or_else(|| format!("no {name} user in /etc/passwd"))
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<(), String> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| format!("chown {}: {e}", path.display()))
}

/// Where scripts/test.sh unpacks Dovecot's LMTP server. It comes in Debian's dovecot-lmtpd, which is never
/// installed: installing it would upgrade dovecot-core under a running Dovecot.
const LMTP_BINARY: &str = "/opt/postie-peers/dovecot-lmtpd/usr/lib/dovecot/lmtp";

/// The users with a mailbox behind the LMTP server, at example.test. Anyone else gets
/// `550 5.1.1 <nobody@example.test> User doesn't exist: nobody@example.test` at RCPT.
pub const LMTP_USERS: &[&str] = &["alice", "bob"];

/// A real LMTP server (RFC 2033): a second Dovecot, from its own config directory, whose `lmtp` service
/// listens on 127.0.0.1:`port` and on the unix socket `socket` and delivers to Maildirs. Its greeting is
/// `220 lmtp.postie.test Dovecot (Debian) ready.`; LHLO offers 8BITMIME, CHUNKING, ENHANCEDSTATUSCODES and
/// PIPELINING. After the final dot it answers once per accepted recipient, in RCPT order
/// (`250 2.0.0 <alice@example.test> ID Saved`), and it delivers before answering.
pub struct Lmtp {
    pub root: PathBuf,
    pub port: u16,
    pub socket: PathBuf,
}

static LMTP: OnceLock<Lmtp> = OnceLock::new();

pub fn lmtp() -> &'static Lmtp {
    LMTP.get_or_init(|| Lmtp::start().unwrap_or_else(|e| panic!("cannot start the test LMTP server: {e}")))
}

impl Lmtp {
    fn start() -> Result<Lmtp, String> {
        if !Path::new("/usr/sbin/dovecot").exists() {
            return Err("dovecot is not installed; run .ci/run (it installs the test peers)".into());
        }
        if !Path::new(LMTP_BINARY).exists() {
            return Err(format!(
                "{LMTP_BINARY} is missing: run scripts/test.sh (it unpacks Debian's dovecot-lmtpd there, matching \
                 the installed dovecot-core)"
            ));
        }
        // Mail is stored as a system user that exists on every Debian machine; Dovecot refuses to store it as
        // root, and any uid below first_valid_uid (500 by default).
        let (uid, gid) = user_ids("mail")?;
        let root = scratch_dir("lmtp");
        fs::create_dir_all(root.join("run")).map_err(|e| e.to_string())?;
        fs::create_dir_all(root.join("mail")).map_err(|e| e.to_string())?;
        chown(&root.join("mail"), uid, gid)?;
        let r = root.display();
        // passwd-file lines: user:password:uid:gid:gecos:home:shell (no password: LMTP only looks users up).
        let users: String =
            LMTP_USERS.iter().map(|u| format!("{u}@example.test::{uid}:{gid}::{r}/mail/{u}::\n")).collect();
        fs::write(root.join("users"), users).map_err(|e| e.to_string())?;
        let port = free_port("127.0.0.1");
        let socket = root.join("lmtp.sock");
        let config = format!(
            "protocols = lmtp\n\
             listen = 127.0.0.1\n\
             hostname = lmtp.postie.test\n\
             base_dir = {r}/run\n\
             state_dir = {r}/run\n\
             log_path = {r}/dovecot.log\n\
             ssl = no\n\
             first_valid_uid = {uid}\n\
             mail_location = maildir:~/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = {r}/users\n}}\n\
             userdb {{\n  driver = passwd-file\n  args = {r}/users\n}}\n\
             service lmtp {{\n\
             \x20 executable = {LMTP_BINARY}\n\
             \x20 inet_listener lmtp {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
             \x20 unix_listener {socket} {{\n    mode = 0666\n  }}\n\
             }}\n",
            socket = socket.display()
        );
        fs::write(root.join("dovecot.conf"), config).map_err(|e| e.to_string())?;
        let child = Command::new("/usr/sbin/dovecot")
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("running dovecot: {e}"))?;
        // With its children, as for the SASL Dovecot.
        stop_at_exit(Stop { pid: child.id() as i32, with_children: true });
        let lmtp = Lmtp { root, port, socket };
        lmtp.wait_until_ready()?;
        Ok(lmtp)
    }

    /// Until the unix socket is there and a TCP connection gets the greeting. The master listens before it
    /// starts any lmtp process: only the greeting shows that the unpacked binary runs against the installed
    /// libraries.
    fn wait_until_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut last_error = String::new();
        while Instant::now() < deadline {
            if self.socket.exists() {
                match Self::greeting(address) {
                    Ok(line) if line.starts_with("220 ") => return Ok(()),
                    Ok(line) => last_error = format!("greeting {line:?}"),
                    Err(e) => last_error = e,
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "Dovecot's LMTP server does not greet on {address} (with {} there: {last_error}); if the lmtp binary \
             does not match dovecot-core's version, run scripts/test.sh again; dovecot.log:\n{}",
            self.socket.display(),
            self.log()
        ))
    }

    fn greeting(address: SocketAddr) -> Result<String, String> {
        let stream = TcpStream::connect_timeout(&address, Duration::from_millis(200)).map_err(|e| e.to_string())?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).map_err(|e| e.to_string())?;
        Ok(line)
    }

    /// `127.0.0.1:PORT`.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.root.join("dovecot.log")).unwrap_or_default()
    }

    /// Wait for the message containing `marker` in `user`'s Maildir and return its bytes. Dovecot stores a
    /// message before it answers the dot, so this finds it at once after a 250; it polls all the same, like
    /// `Postfix::delivered`.
    pub fn delivered(&self, user: &str, marker: &str) -> Vec<u8> {
        let new = self.root.join("mail").join(user).join("Maildir/new");
        wait_in_maildir(&new, user, marker, || format!("dovecot.log:\n{}", self.log()))
    }
}

/// Poll the Maildir folder `new` for a message containing `marker` and return its bytes; after 10 s, panic
/// with `context` (the server's log).
fn wait_in_maildir(new: &Path, user: &str, marker: &str, context: impl Fn() -> String) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = find_in_maildir(new, marker) {
            return found;
        }
        if Instant::now() > deadline {
            panic!("no message with {marker:?} reached {user}'s Maildir in 10 s; {}", context());
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The first message in the Maildir folder `new` that contains `marker`.
fn find_in_maildir(new: &Path, marker: &str) -> Option<Vec<u8>> {
    fs::read_dir(new).ok()?.flatten().find_map(|entry| {
        let bytes = fs::read(entry.path()).ok()?;
        contains(&bytes, marker.as_bytes()).then_some(bytes)
    })
}

/// The first Received header of a delivered message, unfolded.
pub fn first_received(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    let start = text.find("\nReceived: ").map(|i| i + 1).or_else(|| text.starts_with("Received: ").then_some(0));
    let start = start.unwrap_or_else(|| panic!("no Received header in {text}"));
    let mut header = String::new();
    for (i, line) in text[start..].lines().enumerate() {
        if i > 0 && !line.starts_with([' ', '\t']) {
            break;
        }
        header.push_str(line.trim_start());
        header.push(' ');
    }
    header.trim_end().to_string()
}

/// Split a Maildir file into Postfix's own trace headers (Return-Path, X-Original-To, Delivered-To,
/// Received, with their continuation lines) and the message as it arrived.
pub fn strip_trace_headers(delivered: &[u8]) -> &[u8] {
    let mut rest = delivered;
    loop {
        let line_end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1);
        let line = &rest[..line_end];
        let is_trace = ["Return-Path:", "X-Original-To:", "Delivered-To:", "Received:"]
            .iter()
            .any(|h| line.starts_with(h.as_bytes()));
        let is_continuation = line.first().is_some_and(|&b| b == b' ' || b == b'\t');
        if !(is_trace || is_continuation) || line.is_empty() {
            return rest;
        }
        rest = &rest[line_end..];
    }
}

/// postie looks up this machine's own name (getaddrinfo) for its default EHLO name. Tests may contact only
/// loopback addresses, so that lookup must be answered by /etc/hosts, never by the system's DNS server.
fn assert_host_name_is_local() {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length.
    unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    let name = std::ffi::CStr::from_bytes_until_nul(&buffer).unwrap().to_string_lossy().into_owned();
    let hosts = fs::read_to_string("/etc/hosts").unwrap_or_default();
    let listed = hosts
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .any(|line| line.split_whitespace().skip(1).any(|alias| alias.eq_ignore_ascii_case(&name)));
    assert!(
        name.contains('.') || listed,
        "this machine's name {name:?} is not in /etc/hosts: postie would ask the system DNS server for it, and \
         tests may only contact loopback; add it to /etc/hosts"
    );
}

/// The built `postie` binary, run with a clean environment.
pub struct Postie {
    command: Command,
    stdin: Option<Vec<u8>>,
    args: Vec<String>,
}

pub fn postie<I, S>(args: I) -> Postie
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    static LOOPBACK_ONLY: std::sync::Once = std::sync::Once::new();
    LOOPBACK_ONLY.call_once(assert_host_name_is_local);
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_string()).collect();
    let mut command = Command::new(env!("CARGO_BIN_EXE_postie"));
    command.env_clear().env("USER", "tester").env("TZ", "UTC").args(&args);
    Postie { command, stdin: None, args }
}

impl Postie {
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for arg in args {
            self.command.arg(arg.as_ref());
            self.args.push(arg.as_ref().to_string());
        }
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn run(mut self) -> Run {
        self.command.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("run postie");
        if let Some(bytes) = self.stdin.take() {
            let mut pipe = child.stdin.take().unwrap();
            thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let output = child.wait_with_output().expect("wait for postie");
        Run { args: self.args, output }
    }

    /// Run to the end under GNU time and also give postie's peak resident set size in KiB. Not wait4 from
    /// here: Linux carries the larger of the parent's memory at fork and the child's into the child's
    /// ru_maxrss across exec, and this test process holds big messages. time is a small process, so what it
    /// reads for its child (wait4) is postie's own peak.
    pub fn run_measuring_memory(self) -> (Run, u64) {
        assert!(Path::new("/usr/bin/time").exists(), "/usr/bin/time is missing: scripts/test.sh installs it (time)");
        let report = scratch_dir("rusage").join(marker("rusage"));
        fs::create_dir_all(report.parent().unwrap()).unwrap();
        let mut timed = Command::new("/usr/bin/time");
        timed.env_clear();
        for (key, value) in self.command.get_envs() {
            if let Some(value) = value {
                timed.env(key, value);
            }
        }
        timed.args(["-f", "%M", "-o"]).arg(&report).arg(env!("CARGO_BIN_EXE_postie")).args(&self.args);
        let run = Postie { command: timed, stdin: self.stdin, args: self.args }.run();
        let text = fs::read_to_string(&report).unwrap_or_default();
        let peak = text.lines().last().and_then(|l| l.trim().parse().ok());
        let peak = peak.unwrap_or_else(|| panic!("no peak memory from /usr/bin/time: {text:?}; {run:?}"));
        (run, peak)
    }
}

/// A finished run; its Debug shows everything, for failure messages.
pub struct Run {
    pub args: Vec<String>,
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The commands postie sent, as its transcript shows them (lines `C: ` and, under TLS, `C~ `).
    pub fn client_lines(&self) -> Vec<String> {
        let stdout = self.stdout();
        stdout
            .lines()
            .filter_map(|line| line.strip_prefix("C: ").or_else(|| line.strip_prefix("C~ ")))
            .map(String::from)
            .collect()
    }

    /// Postie's own addresses, from its transcript (`* connected to SERVER from LOCAL`), one per connection.
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        let stdout = self.stdout();
        stdout
            .lines()
            .filter_map(|line| line.strip_prefix("* connected to ")?.split_once(" from ")?.1.parse().ok())
            .collect()
    }

    /// Assert from postie's transcript that it talked to a server but never started a message: no DATA or
    /// BDAT command and no content. A run without a transcript (-q) cannot show that, and fails.
    pub fn assert_sent_no_message(&self) {
        let commands = self.client_lines();
        assert!(!commands.is_empty(), "no transcript to check: postie sent no command\n{self:?}");
        let started = commands.iter().find(|line| {
            let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
            verb == "DATA" || verb == "BDAT" || line.starts_with("<message:")
        });
        assert!(started.is_none(), "postie started a message: {started:?}\n{self:?}");
    }

    /// Assert the exit code, showing the whole run when it differs.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(self.code(), code, "unexpected exit code\n{self:?}");
        self
    }
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "postie {:?}\nstatus: {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.args,
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }
}

/// How long a scripted server waits for postie to connect, and then for each line or write, before it fails
/// the test: a regression that leaves postie silent must fail, not hang the test run.
const SCRIPT_PATIENCE: Duration = Duration::from_secs(20);

/// A scripted SMTP server for misbehaviour: it runs `script` on the first connection, in a thread. If postie
/// does not connect, or goes silent while the script waits for a line, the script panics with a message that
/// says so, and `received()` fails the test with it.
pub struct FakeServer {
    pub address: SocketAddr,
    handle: Option<thread::JoinHandle<Vec<String>>>,
}

pub struct Peer {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// Lines the client sent.
    pub received: Vec<String>,
}

impl Peer {
    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
    }

    /// Read one line from the client (without CRLF); `None` when the client closed the connection. Panics
    /// when the client sends nothing for `SCRIPT_PATIENCE`.
    pub fn next_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => None,
            Err(e) if is_timeout(&e) => panic!(
                "postie sent nothing for {SCRIPT_PATIENCE:?} while it waited for a line (partial line {line:?}; it had sent {:?})",
                self.received
            ),
            Err(_) => None,
            Ok(_) => {
                let line = line.trim_end_matches(['\r', '\n']).to_string();
                self.received.push(line.clone());
                Some(line)
            }
        }
    }

    /// Read one line; empty when the client closed.
    pub fn line(&mut self) -> String {
        self.next_line().unwrap_or_default()
    }

    /// Read lines until one equals `end` (such as "." after DATA) or the client closes.
    pub fn until(&mut self, end: &str) {
        while let Some(line) = self.next_line() {
            if line == end {
                return;
            }
        }
    }

    /// Answer one command: read its line, send the reply.
    pub fn reply(&mut self, reply: &str) -> String {
        let line = self.line();
        self.send(reply.as_bytes());
        line
    }

    /// Accept one message for one recipient: MAIL and RCPT get 250, DATA gets 354, the content is read up to
    /// the final dot and answered with `final_reply`, then QUIT gets 221.
    pub fn accept_message(&mut self, final_reply: &str) {
        self.reply("250 ok\r\n");
        self.reply("250 ok\r\n");
        self.reply("354 go\r\n");
        self.until(".");
        self.send(final_reply.as_bytes());
        self.reply("221 bye\r\n");
    }

    /// Everything the client sends until it closes. Panics when the client neither sends nor closes for
    /// `SCRIPT_PATIENCE`.
    pub fn drain(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Err(e) if is_timeout(&e) => panic!(
                "postie neither sent anything nor closed the connection for {SCRIPT_PATIENCE:?} \
                 (it had sent {:?}, then {:?})",
                self.received,
                String::from_utf8_lossy(&rest)
            ),
            _ => rest,
        }
    }
}

/// A read timeout: `WouldBlock` on Unix (EAGAIN), `TimedOut` elsewhere.
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
}

/// The first connection to `listener` within `patience`: poll(2) waits for it, so a client that never
/// connects fails the test instead of blocking accept() forever.
fn accept_within(listener: &TcpListener, patience: Duration) -> Result<TcpStream, String> {
    use std::os::fd::AsRawFd;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + patience;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("accept on {address}: {e}")),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("postie did not connect to the scripted server on {address} within {patience:?}"));
        }
        let mut fd = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd for a socket we own; it waits at most until the deadline (EINTR just loops).
        unsafe { libc::poll(&mut fd, 1, left.as_millis().clamp(1, i32::MAX as u128) as i32) };
    }
}

impl FakeServer {
    pub fn start(script: impl FnOnce(&mut Peer) + Send + 'static) -> FakeServer {
        Self::start_on("127.0.0.1:0".parse().unwrap(), script)
    }

    /// On a given address (for MX tests, where every host shares one port).
    pub fn start_on(address: SocketAddr, script: impl FnOnce(&mut Peer) + Send + 'static) -> FakeServer {
        let listener = TcpListener::bind(address).unwrap_or_else(|e| panic!("bind {address}: {e}"));
        let address = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let stream = accept_within(&listener, SCRIPT_PATIENCE).unwrap_or_else(|e| panic!("{e}"));
            drop(listener); // free the address for the next test at once
            stream.set_read_timeout(Some(SCRIPT_PATIENCE)).unwrap();
            stream.set_write_timeout(Some(SCRIPT_PATIENCE)).unwrap();
            let mut peer =
                Peer { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream, received: Vec::new() };
            script(&mut peer);
            peer.received
        });
        FakeServer { address, handle: Some(handle) }
    }

    pub fn server(&self) -> String {
        self.address.to_string()
    }

    /// The lines the client sent, once the script has finished; fails the test with the script's own message
    /// when it panicked (postie never connected, went silent, or an assertion in the script failed).
    pub fn received(mut self) -> Vec<String> {
        match self.handle.take().unwrap().join() {
            Ok(received) => received,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                panic!("the scripted server failed: {message}")
            }
        }
    }
}

/// A listener that must never see a connection: for "nothing is sent when the input is refused".
pub struct Tripwire {
    listener: TcpListener,
}

impl Tripwire {
    pub fn new() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Tripwire { listener }
    }

    pub fn server(&self) -> String {
        self.listener.local_addr().unwrap().to_string()
    }

    pub fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok((_, from)) => {
                panic!("postie connected (from {from}) although its input was refused")
            }
            Err(e) => panic!("tripwire: {e}"),
        }
    }
}

/// Replace what changes from run to run (ports, queue ids, sizes that include dates) with fixed words.
pub fn normalise(transcript: &str, replacements: &[(&str, &str)]) -> String {
    let mut text = transcript.to_string();
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    text.lines()
        .map(|line| {
            let mut line = line.to_string();
            if let Some(at) = line.find("queued as ") {
                line.replace_range(at + "queued as ".len().., "QUEUEID");
            }
            if let Some(at) = line.find(" from 127.0.0.1:") {
                line.replace_range(at + " from 127.0.0.1:".len().., "PORT");
            }
            line + "\n"
        })
        .collect()
}

/// Compare with a committed snapshot; `UPDATE_SNAPSHOTS=1` rewrites it instead.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_SNAPSHOTS=1 to create it)", path.display()));
    assert_eq!(actual, expected, "transcript differs from {}", path.display());
}

/// A rustls server configuration from a PEM certificate chain and key: the test HTTPS servers' (token service,
/// MTA-STS policy hosts).
pub fn tls_server_config(cert: &Path, key: &Path) -> Result<std::sync::Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    Ok(std::sync::Arc::new(config))
}
