//! Pure mail logic: parsing raw messages into [`parse::Mail`], separating new text from
//! quotes, reading return dates, classifying inbound messages, and facts about addresses.
//! Nothing here does I/O.

pub mod address;
pub mod classify;
pub mod intent;
pub mod parse;
pub mod pattern;
pub mod quote;
pub mod return_date;
