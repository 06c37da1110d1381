//! The command line, as clap derive types. Nothing below `app` sees these: `app` turns them into a plan.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::error::exit_code_table;

mod layers;
mod sendmail;
pub use layers::{Failure, Origins, Row};

/// The type and name given for one --attach by the --attach-type and --attach-name that follow it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachExtras {
    pub content_type: Option<String>,
    pub name: Option<String>,
}

/// Parse the command line, with the config file's settings added as flags where the user gave none (see
/// [`layers`]); for `send`, also note which --attach each --attach-type and --attach-name follows (the derive
/// API does not keep argument positions).
pub fn parse() -> Result<Cli, Failure> {
    parse_from(std::env::args_os().collect())
}

pub fn parse_from(argv: Vec<std::ffi::OsString>) -> Result<Cli, Failure> {
    use clap::{CommandFactory, FromArgMatches};
    let command = Cli::command();
    let argv = if sendmail::is_sendmail(&argv) { sendmail::translate(&argv).map_err(Failure::Usage)? } else { argv };
    let (argv, layers) = layers::apply(&command, argv)?;
    let matches = command.clone().try_get_matches_from(argv)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (Command::Send(args), Some(("send", send))) = (&mut cli.command, matches.subcommand()) {
        args.attach_order = Some(attach_order(send));
    }
    // Only `config check` shows where each setting came from.
    if matches.subcommand_name() == Some("config") {
        cli.layers = Some(Origins::of(layers, &command, &matches));
    }
    Ok(cli)
}

fn attach_order(matches: &clap::ArgMatches) -> Result<Vec<AttachExtras>, String> {
    let positions = |id: &str| -> Vec<usize> { matches.indices_of(id).map(Iterator::collect).unwrap_or_default() };
    let attaches = positions("attach");
    let mut extras = vec![AttachExtras::default(); attaches.len()];
    for (id, flag) in [("attach_type", "--attach-type"), ("attach_name", "--attach-name")] {
        let values: Vec<&String> = matches.get_many::<String>(id).map(Iterator::collect).unwrap_or_default();
        for (value, at) in values.into_iter().zip(positions(id)) {
            let Some(owner) = attaches.iter().rposition(|&a| a < at) else {
                return Err(format!("{flag} {value:?} comes before any --attach: give it after the file it describes"));
            };
            let slot = if id == "attach_type" { &mut extras[owner].content_type } else { &mut extras[owner].name };
            if slot.is_some() {
                return Err(format!("two {flag} for one --attach: give one after each file"));
            }
            *slot = Some(value.clone());
        }
    }
    Ok(extras)
}

#[derive(Debug, Parser)]
#[command(
    name = "postie",
    version,
    about = "Send mail and show, line by line, what an SMTP server says",
    after_help = exit_code_table(),
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// What the config file gave, and where every other setting came from (for `config check`).
    #[arg(skip)]
    pub layers: Option<Origins>,
}

/// The config file and the account a run used.
#[derive(Debug, Args, Default, Clone)]
pub struct AccountArgs {
    /// Use this account of the config file [default: the one whose `from` is --from, else default-account].
    #[arg(short = 'a', long, env = "POSTIE_ACCOUNT", value_name = "NAME", help_heading = "Config")]
    pub account: Option<String>,

    /// Read this config file [default: $POSTIE_CONFIG, else $XDG_CONFIG_HOME/postie/config.toml, else
    /// ~/.config/postie/config.toml].
    #[arg(long, value_name = "PATH", help_heading = "Config")]
    pub config: Option<PathBuf>,

    /// Read no config file.
    #[arg(long, conflicts_with = "config", help_heading = "Config")]
    pub no_config: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a message through an SMTP server and print the whole dialogue.
    #[command(
        after_help = exit_code_table(),
        after_long_help = format!("Examples:\n{SEND_EXAMPLES}\n{}\n{JSON_SCHEMA}", exit_code_table())
    )]
    Send(Box<SendArgs>),
    /// Show where mail for each domain goes (MX hosts and their addresses) without sending any.
    #[command(after_help = MX_EXIT_CODES, after_long_help = format!("Examples:\n{MX_EXAMPLES}\n{MX_EXIT_CODES}"))]
    Mx(MxArgs),
    /// Probe every mail server of a domain (or one host) in parallel and report what each says; sends no mail.
    ///
    /// For each address: connect and greeting times, reverse DNS, capabilities, TLS and certificate, and with
    /// --rcpt whether the recipient is accepted.
    #[command(after_help = PROBE_EXIT_CODES, after_long_help = format!("Examples:\n{PROBE_EXAMPLES}\n{PROBE_EXIT_CODES}"))]
    Probe(ProbeArgs),
    /// Talk to a server yourself: type SMTP commands and see every reply (or pipe them in, one per line).
    ///
    /// STARTTLS runs the handshake; AUTH PLAIN, AUTH LOGIN and AUTH CRAM-MD5 without arguments ask for the user
    /// and password and send them encoded (redacted on screen); DATA takes the message until a lone "." (or
    /// DATA < FILE sends a file); EHLO shows the capabilities explained. Local commands start with a colon:
    /// :help, :explain CODE, :quit. Ctrl-D sends QUIT.
    #[command(after_help = TALK_EXIT_CODES, after_long_help = format!("Examples:\n{TALK_EXAMPLES}\n{TALK_EXIT_CODES}"))]
    Talk(Box<TalkArgs>),
    /// Run a scripted dialogue (see docs/script.md): exit 0 when every expectation holds, 1 at the first that
    /// fails.
    #[command(after_help = SCRIPT_EXIT_CODES, after_long_help = format!("{SCRIPT_LANGUAGE}\nExamples:\n{SCRIPT_EXAMPLES}\n{SCRIPT_EXIT_CODES}"))]
    Script(Box<ScriptArgs>),
    /// Test a server for SMTP smuggling: send each end-of-data variant of the 2023 research in one DATA,
    /// followed by a smuggled transaction, and report which variants the server treats as the end.
    ///
    /// Only for servers you are responsible for: it sends real messages to the recipient you give.
    #[command(after_help = SMUGGLE_EXIT_CODES, after_long_help = format!("Examples:\n{SMUGGLE_EXAMPLES}\n{SMUGGLE_EXIT_CODES}"))]
    Smuggle(Box<SmuggleArgs>),
    /// Send many messages to one server and measure it: messages per second and each step's latency
    /// (a load test, as smtp-source does, with pipelining, TLS, AUTH and latency percentiles).
    #[command(after_long_help = LOAD_HELP)]
    Load(Box<LoadArgs>),
    /// Be a local SMTP server for testing senders: show every session and message as it arrives, store them
    /// if asked, and misbehave on cue (--reply, --delay, --drop). Nothing is ever relayed.
    #[command(after_help = CATCH_EXIT_CODES, after_long_help = format!("{CATCH_FAULTS}\nExamples:\n{CATCH_EXAMPLES}\n{CATCH_EXIT_CODES}"))]
    Catch(Box<CatchArgs>),
    /// Be sendmail for cron and the programs that call it: read a message on stdin and deliver it with the
    /// account of the config file, printing nothing on success (also run as a `sendmail` symlink to postie).
    #[command(after_long_help = SENDMAIL_HELP)]
    Sendmail(SendmailArgs),
    /// The config file: check it and show where each setting comes from.
    #[command(after_long_help = CONFIG_HELP)]
    Config(ConfigArgs),
    /// OAuth 2.0 for XOAUTH2 and OAUTHBEARER: `postie oauth login` gets a refresh token.
    Oauth(OauthCommandArgs),
    /// Write shell completions and man pages generated from this definition (for packagers).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// `postie load`: how many messages, how fast, over how many sessions; and everything `send` takes.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Send this many messages [default: 100, unless --duration is given].
    #[arg(long, value_name = "N", value_parser = parse_count, help_heading = "Load")]
    pub count: Option<u64>,

    /// Send for this long: 30s, 5m, 1h (at most 24h); with --count, whichever ends first.
    #[arg(long, value_name = "TIME", value_parser = parse_duration, help_heading = "Load")]
    pub duration: Option<Duration>,

    /// Sessions at once, each in its own thread.
    #[arg(long, short = 'c', value_name = "N", default_value = "1", value_parser = parse_concurrency, help_heading = "Load")]
    pub concurrency: u32,

    /// Messages per session, with RSET between them; 1 opens a new connection for each message.
    #[arg(long, value_name = "M", default_value = "1", value_parser = parse_per_connection, help_heading = "Load")]
    pub per_connection: u32,

    /// An open loop: start messages at this rate (R, R/s or R/m), whatever the server does; each message's
    /// latency counts from when it was due, so a slow server shows as latency, not as a lower rate.
    #[arg(long, value_name = "R/s", value_parser = parse_rate, help_heading = "Load")]
    pub rate: Option<f64>,

    /// Pad the built-in message to this many bytes.
    #[arg(long, value_name = "BYTES", value_parser = parse_size, help_heading = "Load")]
    pub size: Option<u64>,

    /// Go on through this many refused or failed messages (exit 0); stop at the next one (exit 1)
    /// [default: run to the end; exit 1 if any message was not accepted].
    #[arg(long, value_name = "N", help_heading = "Load")]
    pub max_errors: Option<u64>,

    #[command(flatten)]
    pub send: SendArgs,
}

