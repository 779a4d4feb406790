//! The patient cadence: business days in the seller's time zone and when follow-ups are due.
