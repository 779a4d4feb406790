-- A Message-ID is threaded by a key, the first eight bytes of its SHA-256 read as a signed
-- big-endian integer (`store::messages::thread_key`), instead of by its text: the text was
-- stored twice, in the table and in its primary-key index, about 75 bytes a message of the
-- 630 a store took. The key is the row id, so the table is one small B-tree.
--
-- SQLite has no SHA-256: nudge moves the rows of thread_ids here itself when it opens the
-- store, in one transaction that drops thread_ids at its end (`Store::open`). A process
-- stopped between this migration and that step leaves both tables, and the next start
-- finishes the move.
CREATE TABLE thread_keys (
    key       INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES threads(id)
);
CREATE INDEX thread_keys_thread ON thread_keys(thread_id);