const LOAD_HELP: &str = "\
Examples:
  postie load --server 127.0.0.1:2525 --to sink@example.test --count 20000 -c 4
  postie load --server mail.example.test:587 --user bob --password-env PW --to bob@example.test \\
      --rate 50/s --duration 1m --per-connection 10 --json

Each message carries an X-Postie-Load: RUN/SEQ header, so deliveries can be counted at the far end.
The report: messages, accepted, refused (by reply code), failed (by cause), messages/s, and for each
step (connect, greeting, ehlo, tls, auth, mail-to-data, end-of-data, message) min/p50/p90/p99/p99.9/max;
--json prints it as one object. Ctrl-C stops cleanly and prints the report so far.
Exit: 0 when every message was accepted (or errors stayed within --max-errors), 1 otherwise, 64 bad flags.";

fn parse_count(text: &str) -> Result<u64, String> {
    let count: u64 = text.parse().map_err(|_| format!("{text:?} is not a whole number"))?;
    match count {
        0 => Err("it must be at least 1".into()),
        1..=100_000_000 => Ok(count),
        _ => Err("it must be at most 100000000".into()),
    }
}

fn parse_concurrency(text: &str) -> Result<u32, String> {
    let count: u32 = text.parse().map_err(|_| format!("{text:?} is not a whole number"))?;
    match count {
        0 => Err("it must be at least 1 session".into()),
        1..=1000 => Ok(count),
        _ => Err("it must be at most 1000 sessions".into()),
    }
}

fn parse_per_connection(text: &str) -> Result<u32, String> {
    let count: u32 = text.parse().map_err(|_| format!("{text:?} is not a whole number"))?;
    match count {
        0 => Err("it must be at least 1 message".into()),
        _ => Ok(count),
    }
}

