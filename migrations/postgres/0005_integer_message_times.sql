-- A message's Date and arrival as integers, microseconds since the Unix epoch (UTC): see
-- migrations/0016_integer_message_times.sql. The text was always chrono's RFC 3339 in UTC;
-- its fraction is cut to six digits before it is read (as on SQLite: no rounding up), and
-- text PostgreSQL cannot read as a time (another shape, the year 0) is not cast. A date
-- that cannot be read takes the arrival's, an arrival (or none) the date's, else the epoch.
ALTER TABLE messages
    ALTER COLUMN date TYPE BIGINT USING coalesce(
        CASE WHEN date ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$'
                  AND date !~ '^0000'
             THEN (extract(epoch FROM regexp_replace(date, '(\.\d{6})\d+', '\1')::timestamptz)
                   * 1000000)::bigint END,
        CASE WHEN arrived ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$'
                  AND arrived !~ '^0000'
             THEN (extract(epoch FROM regexp_replace(arrived, '(\.\d{6})\d+', '\1')::timestamptz)
                   * 1000000)::bigint END,
        0),
    ALTER COLUMN arrived TYPE BIGINT USING coalesce(
        CASE WHEN arrived ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$'
                  AND arrived !~ '^0000'
             THEN (extract(epoch FROM regexp_replace(arrived, '(\.\d{6})\d+', '\1')::timestamptz)
                   * 1000000)::bigint END,
        CASE WHEN date ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$'
                  AND date !~ '^0000'
             THEN (extract(epoch FROM regexp_replace(date, '(\.\d{6})\d+', '\1')::timestamptz)
                   * 1000000)::bigint END,
        0);
