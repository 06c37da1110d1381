//! Transport security as senders see it: DANE (RFC 7672) for an MX host, the MTA-STS policy of a domain
//! (RFC 8461), and what each kind of sender would do with an MX given what postie found (RFC 8460's result
//! types). The parsers are in [`crate::policy`]; this module does the lookups and the fetch, and judges.

pub mod dane;
pub mod sts;
pub mod verdict;