/// `30s`, `5m`, `1h`, `500ms` or a number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration: give e.g. 30s, 5m or 1h");
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(bad()),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err("it must be more than 0".into());
    }
    if seconds > 86_400.0 {
        return Err("it must be at most 24h".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `50`, `50/s` or `3000/m`: messages per second.
fn parse_rate(text: &str) -> Result<f64, String> {
    let (number, per) = text.split_once('/').unwrap_or((text, "s"));
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?} is not a rate: give e.g. 50/s or 3000/m"))?;
    let per_second = match per {
        "s" => value,
        "m" | "min" => value / 60.0,
        _ => return Err(format!("{text:?} is not a rate: give e.g. 50/s or 3000/m")),
    };
    if !(per_second.is_finite() && per_second > 0.0) {
        return Err("it must be more than 0".into());
    }
    if per_second > 1_000_000.0 {
        return Err("it must be at most 1000000/s".into());
    }
    Ok(per_second)
}

fn parse_size(text: &str) -> Result<u64, String> {
    let size: u64 = text.parse().map_err(|_| format!("{text:?} is not a number of bytes"))?;
    if size > 1 << 30 {
        return Err("it must be at most 1073741824 (1 GiB)".into());
    }
    Ok(size)
}

/// sendmail's flags; `postie sendmail` reads them itself (see `cli/sendmail.rs`), this is their help.
#[derive(Debug, Args)]
pub struct SendmailArgs {
    /// sendmail's flags and the recipients: -t (recipients from the To, Cc and Bcc headers; implied when no
    /// recipient is given), -f ADDRESS (-r), -F NAME, -i, -oi, -v (show the dialogue), -a NAME (the account),
    /// -N, -R, -V (DSN), and, accepted and ignored: -bm, -od*, -oe*, -e*, -B, -h, -L.
    #[arg(value_name = "FLAGS AND RECIPIENTS", trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

const SENDMAIL_HELP: &str = "\
Refused, with the reason: -bs (use postie talk), -bp and -q (postie has no queue), -bi, -bd, -C.

Install as a drop-in:  ln -s \"$(command -v postie)\" /usr/local/sbin/sendmail
Cron calls it as:      sendmail -FCronDaemon -i -B8BITMIME -oem USER
Exit codes are send's (sysexits): 0 sent, 75 try again later, 69 refused, 64 bad flags, 78 bad config.";

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Check the config file (unknown keys, wrong types, a missing account, each with FILE:LINE) and print the
    /// settings `postie send` would use with these flags, each with its origin: flag, environment, account or
    /// [defaults]. Passwords are shown as <redacted>.
    Check(Box<SendArgs>),
}

/// The config file's format, for `postie config --help`.
const CONFIG_HELP: &str = "\
The config file (TOML) has [defaults] and [account.NAME] sections whose keys are the long flags' names:

  default-account = \"work\"

  [defaults]
  helo = \"laptop.example.org\"

  [account.work]
  from = \"Me <me@work.example>\"
  server = \"smtp.work.example:587\"
  user = \"me@work.example\"
  password = \"command:pass show mail/work\"     # or env:NAME, file:PATH; a literal only with chmod 600

  [account.alerts]
  extends = \"work\"
  from = \"alerts@work.example\"

Precedence: flags, then the environment (POSTIE_SERVER, POSTIE_FROM, POSTIE_USER, POSTIE_ACCOUNT), then the
account (-a NAME, else the one whose from matches --from, else default-account) and those it extends, then
[defaults].";

#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// Recipients, as with --to.
    #[arg(value_name = "RECIPIENT")]
    pub recipients: Vec<String>,

    /// Send through this server, HOST[:PORT] ([ADDRESS]:PORT for IPv6), instead of each recipient domain's MX.
    /// Also smtp://HOST[:PORT], and smtps://HOST[:PORT] for implicit TLS (port 465), as curl writes them.
    #[arg(long, short = 's', env = "POSTIE_SERVER", value_name = "HOST[:PORT]", help_heading = "Connection")]
    pub server: Option<String>,

    /// One deadline for the whole run, across every MX host and address: give up (exit 75) when it passes.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, help_heading = "Connection")]
    pub max_time: Option<Duration>,

    /// Connect to ADDRESS for --server HOST on PORT, without looking HOST up (repeatable; curl's --resolve).
    #[arg(long, value_name = "HOST:PORT:ADDRESS", help_heading = "Connection")]
    pub resolve: Vec<String>,

    #[command(flatten)]
    pub route: RouteArgs,

    #[command(flatten)]
    pub proxy: ProxyArgs,

    #[command(flatten)]
    pub tls: TlsArgs,

    #[command(flatten)]
    pub auth: AuthArgs,

    /// The name to give in EHLO/HELO [default: this machine's fully qualified name, or an address literal].
    #[arg(long, visible_alias = "ehlo", value_name = "NAME", help_heading = "Connection")]
    pub helo: Option<String>,

    /// Wait at most this long for each reply, instead of RFC 5321's per-step limits (5 min, 10 min at the end).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, help_heading = "Connection")]
    pub timeout: Option<Duration>,

    /// The sender, for the envelope and the From header: ADDRESS or 'Name <ADDRESS>'. '' means the null sender.
    #[arg(long, short = 'f', env = "POSTIE_FROM", value_name = "ADDRESS", help_heading = "Envelope")]
    pub from: Option<String>,

    /// Use the null reverse-path MAIL FROM:<> (as bounces do).
    #[arg(long, help_heading = "Envelope")]
    pub null_sender: bool,

    /// A recipient (repeatable): ADDRESS or 'Name <ADDRESS>'.
    #[arg(long, value_name = "ADDRESS", help_heading = "Envelope")]
    pub to: Vec<String>,

    /// A copy recipient (repeatable), listed in the Cc header.
    #[arg(long, value_name = "ADDRESS", help_heading = "Envelope")]
    pub cc: Vec<String>,

    /// A blind copy recipient (repeatable): gets the message, never appears in it.
    #[arg(long, value_name = "ADDRESS", help_heading = "Envelope")]
    pub bcc: Vec<String>,

    /// The Subject header [default: "test" and the date].
    #[arg(long, value_name = "TEXT", help_heading = "Message")]
    pub subject: Option<String>,

    /// The body text, or @FILE to read it from FILE (@- for stdin), as curl's -d does [default: stdin when it
    /// is not a terminal, else a one-line test body].
    #[arg(long, value_name = "TEXT", conflicts_with = "body_file", help_heading = "Message")]
    pub body: Option<String>,

    /// Read the body from a file ('-' for stdin).
    #[arg(long, value_name = "PATH", help_heading = "Message")]
    pub body_file: Option<PathBuf>,

    /// Add a header, 'Name: value' (repeatable); it replaces a generated header of the same name.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE", help_heading = "Message")]
    pub headers: Vec<String>,

    /// An HTML body, sent beside the text body as multipart/alternative.
    #[arg(long, value_name = "HTML", conflicts_with = "html_file", help_heading = "Message")]
    pub html: Option<String>,

    /// Read the HTML body from a file ('-' for stdin).
    #[arg(long, value_name = "PATH", help_heading = "Message")]
    pub html_file: Option<PathBuf>,

    /// Attach a file (repeatable; '-' for stdin). Its type is guessed from the name; give it with the file as
    /// curl's -F does: --attach 'q3.pdf;type=application/pdf;name=Q3 report.pdf'.
    #[arg(long, value_name = "PATH", help_heading = "Message")]
    pub attach: Vec<PathBuf>,

    /// The MIME type of the --attach it follows.
    #[arg(long, value_name = "TYPE", help_heading = "Message")]
    pub attach_type: Vec<String>,

    /// The file name shown for the --attach it follows.
    #[arg(long, value_name = "NAME", help_heading = "Message")]
    pub attach_name: Vec<String>,

    /// Which --attach each --attach-type and --attach-name follows on the command line (filled in by
    /// [`parse`]); a problem with their order, in words.
    #[arg(skip)]
    pub attach_order: Option<Result<Vec<AttachExtras>, String>>,

    /// A Reply-To address (repeatable).
    #[arg(long, value_name = "ADDRESS", help_heading = "Message")]
    pub reply_to: Vec<String>,

    /// Send this complete RFC 5322 message as it is ('-' for stdin), instead of building one.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with_all = ["subject", "body", "body_file", "headers", "html", "html_file", "attach", "reply_to"],
        help_heading = "Message"
    )]
    pub data: Option<PathBuf>,

    /// sendmail -t: take the recipients from the To, Cc and Bcc headers of the complete message on stdin (or
    /// --data), and remove the Bcc header before sending.
    #[arg(
        short = 't',
        long,
        conflicts_with_all = ["subject", "body", "body_file", "headers", "html", "html_file", "attach", "reply_to"],
        help_heading = "Message"
    )]
    pub read_recipients: bool,

    /// Accepted for sendmail compatibility (-i, -oi): a line with a lone dot never ends postie's message.
    #[arg(short = 'i', hide = true)]
    pub ignore_dots: bool,

    /// Set by `postie sendmail`: complete the message's headers as sendmail does (Date, Message-ID, From).
    #[arg(long, hide = true)]
    pub sendmail: bool,

    /// Set by `postie sendmail -F NAME`: the full name for a sender that has none.
    #[arg(long, hide = true, value_name = "NAME")]
    pub sendmail_full_name: Option<String>,

    /// Accepted for sendmail compatibility: -oi.
    #[arg(ignore_case = true, short = 'o', value_name = "OPTION", value_parser = ["i"], hide = true)]
    pub sendmail_option: Vec<String>,

    /// DSN (RFC 3461): when to report delivery, "never" or a comma list of success, failure, delay.
    #[arg(long, value_name = "WHEN", help_heading = "Extensions")]
    pub notify: Option<String>,

    /// DSN: return the full message or only its headers in a bounce.
    #[arg(ignore_case = true, long, value_name = "WHAT", value_parser = ["full", "hdrs"], help_heading = "Extensions")]
    pub ret: Option<String>,

    /// DSN: an envelope identifier to find in reports.
    #[arg(long, value_name = "ID", help_heading = "Extensions")]
    pub envid: Option<String>,

    /// Send commands one at a time even when the server offers PIPELINING.
    #[arg(long, help_heading = "Extensions")]
    pub no_pipelining: bool,

    /// Send the message with BDAT (RFC 3030 CHUNKING) instead of DATA when the server offers it.
    #[arg(long, help_heading = "Extensions")]
    pub bdat: bool,

    /// Print the message that would be sent (the envelope goes to stderr) and send nothing.
    #[arg(long, help_heading = "Output")]
    pub dump: bool,

    /// Print every line of the message in the transcript, not only its size.
    #[arg(long, help_heading = "Output")]
    pub show_data: bool,

    /// Print nothing when every recipient accepted the message; errors still go to stderr.
    #[arg(long, short = 'q', help_heading = "Output")]
    pub quiet: bool,

    /// End the session with QUIT after this step: connect, banner, ehlo, tls, auth, mail, rcpt
    /// (`--quit-after rcpt -q; echo $?` tells whether an address is accepted).
    #[arg(ignore_case = true, long, value_enum, value_name = "STEP", help_heading = "Control")]
    pub quit_after: Option<StepArg>,

    /// Close the connection without QUIT after this step (the same steps, and data: after the 354).
    #[arg(
        ignore_case = true,
        long,
        value_enum,
        value_name = "STEP",
        conflicts_with = "quit_after",
        help_heading = "Control"
    )]
    pub drop_after: Option<StepArg>,

    #[command(flatten)]
    pub protocol: ProtocolArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub account: AccountArgs,
}

