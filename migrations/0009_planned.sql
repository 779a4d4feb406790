-- The version of each conversation its next_due was last worked out at: a pass plans again
-- only the conversations changed since, and those due by then (issue: scale). NULL: never
-- planned, so the first pass after this migration plans every open conversation.
ALTER TABLE conversations ADD COLUMN planned_version INTEGER;
