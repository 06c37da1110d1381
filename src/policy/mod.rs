//! Transport-security policies for SMTP, read and matched without any I/O: DANE TLSA records (RFC 6698,
//! RFC 7671, RFC 7672), MTA-STS records and policy files (RFC 8461), TLS-RPT records and result types (RFC
//! 8460). The caller does the DNS lookups (with DNSSEC for TLSA), the HTTPS fetch of an MTA-STS policy and
//! the certificate verification; this module tells it what the records say and whether they match.
//!
//! Errors are `String`s that name what failed and the rule broken; where they quote a record, control
//! characters are escaped, but the text is otherwise the network's: whoever shows it escapes it for the
//! terminal. The module uses nothing else in the crate.

mod record;
pub mod report;
pub mod sts;
pub mod tlsa;
pub mod tlsrpt;

pub use report::ResultType;
pub use sts::{parse_policy, parse_sts_record, select_sts_record, Mode, Policy, StsRecord, MAX_POLICY_BYTES};
pub use tlsa::{match_chain, ChainMatch, Match, Outcome, Tlsa, Unusable, Usability};
pub use tlsrpt::{parse_tlsrpt_record, select_tlsrpt_record, ReportUri, TlsRpt};