/// The protocol variants swaks speaks: LMTP, a pipe to a command, XCLIENT and the PROXY protocol.
#[derive(Debug, Clone, Args, Default)]
pub struct ProtocolArgs {
    /// Speak LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the message [port default 24].
    #[arg(long, help_heading = "Protocol")]
    pub lmtp: bool,

    /// Speak SMTP over this command's stdin and stdout instead of a network connection, run with /bin/sh -c
    /// (e.g. 'sendmail -bs' or 'exim -bs', to test an MTA's configuration without a network).
    #[arg(long, value_name = "COMMAND", help_heading = "Protocol")]
    pub pipe: Option<String>,

    /// Send XCLIENT NAME=VALUE after EHLO (repeatable: ADDR, NAME, PORT, HELO, PROTO, LOGIN, DESTADDR,
    /// DESTPORT), then EHLO again, as Postfix documents; the server must offer XCLIENT.
    #[arg(long, value_name = "NAME=VALUE", help_heading = "Protocol")]
    pub xclient: Vec<String>,

    /// Send a PROXY protocol header (HAProxy's v1 text or v2 binary) before anything else, as a load balancer
    /// does to the server behind it; needs --proxy-source. (A SOCKS5 proxy to connect through is --proxy.)
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        value_name = "VERSION",
        requires = "proxy_source",
        help_heading = "Protocol"
    )]
    pub proxy_protocol: Option<ProxyVersionArg>,

    /// The client address the PROXY header claims, ADDRESS:PORT ([ADDRESS]:PORT for IPv6).
    #[arg(long, value_name = "ADDRESS:PORT", requires = "proxy_protocol", help_heading = "Protocol")]
    pub proxy_source: Option<String>,

    /// The destination address the PROXY header claims [default: the server's address and port].
    #[arg(long, value_name = "ADDRESS:PORT", requires = "proxy_protocol", help_heading = "Protocol")]
    pub proxy_dest: Option<String>,
}

/// A SOCKS5 proxy between postie and the server; shared by `send`, `talk`, `script` and `smuggle`.
#[derive(Debug, Clone, Args, Default)]
pub struct ProxyArgs {
    /// Connect through this SOCKS5 proxy: socks5h://[USER:PASSWORD@]HOST[:PORT] (the proxy resolves the
    /// server's name) or socks5://... (postie resolves it); port 1080 by default, user and password
    /// percent-encoded [default: $ALL_PROXY or $all_proxy; '' for none]. Not the PROXY protocol header
    /// (--proxy-protocol).
    #[arg(long, value_name = "URL", help_heading = "Connection")]
    pub proxy: Option<String>,

    /// The SOCKS5 proxy's password, from env:NAME, file:PATH or command:COMMAND; the user is in the --proxy
    /// URL (socks5h://USER@HOST).
    #[arg(long, value_name = "SOURCE", help_heading = "Connection")]
    pub proxy_password: Option<String>,

    /// Reach these hosts without the proxy: comma-separated names (a name covers its subdomains) or IP
    /// addresses, '*' for all [default: $NO_PROXY or $no_proxy].
    #[arg(long, visible_alias = "noproxy", value_name = "HOSTS", help_heading = "Connection")]
    pub no_proxy: Option<String>,
}

/// The PROXY protocol version (`--proxy-protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProxyVersionArg {
    /// The text line: PROXY TCP4 source destination sport dport.
    V1,
    /// The binary header.
    V2,
}

/// How to reach the one server a steered dialogue talks to; shared by `talk`, `script` and `smuggle`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub route: RouteArgs,

    #[command(flatten)]
    pub proxy: ProxyArgs,

    #[command(flatten)]
    pub tls: TlsArgs,

    #[command(flatten)]
    pub protocol: ProtocolArgs,

    /// The name for EHLO/LHLO (XCLIENT's, and a bare EHLO typed in talk) [default: this machine's name].
    #[arg(long, visible_alias = "ehlo", value_name = "NAME", help_heading = "Connection")]
    pub helo: Option<String>,

    /// Wait at most this long for each reply [default: RFC 5321's per-step limits; 30s in scripts].
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, help_heading = "Connection")]
    pub timeout: Option<Duration>,

    /// Show what AUTH sends instead of <redacted> (base64 is not encryption).
    #[arg(long, help_heading = "Authentication")]
    pub show_secrets: bool,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub account: AccountArgs,
}

