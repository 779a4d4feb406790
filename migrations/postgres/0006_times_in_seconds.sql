-- Times as whole seconds since the Unix epoch (UTC): a message's Date and arrival (until now
-- microseconds), a conversation's times and its history's (until now RFC 3339 text); see
-- migrations/0017_times_in_seconds.sql. The text is read by its first 19 characters, when
-- it has migration 5's shape (a fraction is dropped, as the microseconds are); a time that
-- cannot be read is NULL where the column may be, else the epoch. Changing a column's type
-- rewrites the table without firing the history's append-only trigger.
CREATE FUNCTION seconds_of_text(t TEXT) RETURNS BIGINT LANGUAGE SQL AS $$
    SELECT CASE WHEN t ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$' AND t !~ '^0000'
                THEN extract(epoch FROM substr(t, 1, 19)::timestamp)::bigint
           END
$$;
-- Microseconds to seconds, rounded down (also before 1970).
UPDATE messages SET
    date = floor(date / 1000000.0)::bigint,
    arrived = floor(arrived / 1000000.0)::bigint;
ALTER TABLE conversations
    ALTER COLUMN first_touch_at TYPE BIGINT USING coalesce(seconds_of_text(first_touch_at), 0),
    ALTER COLUMN last_touch_at TYPE BIGINT USING coalesce(seconds_of_text(last_touch_at), 0),
    ALTER COLUMN last_inbound_at TYPE BIGINT USING seconds_of_text(last_inbound_at),
    ALTER COLUMN next_due TYPE BIGINT USING seconds_of_text(next_due),
    ALTER COLUMN wait_from TYPE BIGINT USING seconds_of_text(wait_from),
    ALTER COLUMN snoozed_until TYPE BIGINT USING seconds_of_text(snoozed_until),
    ALTER COLUMN created_at TYPE BIGINT USING coalesce(seconds_of_text(created_at), 0),
    ALTER COLUMN updated_at TYPE BIGINT USING coalesce(seconds_of_text(updated_at), 0);
ALTER TABLE events ALTER COLUMN at TYPE BIGINT USING coalesce(seconds_of_text(at), 0);
DROP FUNCTION seconds_of_text(TEXT);
