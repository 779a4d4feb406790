-- A message's Date and arrival as integers, microseconds since the Unix epoch (UTC): see
-- migrations/0016_integer_message_times.sql. The text was always chrono's RFC 3339 in UTC;
-- its fraction is cut to six digits before it is read (as on SQLite: no rounding up), and
-- text PostgreSQL cannot read as a time (another shape, the year 0) is not cast. A date
-- that cannot be read takes the arrival's, an arrival (or none) the date's, else the epoch.
CREATE FUNCTION message_time_of_text(t TEXT) RETURNS BIGINT LANGUAGE SQL AS $$
    SELECT CASE WHEN t ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$' AND t !~ '^0000'
                THEN (extract(epoch FROM regexp_replace(t, '(\.\d{6})\d+', '\1')::timestamptz)
                      * 1000000)::bigint
           END
$$;
ALTER TABLE messages
    ALTER COLUMN date TYPE BIGINT
        USING coalesce(message_time_of_text(date), message_time_of_text(arrived), 0),
    ALTER COLUMN arrived TYPE BIGINT
        USING coalesce(message_time_of_text(arrived), message_time_of_text(date), 0);
DROP FUNCTION message_time_of_text(TEXT);
