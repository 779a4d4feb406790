-- A smaller store (issue 10), about 40 bytes a message less: unprocessed mail is found
-- through a partial index that holds only unprocessed messages, not an entry for every
-- message ever synced.
DROP INDEX IF EXISTS messages_unprocessed_arrived;
CREATE INDEX messages_unprocessed_arrived ON messages(arrived, id) WHERE processed = 0;
