//! Drivers: they do the I/O for the SMTP client state machine and enforce its deadlines. `blocking` runs one
//! dialogue over a socket (send, probe, mx --check); `memory` runs one over scripted bytes, for tests.

pub mod blocking;
pub mod manual;
pub mod memory;