#[derive(Debug, Args)]
pub struct TalkArgs {
    /// The server: HOST[:PORT], [ADDRESS]:PORT, or unix:PATH for a unix-domain socket (not with --pipe).
    #[arg(value_name = "SERVER", required_unless_present = "pipe", conflicts_with = "pipe")]
    pub server: Option<String>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct ScriptArgs {
    /// The script ('-' for stdin); see docs/script.md for the language.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The server: HOST[:PORT], [ADDRESS]:PORT, or unix:PATH (not with --pipe).
    #[arg(
        long,
        short = 's',
        value_name = "SERVER",
        required_unless_present = "pipe",
        conflicts_with = "pipe",
        help_heading = "Connection"
    )]
    pub server: Option<String>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct SmuggleArgs {
    /// The server to test: HOST[:PORT] or [ADDRESS]:PORT.
    #[arg(value_name = "SERVER", required_unless_present = "pipe", conflicts_with = "pipe")]
    pub server: Option<String>,

    /// The sender of the test messages (and of the smuggled ones).
    #[arg(long, short = 'f', value_name = "ADDRESS", help_heading = "Envelope")]
    pub from: String,

    /// The recipient of the test messages (and of the smuggled ones); yours.
    #[arg(long, value_name = "ADDRESS", help_heading = "Envelope")]
    pub to: String,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct CatchArgs {
    /// Listen on this ADDRESS:PORT (repeatable; [::1]:2526 for IPv6; port 0 picks a free port, printed on
    /// the first line). Anything but loopback gets a warning.
    #[arg(long, value_name = "ADDRESS:PORT", default_value = "127.0.0.1:2525", help_heading = "Listening")]
    pub listen: Vec<String>,

    /// End after one message (and the session that sent it).
    #[arg(long, conflicts_with = "count", help_heading = "Listening")]
    pub once: bool,

    /// End after N messages (and the sessions that sent them).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Listening")]
    pub count: Option<u64>,

    /// End a session whose client is silent this long (421 4.4.2).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, default_value = "300", help_heading = "Listening")]
    pub timeout: Duration,

    /// At most this many sessions at once; more get 421 4.3.2.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000), help_heading = "Listening")]
    pub max_sessions: u64,

    /// The name in the greeting and the EHLO reply.
    #[arg(long, value_name = "NAME", default_value = "catch.postie.test", help_heading = "Listening")]
    pub hostname: String,

    /// Also store each message in this Maildir (created if missing), exactly the bytes received.
    #[arg(long, value_name = "DIR", conflicts_with = "mbox", help_heading = "Storing")]
    pub maildir: Option<PathBuf>,

    /// Also append each message to this mbox file (mboxrd: a From_ line, >From quoting, LF line endings).
    #[arg(long, value_name = "FILE", help_heading = "Storing")]
    pub mbox: Option<PathBuf>,

    /// Show each message's content after its summary (`D: ` lines; "content" in JSON).
    #[arg(long, help_heading = "Output")]
    pub show_data: bool,

    /// Write JSON Lines to stdout instead of the transcript: one object per line, each with its session.
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// Answer STEP with CODE (and TEXT) instead of the real reply (repeatable): STEP is greeting, ehlo, helo,
    /// starttls, auth, mail, rcpt, data, bdat, dot (the reply after the message), rset, noop or quit.
    #[arg(long, value_name = "STEP=CODE[ TEXT]", help_heading = "Faults")]
    pub reply: Vec<String>,

    /// Greet with this code instead of 220: 421 (closes at once) or 554 (only QUIT is answered).
    #[arg(long, value_name = "CODE", help_heading = "Faults")]
    pub greeting: Option<String>,

    /// Wait this long before the reply to STEP (repeatable), e.g. greeting=3s, dot=1.5 (seconds).
    #[arg(long, value_name = "STEP=DURATION", help_heading = "Faults")]
    pub delay: Vec<String>,

    /// Close the connection at STEP instead of replying (repeatable); after-data is the end of the message,
    /// before its reply.
    #[arg(long, value_name = "STEP", help_heading = "Faults")]
    pub drop: Vec<String>,

    /// What ends a message after DATA: strict (only <CR><LF>.<CR><LF>) or lenient (a bare <LF> ends lines too,
    /// so <LF>.<LF> ends the message: open to SMTP smuggling, for testing a sender's defences).
    #[arg(long, value_name = "MODE", value_parser = ["strict", "lenient"], default_value = "strict", help_heading = "Faults")]
    pub end_of_data: String,

    /// The largest message taken, in bytes (SIZE; larger ones get 552 5.3.4).
    #[arg(long, value_name = "BYTES", default_value_t = 25 * 1024 * 1024, help_heading = "Limits")]
    pub max_size: u64,

    /// The longest command line taken, in bytes (longer ones get 500 5.5.6).
    #[arg(long, value_name = "BYTES", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(512..=1_048_576), help_heading = "Limits")]
    pub max_line_length: u64,

    /// The most recipients of one message (more get 452 4.5.3).
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "Limits")]
    pub max_recipients: u64,

    /// Do not offer PIPELINING.
    #[arg(long, help_heading = "Extensions")]
    pub no_pipelining: bool,
    /// Do not offer SIZE (the limit still holds).
    #[arg(long, help_heading = "Extensions")]
    pub no_size: bool,
    /// Do not offer 8BITMIME.
    #[arg(long = "no-8bitmime", help_heading = "Extensions")]
    pub no_8bitmime: bool,
    /// Do not offer SMTPUTF8.
    #[arg(long, help_heading = "Extensions")]
    pub no_smtputf8: bool,
    /// Do not offer ENHANCEDSTATUSCODES (and send none).
    #[arg(long, help_heading = "Extensions")]
    pub no_enhanced_status_codes: bool,
    /// Do not offer DSN.
    #[arg(long, help_heading = "Extensions")]
    pub no_dsn: bool,
    /// Do not offer CHUNKING (BDAT).
    #[arg(long, help_heading = "Extensions")]
    pub no_chunking: bool,

    /// Speak LMTP (RFC 2033): LHLO, and one reply per recipient after the message.
    #[arg(long, help_heading = "Extensions")]
    pub lmtp: bool,

    /// Offer STARTTLS with a certificate made now, in memory (clients must not verify it: postie send -k).
    #[arg(long, value_name = "CERTIFICATE", value_parser = ["self-signed"], conflicts_with = "tls_cert", help_heading = "TLS")]
    pub tls: Option<String>,

    /// Offer STARTTLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key", help_heading = "TLS")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert", help_heading = "TLS")]
    pub tls_key: Option<PathBuf>,

    /// TLS from the first byte (as on port 465) instead of STARTTLS; needs --tls or --tls-cert.
    #[arg(long, help_heading = "TLS")]
    pub implicit_tls: bool,

    /// Refuse MAIL and AUTH before STARTTLS (530 5.7.0); needs --tls or --tls-cert.
    #[arg(long, help_heading = "TLS")]
    pub require_tls: bool,

    /// Offer AUTH PLAIN and LOGIN: `any` accepts every user and password; USER:SECRET (repeatable) accepts only
    /// those, and MAIL then needs AUTH. SECRET is env:NAME, file:PATH or command:COMMAND.
    #[arg(long, value_name = "any|USER:SECRET", help_heading = "Authentication")]
    pub auth: Vec<String>,
}

/// How the transcript looks; shared by `send`, `mx` and `probe`.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Write JSON Lines to stdout instead of the transcript: one object per event (schema in README.md).
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// The elapsed time on every line, and how long each step and each reply took.
    #[arg(long, help_heading = "Output")]
    pub timing: bool,

    /// Explain every reply and the EHLO capabilities, not only failures.
    #[arg(long, help_heading = "Output")]
    pub explain: bool,

    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(ignore_case = true, long, value_name = "WHEN", value_parser = ["auto", "always", "never"], default_value = "auto", help_heading = "Output")]
    pub color: String,
}

