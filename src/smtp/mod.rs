//! The SMTP protocol core, with no I/O: replies, commands, capabilities, the data codec, AUTH, extensions,
//! the client state machine that owns the dialogue, and (`server`) the receiving side that `postie catch`
//! drives. Nothing here uses anything outside `smtp/`.

pub mod auth;
pub mod client;
pub mod codec;
pub mod command;
pub mod ehlo;
pub mod error;
pub mod event;
pub mod extensions;
pub mod reply;
pub mod server;
pub mod session;
pub mod settings;
pub mod xclient;
