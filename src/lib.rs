//! postie: send mail and show, line by line, what an SMTP server says.
//!
//! The binary is a thin shell over [`app::run`]; the protocol core in [`smtp`] works on any byte stream and
//! reports what happens as [`event::Event`]s, which [`transcript`] renders. [`deliver`] decides where each
//! recipient's copy goes ([`dns`] for MX routing, [`net`] for connections).

pub mod address;
pub mod app;
pub mod cli;
pub mod deliver;
pub mod dns;
pub mod error;
pub mod event;
pub mod explain;
pub mod generate;
pub mod hostname;
pub mod json;
pub mod message;
pub mod mx;
pub mod net;
pub mod probe;
pub mod sanitize;
pub mod scrub;
pub mod smtp;
pub mod tls;
pub mod transcript;