/// TLS policy and certificates.
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// When to use TLS: auto (STARTTLS when offered), required (fail without it), none, implicit (TLS from the
    /// first byte) [default: implicit on port 465, required on 587, else auto].
    #[arg(ignore_case = true, long, value_enum, value_name = "MODE", help_heading = "TLS")]
    pub tls: Option<TlsModeArg>,

    /// How to treat a certificate that does not verify: strict (abort), report (show what is wrong, go on),
    /// insecure (go on with a warning) [default: strict for --tls required and implicit; with auto, report
    /// (mail servers encrypt to unverified certificates, RFC 7435), but credentials need a verified one].
    #[arg(long, value_enum, ignore_case = true, value_name = "POLICY", help_heading = "TLS")]
    pub tls_verify: Option<VerifyArg>,

    /// Check the certificate against NAME and send NAME as SNI, wherever --server points.
    #[arg(long, value_name = "NAME", help_heading = "TLS")]
    pub tls_name: Option<String>,

    /// Same as --tls-verify insecure: no protection against a server in the middle.
    #[arg(short = 'k', long, conflicts_with = "tls_verify", help_heading = "TLS")]
    pub insecure: bool,

    /// Trust the CA certificates in this PEM file too (repeatable), besides the built-in web PKI roots.
    #[arg(long, value_name = "PEM", help_heading = "TLS")]
    pub ca_file: Vec<PathBuf>,

    /// Present this client certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key", help_heading = "TLS")]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert", help_heading = "TLS")]
    pub tls_key: Option<PathBuf>,

    /// The lowest TLS version to accept.
    #[arg(ignore_case = true, long, value_name = "VERSION", value_parser = ["1.2", "1.3"], default_value = "1.2", help_heading = "TLS")]
    pub tls_min_version: String,
}

/// SMTP AUTH.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// Authenticate as this user (AUTH is used when --user is given).
    #[arg(long, env = "POSTIE_USER", value_name = "NAME", help_heading = "Authentication")]
    pub user: Option<String>,

    /// The mechanism [default: the strongest both sides have].
    #[arg(
        ignore_case = true,
        long,
        value_enum,
        value_name = "MECHANISM",
        requires = "user",
        help_heading = "Authentication"
    )]
    pub auth: Option<MechanismArg>,

    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", help_heading = "Authentication")]
    pub password_env: Option<String>,

    /// Read the password from the first line of this file ('-' for stdin).
    #[arg(long, value_name = "PATH", conflicts_with = "password_env", help_heading = "Authentication")]
    pub password_file: Option<PathBuf>,

    /// The password itself. Other users can see it in `ps`: prefer --password-env or --password-file.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["password_env", "password_file"], help_heading = "Authentication")]
    pub password: Option<String>,

    /// Run this command with /bin/sh -c and use the first line it prints as the password, as msmtp's
    /// passwordeval does (e.g. 'pass show mail/work'); a command that fails stops postie before it connects.
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["password_env", "password_file", "password"], help_heading = "Authentication")]
    pub password_command: Option<String>,

    /// Take the user (when --user is not given) and the password from ~/.netrc ($NETRC) for the --server host,
    /// as curl -n does. With --user and no password, postie looks there too before it asks.
    #[arg(short = 'n', long, help_heading = "Authentication")]
    pub netrc: bool,

    /// Read this file instead of ~/.netrc (implies --netrc).
    #[arg(long, value_name = "PATH", help_heading = "Authentication")]
    pub netrc_file: Option<PathBuf>,

    /// Read an OAuth 2.0 bearer token (for XOAUTH2, OAUTHBEARER) from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["password_env", "password_file", "password", "password_command"], help_heading = "Authentication")]
    pub oauth_token_env: Option<String>,

    /// Read an OAuth 2.0 bearer token from the first line of this file.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["password_env", "password_file", "password", "password_command", "oauth_token_env"], help_heading = "Authentication")]
    pub oauth_token_file: Option<PathBuf>,

    #[command(flatten)]
    pub oauth: OauthArgs,

    /// Allow AUTH over an unencrypted connection (the password can then be read by anyone on the path).
    #[arg(long, help_heading = "Authentication")]
    pub allow_plaintext_auth: bool,

    /// Show the AUTH exchange as sent instead of <redacted> (base64 is not encryption).
    #[arg(long, help_heading = "Authentication")]
    pub show_secrets: bool,
}

/// OAuth 2.0: where an access token for XOAUTH2 and OAUTHBEARER comes from when postie gets it itself.
#[derive(Debug, Clone, Args, Default)]
pub struct OauthArgs {
    /// The provider's token endpoint (https://), where a refresh token is exchanged for an access token.
    #[arg(long, value_name = "URL", help_heading = "OAuth")]
    pub oauth_token_url: Option<String>,

    /// The OAuth client id postie is registered as at the provider.
    #[arg(long, value_name = "ID", help_heading = "OAuth")]
    pub oauth_client_id: Option<String>,

    /// The client secret, if the client has one: env:NAME, file:PATH or command:COMMAND.
    #[arg(long, value_name = "SOURCE", help_heading = "OAuth")]
    pub oauth_client_secret: Option<String>,

    /// The refresh token: env:NAME, file:PATH or command:COMMAND. With --user, AUTH uses an access token
    /// got with it (kept in ~/.cache/postie until it expires); `postie oauth login` writes it to file:PATH.
    #[arg(long, value_name = "SOURCE", help_heading = "OAuth")]
    pub oauth_refresh_token: Option<String>,

    /// The provider's device authorization endpoint (https://), for `postie oauth login`.
    #[arg(long, value_name = "URL", help_heading = "OAuth")]
    pub oauth_device_url: Option<String>,

    /// The scope to ask for (space-separated), e.g. https://mail.google.com/ for Gmail.
    #[arg(long, value_name = "SCOPE", help_heading = "OAuth")]
    pub oauth_scope: Option<String>,
}

/// `postie oauth`.
#[derive(Debug, Args)]
pub struct OauthCommandArgs {
    #[command(subcommand)]
    pub command: OauthCommand,
}

#[derive(Debug, Subcommand)]
pub enum OauthCommand {
    /// Sign in once, without a browser on this machine (RFC 8628 device authorization): print a URL and a
    /// code to enter there, wait for the approval, and write the refresh token to the file:PATH that
    /// --oauth-refresh-token names (mode 0600), so that `send` can use it.
    #[command(after_long_help = format!("Examples:\n{OAUTH_EXAMPLES}"))]
    Login(OauthLoginArgs),
}

#[derive(Debug, Args)]
pub struct OauthLoginArgs {
    #[command(flatten)]
    pub oauth: OauthArgs,

    /// The user the token is for: its access token is cached for `send --user NAME`.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Trust only the CA certificates in this PEM file (repeatable) for the OAuth endpoints.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Vec<PathBuf>,

    #[command(flatten)]
    pub account: AccountArgs,
}

pub const OAUTH_EXAMPLES: &str = "  postie oauth login --user me@gmail.com \\
      --oauth-device-url https://oauth2.googleapis.com/device/code \\
      --oauth-token-url https://oauth2.googleapis.com/token \\
      --oauth-client-id ID --oauth-client-secret env:CLIENT_SECRET --oauth-scope https://mail.google.com/ \\
      --oauth-refresh-token file:~/.config/postie/gmail.token
";

