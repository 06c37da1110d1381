//! The SMTP protocol core: replies, commands, capabilities, the data codec, and the session over any stream.

pub mod auth;
pub mod codec;
pub mod command;
pub mod ehlo;
pub mod extensions;
pub mod reply;
pub mod session;
