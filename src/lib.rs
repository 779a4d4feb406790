//! nudge: patient, polite follow-up drafts for a seller's quiet conversations.
//!
//! Data flows one way: mailbox → store → pure decisions → actions back on the mailbox.
//!
//! ```text
//!  IMAP (imap::)          store::             pure core                   IMAP / SMTP
//!  INBOX, Sent, Drafts ─▶ messages,      ─▶  threading, classification, ─▶ drafts appended to
//!  headers, flags         conversations,     cadence (business days),      Drafts, withdrawn
//!                         events             summary numbers               ones moved to Trash;
//!                                                                          weekly summary mail
//! ```
//!
//! * [`config`] turns the TOML file into a validated [`config::Config`] (two stages).
//! * [`imap`] connects (TLS, STARTTLS, XOAUTH2), discovers folders and waits in IDLE; only it
//!   knows async-imap.
//! * [`store`] is the record of truth, on SQLite or PostgreSQL; only it knows sqlx.
//! * [`rules`] is the pure core: what a message is to nudge, which conversations it
//!   concerns, the one state machine of a conversation, and who a draft is addressed to.
//! * [`commands`] holds what the command line runs; `main.rs` only parses and prints.
//!
//! nudge never sends mail to a prospect: the seller approves every follow-up by sending the
//! draft from their own mail client.

pub mod cadence;
pub mod commands;
pub mod compose;
pub mod config;
pub mod daemon;
pub mod display;
pub mod drafting;
pub mod elsewhere;
pub mod engine;
pub mod error;
pub mod imap;
pub mod lock;
pub mod logging;
pub mod mail;
pub mod model;
pub mod progress;
pub mod rules;
pub mod schedule;
pub mod smtp;
pub mod store;
pub mod summary;
pub mod systemd;
pub mod team_summary;
pub mod tls;

pub use error::{Error, ErrorKind, Result};