/// How to find and reach servers; shared by `send` and `mx`.
#[derive(Debug, Clone, Args)]
pub struct RouteArgs {
    /// The port of every server [default: 25, or the one in --server].
    #[arg(long, short = 'p', value_parser = clap::value_parser!(u16).range(1..), help_heading = "Connection")]
    pub port: Option<u16>,

    /// Ask this DNS server, IP[:PORT], instead of the ones in /etc/resolv.conf.
    #[arg(long, value_name = "IP[:PORT]", help_heading = "Connection")]
    pub dns_server: Option<String>,

    /// Give up on a DNS lookup after this long (a temporary failure).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, default_value = "5", help_heading = "Connection")]
    pub dns_timeout: Duration,

    /// Validate DNS answers with DNSSEC against the root's keys: DANE (TLSA) then applies where it is secure.
    #[arg(long, help_heading = "Connection")]
    pub dnssec: bool,

    /// Validate DNS answers with DNSSEC against the DNSKEY records in this file (zone-file lines, e.g.
    /// "test. 300 IN DNSKEY 257 3 13 ..."), for a private root; implies --dnssec.
    #[arg(long, value_name = "FILE", help_heading = "Connection")]
    pub trust_anchor: Option<PathBuf>,

    /// Trust the AD bit of the DNS server (--dns-server, or the first in /etc/resolv.conf), which must be a
    /// validating resolver on a path you trust, instead of validating in process (as Postfix does).
    #[arg(long, conflicts_with_all = ["dnssec", "trust_anchor"], help_heading = "Connection")]
    pub dns_trust_ad: bool,

    /// Use IPv4 addresses only.
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6", help_heading = "Connection")]
    pub ipv4: bool,

    /// Use IPv6 addresses only.
    #[arg(short = '6', long = "ipv6", help_heading = "Connection")]
    pub ipv6: bool,

    /// Connect from this local address.
    #[arg(long, value_name = "ADDRESS", help_heading = "Connection")]
    pub bind: Option<std::net::IpAddr>,

    /// Give up on an address that does not accept the connection within this time.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, default_value = "30", help_heading = "Connection")]
    pub connect_timeout: Duration,
}

#[derive(Debug, Args)]
pub struct MxArgs {
    /// The domains to look up.
    #[arg(value_name = "DOMAIN", required = true)]
    pub domains: Vec<String>,

    /// Also connect to every address, in parallel, and show whether it answers and its greeting.
    #[arg(long)]
    pub check: bool,

    /// With --check: wait at most this long for each greeting.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, default_value = "10")]
    pub timeout: Duration,

    /// With --check: implicit to speak TLS from the first byte (SMTPS) [default: implicit on port 465].
    #[arg(long, ignore_case = true, value_name = "MODE", value_parser = ["auto", "implicit"])]
    pub tls: Option<String>,

    #[command(flatten)]
    pub route: RouteArgs,

    /// Write JSON Lines to stdout: one object per domain (schema in README.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// A domain (its MX hosts are probed), or HOST[:PORT].
    #[arg(value_name = "DOMAIN|HOST[:PORT]")]
    pub target: String,

    /// Also check that MAIL FROM and RCPT TO this address are accepted (then RSET and QUIT: nothing is sent).
    #[arg(long, value_name = "ADDRESS")]
    pub rcpt: Option<String>,

    /// The sender for --rcpt [default: the null sender <>].
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,

    /// The name to give in EHLO [default: this machine's fully qualified name].
    #[arg(long, value_name = "NAME")]
    pub helo: Option<String>,

    /// Trust the CA certificates in this PEM file too (repeatable).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Vec<PathBuf>,

    /// Wait at most this long for the greeting and each reply (a slower greeting is reported as a delay).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, default_value = "30")]
    pub timeout: Duration,

    /// implicit to speak TLS from the first byte (SMTPS) [default: implicit on port 465, else STARTTLS].
    #[arg(long, ignore_case = true, value_name = "MODE", value_parser = ["auto", "implicit"])]
    pub tls: Option<String>,

    /// Show the whole C:/S: transcript of each host before its report.
    #[arg(short, long)]
    pub verbose: bool,

