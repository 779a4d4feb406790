-- Every pass asks which open conversations are due or need planning, and how many due drafts
-- are already held back by the daily limit. With thousands of open conversations (a long
-- lookback) the old index found them by state and due time but read each table row for
-- `due_draft`, `planned_version` and `version`: thousands of page reads in every pass, about
-- 12 ms at 100,000 messages. Those columns now sit in the index, so the count is read from
-- the index alone and a row is read only when it is wanted.
DROP INDEX IF EXISTS conversations_state;
CREATE INDEX conversations_state
    ON conversations(state, next_due, due_draft, planned_version, version);
