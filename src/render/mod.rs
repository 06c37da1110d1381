//! Renderers: typed events in, text out. `human` writes the transcript, `json` JSON Lines, `explain` says
//! what reply codes and capabilities mean, `words` words the typed facts once for all of them. Everything
//! that came from the network is escaped (`crate::sanitize`) where it is written, once.

pub mod catch;
pub mod explain;
pub mod human;
pub mod json;
pub mod load;
pub mod mx;
pub mod probe;
pub mod words;