    #[command(flatten)]
    pub route: RouteArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// The JSON Lines schema of `send --json` (README.md carries the same text); it lives beside the type that
/// makes the JSON.
pub const JSON_SCHEMA: &str = crate::render::json::SCHEMA;

/// The jobs people do with `send`, as commands (shown in `--help` and the man page).
pub const SEND_EXAMPLES: &str =
    "  Send through your provider's submission port (STARTTLS and AUTH; the password from the environment):
    postie send --server smtp.example.com:587 --user me@example.com --password-env SMTP_PASSWORD \\
      --from me@example.com --to you@example.org --subject hi --body hello
  From cron or a script, the body from stdin, quiet unless something fails:
    df -h | postie send -q --server mail.example.com --from cron@example.com --to ops@example.com --subject disk
  Straight to the recipients' MX hosts, the way a mail server does (port 25, opportunistic TLS):
    postie send --from me@example.com --to you@example.org --body 'test'
  Is this address accepted? (0 accepted, 69 refused, 75 deferred; nothing is sent):
    postie send -q --to someone@example.org --quit-after rcpt; echo $?
  A complete message, sent as it is; or as sendmail -t does, recipients from its headers:
    postie send --server mail.example.com --to you@example.org --data message.eml
    postie send -t -f me@example.com --server mail.example.com < message.eml
  An attachment with its type and name, and an HTML alternative:
    postie send --server mail.example.com --to you@example.org --body-file notes.txt \\
      --attach 'q3.pdf;type=application/pdf;name=Q3 report.pdf' --html-file notes.html
  Implicit TLS (SMTPS), checking the certificate for another name than the address connected to:
    postie send --server smtps://192.0.2.25 --tls-name mail.example.com --to you@example.org
  Machine-readable: one JSON object per event:
    postie send --json --server mail.example.com --to you@example.org | jq -c 'select(.type==\"reply\")'
";

pub const TALK_EXAMPLES: &str = "  Type commands at a server, with line editing and history:
    postie talk mx.example.com
  A one-liner: pipe the commands in, each waits for its reply:
    printf 'EHLO x\\nVRFY alice\\nQUIT\\n' | postie talk mail.example.test
  Submission with implicit TLS (then type AUTH PLAIN and answer the prompts):
    postie talk smtp.example.com:465 --tls implicit
  An MTA's own SMTP server, with no network:
    postie talk --pipe 'sendmail -bs'
";

pub const TALK_EXIT_CODES: &str =
    "Exit codes: the class of the last reply, as for send: 0 after a 2xx (or 221 to QUIT), 75 after a 4xx,
69 after a 5xx; 76 for a protocol violation, 4 when TLS failed, 64 for a bad flag.
";

pub const SCRIPT_LANGUAGE: &str = "The language, one statement a line (# starts a comment):
  connect [tls]              open the connection (tls: implicit TLS)
  expect CODE [/REGEX/]      the next reply: 250, 2xx or 25x, and its text matches REGEX
  send LINE                  a command line, CRLF added
  send-raw \"BYTES\"           exact bytes; escapes \\r \\n \\t \\0 \\\\ \\\" \\xNN
  starttls                   STARTTLS, 220, the handshake (the certificate must verify unless -k)
  auth MECH USER SECRET      plain, login or cram-md5; SECRET is env:NAME or file:PATH
  data PATH                  a message file, dot-stuffed and ended by \".\"
  data-raw \"BYTES\"           exactly these bytes as the message
  sleep DURATION             200ms, 2s, 1.5s, 1m
  expect-close               the server closes the connection
";

pub const SCRIPT_EXAMPLES: &str = "  Run a dialogue against a test server:
    postie script examples/scripts/submission.postie --server 127.0.0.1:587 --ca-file ca.pem
  The same over an MTA's stdin and stdout:
    postie script dialogue.postie --pipe 'sendmail -bs'
";

pub const SCRIPT_EXIT_CODES: &str = "Exit codes:
   0  every expectation held
   1  an expectation failed: its line, what was expected and what came
  64  the script or a flag is malformed (the line and what is wrong)
  66  the script or a message file it names cannot be read
  75  the connection could not be opened
";

pub const CATCH_EXAMPLES: &str = "  The offline first run: catch one message, send it
    postie catch --once & postie send --server 127.0.0.1:2525 --to you@example.test
  Store what arrives in a Maildir, on IPv6
    postie catch --listen [::1]:2526 --maildir ./inbox
  Refuse every recipient, defer the message, hang up after the data
    postie catch --reply rcpt=550 --reply data=451 --delay greeting=3s --drop after-data
  STARTTLS with a certificate made in memory, and AUTH for one user
    postie catch --tls self-signed --require-tls --auth alice:env:PW
";

pub const CATCH_FAULTS: &str =
    "Faults, by step (greeting, ehlo, helo, starttls, auth, mail, rcpt, data, bdat, dot, rset, noop, quit):
  --reply STEP=CODE[ TEXT]  answer CODE instead (the step then counts as refused unless CODE is 2xx;
                            a 421 closes the connection, as RFC 5321 says)
  --delay STEP=DURATION     wait before the reply: 3s, 500ms, 1.5 (seconds)
  --drop STEP               close the connection instead of replying; --drop after-data is the end of the
                            message, before its reply: the client cannot know whether it was taken
  --greeting 421|554        the same as --reply greeting=CODE
  --end-of-data lenient     a bare <LF>.<LF> ends the message (for testing SMTP smuggling defences)
";

pub const CATCH_EXIT_CODES: &str = "Exit codes:
   0  --once or --count reached, or stopped by Ctrl-C (SIGINT) or SIGTERM
  64  a bad flag or flag value (--reply, --delay, --drop, --listen, --auth)
  66  a certificate, key or secret file is missing or unreadable
  69  cannot listen (the port is in use, the address is not this machine's) or cannot store the messages
";

pub const SMUGGLE_EXAMPLES: &str = "  Does my server end a message at a bare <LF>.<LF>?
    postie smuggle mx.example.net --from me@example.net --to me@example.net
";

pub const SMUGGLE_EXIT_CODES: &str = "Exit codes:
   0  no variant ended the message: the server is not open to SMTP smuggling by these variants
   1  at least one variant ended the message (a smuggled transaction was answered)
  75  the server could not be reached, or refused the test transaction
";

pub const MX_EXAMPLES: &str = "  Where does mail for these domains go?
    postie mx example.com example.org
  And does every address answer? (in parallel; implicit TLS on port 465)
    postie mx --check example.com
    postie mx --check --port 465 example.com
";

pub const PROBE_EXAMPLES: &str =
    "  Every MX host and address of a domain, in parallel: greeting, TLS, certificate, reverse DNS:
    postie probe example.com
  Is an address accepted there? (MAIL and RCPT, then RSET and QUIT: nothing is sent)
    postie probe example.com --rcpt postmaster@example.com
  One host, with the whole dialogue and its timing:
    postie probe mail.example.com:587 --timing
";

pub const PROBE_EXIT_CODES: &str = "Exit codes (the worst finding over all addresses):
   0  every address answered (warnings such as a greeting delay or a reverse DNS mismatch are allowed)
   4  TLS: STARTTLS not offered or failed, or a certificate that does not verify
  69  a 5xx: to the greeting, or to MAIL or RCPT with --rcpt
  75  an address did not answer, a 4xx, or a DNS failure";

pub const MX_EXIT_CODES: &str = "Exit codes:
   0  every domain has a route (with --check: at least one address of each domain answered)
  64  usage: a bad flag or domain
  69  a domain cannot receive mail: it does not exist (NXDOMAIN) or publishes a null MX
  75  a DNS lookup failed or timed out (with --check: no address of some domain answered)";

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The project directory to write completions/ and man/ into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

/// A positive number of seconds, fractions allowed.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0) {
        return Err("it must be more than 0 and at most 86400 seconds".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-3").is_err());
        assert!(parse_seconds("soon").is_err());
        assert!(parse_seconds("inf").is_err());
    }
}

/// When to use TLS (`--tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsModeArg {
    /// STARTTLS when the server offers it, plaintext otherwise. Protects against passive eavesdropping only:
    /// an attacker in the path can strip the STARTTLS offer.
    Auto,
    /// STARTTLS, and fail before MAIL and AUTH when it is not offered or does not succeed. Protects against
    /// eavesdropping and, with verification, against a server in the middle.
    Required,
    /// Never start TLS. Everything, AUTH included, goes in clear text.
    None,
    /// TLS from the first byte (port 465, RFC 8314). Nothing is ever sent in clear text.
    Implicit,
    /// As auto, but each recipient domain must publish secure TLSA records (DANE, RFC 7672; needs --dnssec
    /// or --trust-anchor), and the server's certificate must match them.
    Dane,
    /// As auto, but each recipient domain must publish an MTA-STS policy (RFC 8461), which is enforced.
    MtaSts,
}

/// How hard to check the server's certificate (`--tls-verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyArg {
    /// Abort the handshake when the certificate does not verify.
    Strict,
    /// Complete the handshake, show the chain, say what was wrong, and go on.
    Report,
    /// Go on whatever the certificate says, with a warning: no protection against a server in the middle.
    Insecure,
    /// With --server: the smart host's secure TLSA records decide (DANE, RFC 7672; needs --dnssec or
    /// --trust-anchor), and TLS is required.
    Dane,
}

/// A step of the dialogue (`--quit-after`, `--drop-after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StepArg {
    Connect,
    Banner,
    Ehlo,
    Tls,
    Auth,
    Mail,
    Rcpt,
    /// After the 354 to DATA, before any of the message (only with --drop-after).
    Data,
}

/// An AUTH mechanism (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MechanismArg {
    /// RFC 4616: user and password in one base64 message.
    Plain,
    /// The old two-step user/password exchange.
    Login,
    /// RFC 2195: an HMAC-MD5 of the server's challenge; the password itself is never sent.
    #[value(name = "cram-md5")]
    CramMd5,
    /// Google and Microsoft's OAuth 2.0 bearer token form.
    Xoauth2,
    /// RFC 7628: OAuth 2.0 bearer token.
    Oauthbearer,
}
