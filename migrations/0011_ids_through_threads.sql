-- A smaller store (issue 10), about 40 bytes a message less: a message is found by its
-- Message-ID through thread_ids (the thread every id ever seen belongs to, which a stored
-- message's own id always names) and the thread's messages, not through an index of its own
-- that repeated every Message-ID once more.
DROP INDEX IF EXISTS messages_message_id;
