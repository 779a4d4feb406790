-- The version of each conversation its next_due was last worked out at, and whether what
-- falls due then is a draft (1) or letting go (0): a pass plans again only the
-- conversations changed since, and reads of those due by then only as many drafts as the
-- day has room for. NULL: never planned, so the first pass after this migration plans
-- every open conversation.
ALTER TABLE conversations ADD COLUMN planned_version INTEGER;
ALTER TABLE conversations ADD COLUMN due_draft INTEGER;
