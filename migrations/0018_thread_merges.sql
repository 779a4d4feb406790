-- When two threads turn out to be one, the thread that goes away is recorded here with the
-- thread it went into, instead of every key of it being rewritten: `thread_keys` then needs
-- no index by thread (18 bytes a message), and a merge costs the same however long the
-- threads are. A key's thread is its row's, or where that thread went
-- (`store::messages::THREAD_OF_KEY`). `into_thread` is always a thread that did not go
-- away: a merge into a thread first points there whatever pointed at the thread it absorbs.
CREATE TABLE thread_merges (
    thread_id   INTEGER PRIMARY KEY REFERENCES threads(id),
    into_thread INTEGER NOT NULL REFERENCES threads(id)
);
CREATE INDEX thread_merges_into ON thread_merges(into_thread);
DROP INDEX thread_keys_thread;
