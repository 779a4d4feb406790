-- A weekly summary that certainly did not reach the seller's server is tried again that week
-- (SPEC 8). Forward-only: columns are added. 'sending' keeps its meaning: an attempt is in
-- flight, or its outcome is unknown (it may have been delivered), and it is never sent again;
-- only a row whose retry_after is set may be taken up again, from that moment on.

-- How many attempts were made (every row so far had one).
ALTER TABLE summaries ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
-- What went wrong at the last failed attempt, and when (no secrets: the error's own words).
ALTER TABLE summaries ADD COLUMN last_error TEXT;
ALTER TABLE summaries ADD COLUMN failed_at TEXT;
-- Set when the last attempt certainly failed: the earliest moment of the next one, as
-- 'YYYY-MM-DDTHH:MM:SSZ' so that text order is time order.
ALTER TABLE summaries ADD COLUMN retry_after TEXT;
