-- A message nudge could not process (a panic or a data error while applying it, a header that
-- cannot be fetched) is quarantined: marked processed so no pass tries it again, with when and
-- why, shown by `nudge show` and counted by `nudge status` (SPEC 13).
ALTER TABLE messages ADD COLUMN quarantined_at TEXT;
ALTER TABLE messages ADD COLUMN quarantine_reason TEXT;
