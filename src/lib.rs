//! postie: send mail and show, line by line, what an SMTP server says.
//!
//! The binary is a thin shell over [`app::run`]. The SMTP dialogue is a sans-I/O state machine in [`smtp`];
//! the drivers in [`drive`] do its I/O over [`net`]; [`route`] finds where mail goes; [`deliver`], [`probe`]
//! and [`mx`] put these together; [`catch`] drives the server side of the dialogue (`smtp::server`); events
//! ([`event`]) are rendered by [`render`]. [`policy`] reads DANE,
//! MTA-STS and TLS-RPT records without I/O.

pub mod address;
pub mod app;
pub mod catch;
pub mod cli;
pub mod config;
pub mod deliver;
pub mod drive;
pub mod error;
pub mod event;
pub mod generate;
pub mod hostname;
pub mod load;
pub mod message;
pub mod mx;
pub mod net;
pub mod oauth;
pub mod policy;
pub mod probe;
pub mod render;
pub mod report;
pub mod route;
pub mod sanitize;
pub mod script;
pub mod scrub;
pub mod secret;
pub mod secure;
pub mod smtp;
