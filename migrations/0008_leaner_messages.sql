-- A leaner store (issue 10): about 90 bytes a message less; and the Organization header of
-- mail from others, which names the prospect's company as they write it.
-- - messages_unprocessed (processed, date) was replaced by messages_unprocessed_arrived in 0002:
--   every query of unprocessed mail orders by arrival.
-- - messages_from: no query looks messages up by sender.
-- - seen_at: written, never read.
DROP INDEX IF EXISTS messages_unprocessed;
DROP INDEX IF EXISTS messages_from;
ALTER TABLE messages DROP COLUMN seen_at;
ALTER TABLE messages ADD COLUMN organization TEXT;
