//! The patient cadence: business days in the seller's time zone and when follow-ups are due.

pub mod calendar;
pub mod holidays;

pub use calendar::Calendar;
