-- A smaller store (issue 10), about 40 bytes a message less:
-- - threads.created_at was written for every thread and never read: a thread is its id.
-- - messages_thread held each message's Date beside its thread, for an order nothing reads
--   from the index: a thread's messages are few, and a query that wants them in order sorts
--   them after finding them by thread.
ALTER TABLE threads DROP COLUMN created_at;
DROP INDEX IF EXISTS messages_thread;
CREATE INDEX messages_thread ON messages(thread_id);
