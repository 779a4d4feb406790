-- A conversation's times and its history's as integers, microseconds since the Unix epoch
-- (UTC): see migrations/0017_integer_conversation_times.sql. The text is read as migration 5
-- reads a message's; a time that cannot be read is NULL where the column may be, else the
-- epoch. Changing a column's type rewrites the table without firing the history's
-- append-only trigger.
CREATE FUNCTION time_of_text(t TEXT) RETURNS BIGINT LANGUAGE SQL AS $$
    SELECT CASE WHEN t ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$' AND t !~ '^0000'
                THEN (extract(epoch FROM regexp_replace(t, '(\.\d{6})\d+', '\1')::timestamptz)
                      * 1000000)::bigint
           END
$$;
ALTER TABLE conversations
    ALTER COLUMN first_touch_at TYPE BIGINT USING coalesce(time_of_text(first_touch_at), 0),
    ALTER COLUMN last_touch_at TYPE BIGINT USING coalesce(time_of_text(last_touch_at), 0),
    ALTER COLUMN last_inbound_at TYPE BIGINT USING time_of_text(last_inbound_at),
    ALTER COLUMN next_due TYPE BIGINT USING time_of_text(next_due),
    ALTER COLUMN wait_from TYPE BIGINT USING time_of_text(wait_from),
    ALTER COLUMN snoozed_until TYPE BIGINT USING time_of_text(snoozed_until),
    ALTER COLUMN created_at TYPE BIGINT USING coalesce(time_of_text(created_at), 0),
    ALTER COLUMN updated_at TYPE BIGINT USING coalesce(time_of_text(updated_at), 0);
ALTER TABLE events ALTER COLUMN at TYPE BIGINT USING coalesce(time_of_text(at), 0);
DROP FUNCTION time_of_text(TEXT);
