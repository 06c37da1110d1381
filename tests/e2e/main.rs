//! Integration tests: the built binary against real peers (Postfix on loopback) and, for misbehaviour a
//! real server will not produce, scripted servers.

mod catch;
mod config;
mod defaults;
mod diagnostics;
mod faults;
mod generated;
mod harness;
mod hostile;
mod input;
mod input_hidden;
mod load;
mod memory;
mod message;
mod oauth;
mod peers;
mod protocols;
mod route;
mod secure_dns;
mod send;
mod sendmail;
mod socks;
mod tls;
mod transport_security;
