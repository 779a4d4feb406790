-- Times as whole seconds since the Unix epoch (UTC): a message's Date and arrival (until now
-- microseconds, migration 0016), a conversation's times and its history's (until now RFC
-- 3339 text). SQLite stores such a number in 4 bytes until 2038 (6 after), microseconds in
-- 8 and the text in 25; numbers compare as numbers and are read without parsing. About 45
-- bytes a message of a mailbox: a message has two times, a conversation eight, and a first
-- sync of 100,000 messages writes some 65,000 history rows. Every time nudge keeps comes
-- from a Date header or an INTERNALDATE (whole seconds) or from its clock, which a pass now
-- reads to the second. `not_before` stays a date; drafts, contacts and summaries keep
-- their text.
--
-- The text was always chrono's RFC 3339 in UTC; each distinct one is read once, into a
-- table of its own, by unixepoch() of its first 19 characters (its fraction is dropped, as
-- the microseconds are). A time SQLite cannot read is NULL where the column may be, else
-- the epoch.
CREATE TEMP TABLE time_of_text (text TEXT PRIMARY KEY, seconds INTEGER) WITHOUT ROWID;
INSERT INTO temp.time_of_text (text)
    SELECT t FROM (
        SELECT first_touch_at AS t FROM conversations
        UNION SELECT last_touch_at FROM conversations
        UNION SELECT last_inbound_at FROM conversations
        UNION SELECT next_due FROM conversations
        UNION SELECT wait_from FROM conversations
        UNION SELECT snoozed_until FROM conversations
        UNION SELECT created_at FROM conversations
        UNION SELECT updated_at FROM conversations
        UNION SELECT at FROM events)
    WHERE t IS NOT NULL;
UPDATE temp.time_of_text SET seconds = unixepoch(substr(text, 1, 19));

-- Microseconds to seconds, rounded down (also before 1970).
UPDATE messages SET
    date = (date - ((date % 1000000) + 1000000) % 1000000) / 1000000,
    arrived = (arrived - ((arrived % 1000000) + 1000000) % 1000000) / 1000000;

DROP INDEX conversations_state;
ALTER TABLE conversations ADD COLUMN first_touch_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_touch_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_inbound_s INTEGER;
ALTER TABLE conversations ADD COLUMN next_due_s INTEGER;
ALTER TABLE conversations ADD COLUMN wait_from_s INTEGER;
ALTER TABLE conversations ADD COLUMN snoozed_until_s INTEGER;
ALTER TABLE conversations ADD COLUMN created_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN updated_s INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET
    first_touch_s = coalesce((SELECT seconds FROM temp.time_of_text WHERE text = first_touch_at), 0),
    last_touch_s = coalesce((SELECT seconds FROM temp.time_of_text WHERE text = last_touch_at), 0),
    last_inbound_s = (SELECT seconds FROM temp.time_of_text WHERE text = last_inbound_at),
    next_due_s = (SELECT seconds FROM temp.time_of_text WHERE text = next_due),
    wait_from_s = (SELECT seconds FROM temp.time_of_text WHERE text = wait_from),
    snoozed_until_s = (SELECT seconds FROM temp.time_of_text WHERE text = snoozed_until),
    created_s = coalesce((SELECT seconds FROM temp.time_of_text WHERE text = created_at), 0),
    updated_s = coalesce((SELECT seconds FROM temp.time_of_text WHERE text = updated_at), 0);
ALTER TABLE conversations DROP COLUMN first_touch_at;
ALTER TABLE conversations DROP COLUMN last_touch_at;
ALTER TABLE conversations DROP COLUMN last_inbound_at;
ALTER TABLE conversations DROP COLUMN next_due;
ALTER TABLE conversations DROP COLUMN wait_from;
ALTER TABLE conversations DROP COLUMN snoozed_until;
ALTER TABLE conversations DROP COLUMN created_at;
ALTER TABLE conversations DROP COLUMN updated_at;
ALTER TABLE conversations RENAME COLUMN first_touch_s TO first_touch_at;
ALTER TABLE conversations RENAME COLUMN last_touch_s TO last_touch_at;
ALTER TABLE conversations RENAME COLUMN last_inbound_s TO last_inbound_at;
ALTER TABLE conversations RENAME COLUMN next_due_s TO next_due;
ALTER TABLE conversations RENAME COLUMN wait_from_s TO wait_from;
ALTER TABLE conversations RENAME COLUMN snoozed_until_s TO snoozed_until;
ALTER TABLE conversations RENAME COLUMN created_s TO created_at;
ALTER TABLE conversations RENAME COLUMN updated_s TO updated_at;
CREATE INDEX conversations_state
    ON conversations(state, next_due, due_draft, planned_version, version);

-- The history is append-only: its guards stand aside for this one rewrite of its times.
DROP TRIGGER events_are_append_only_update;
DROP TRIGGER events_are_append_only_delete;
ALTER TABLE events ADD COLUMN at_s INTEGER NOT NULL DEFAULT 0;
UPDATE events SET at_s = coalesce((SELECT seconds FROM temp.time_of_text WHERE text = at), 0);
ALTER TABLE events DROP COLUMN at;
ALTER TABLE events RENAME COLUMN at_s TO at;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

DROP TABLE temp.time_of_text;
