//! Threading in the store: messages linked by Message-ID, In-Reply-To and References, in any
//! order of arrival, with missing, duplicate and looping ids.

mod support;

use chrono::{TimeZone, Utc};
use nudge::mail::parse::{Mail, Mailbox};
use nudge::model::{Conversation, MessageClass, State};
use nudge::rules::{event, EventKind};
use nudge::store::{Effect, FolderState, NewMessage, Store};

fn mail(id: Option<&str>, in_reply_to: &[&str], references: &[&str]) -> Mail {
    Mail {
        message_id: id.map(str::to_string),
        in_reply_to: in_reply_to.iter().map(|s| s.to_string()).collect(),
        references: references.iter().map(|s| s.to_string()).collect(),
        from: Some(Mailbox {
            address: "ingrid@fjordkraft.no".into(),
            name: None,
        }),
        subject: "Tilbud".into(),
        date: Some(Utc.with_ymd_and_hms(2026, 11, 17, 10, 0, 0).unwrap()),
        ..Mail::default()
    }
}

struct Folder {
    uidvalidity: u32,
    next_uid: u32,
}

impl Folder {
    async fn store(&mut self, store: &Store, mail: Mail) -> i64 {
        self.store_read_as(store, mail, false, None).await
    }

    /// Stores `mail` as the headers read it: `automated` (list mail), of `class`.
    async fn store_read_as(
        &mut self,
        store: &Store,
        mail: Mail,
        automated: bool,
        class: Option<MessageClass>,
    ) -> i64 {
        let uid = self.next_uid;
        self.next_uid += 1;
        let message = NewMessage {
            folder: "INBOX".into(),
            uidvalidity: self.uidvalidity,
            uid,
            mail,
            gm_thrid: None,
            internal_date: None,
            flags: vec![],
            from_seller: false,
            automated,
            origin: nudge::model::Origin::Inbox,
            class,
        };
        let state = FolderState {
            name: "INBOX".into(),
            uidvalidity: self.uidvalidity,
            last_uid: uid,
            highest_modseq: None,
        };
        store
            .store_messages(&[message], &state, "inbox", Utc::now())
            .await
            .expect("stored")[0]
    }
}

async fn thread_of(store: &Store, id: i64) -> i64 {
    store.message(id).await.unwrap().unwrap().thread_id
}

async fn open() -> (tempfile::TempDir, Store, Folder) {
    let dir = tempfile::tempdir().unwrap();
    let store = support::stores::fresh(dir.path()).await;
    (
        dir,
        store,
        Folder {
            uidvalidity: 7,
            next_uid: 1,
        },
    )
}

#[tokio::test]
async fn a_child_arriving_before_its_parent_joins_the_same_thread() {
    let (_dir, store, mut inbox) = open().await;
    let grandchild = inbox
        .store(&store, mail(Some("c@x"), &["b@x"], &["a@x", "b@x"]))
        .await;
    let unrelated = inbox.store(&store, mail(Some("z@x"), &[], &[])).await;
    let root = inbox.store(&store, mail(Some("a@x"), &[], &[])).await;
    let child = inbox
        .store(&store, mail(Some("b@x"), &["a@x"], &["a@x"]))
        .await;
    let thread = thread_of(&store, root).await;
    assert_eq!(thread_of(&store, child).await, thread);
    assert_eq!(thread_of(&store, grandchild).await, thread);
    assert_ne!(thread_of(&store, unrelated).await, thread);
}

#[tokio::test]
async fn two_threads_joined_by_a_later_message_are_merged() {
    let (_dir, store, mut inbox) = open().await;
    // Two halves that only a third message (naming both) shows to be one thread.
    let left = inbox.store(&store, mail(Some("l@x"), &[], &[])).await;
    let right = inbox.store(&store, mail(Some("r@x"), &[], &[])).await;
    assert_ne!(
        thread_of(&store, left).await,
        thread_of(&store, right).await
    );
    let bridge = inbox
        .store(&store, mail(Some("m@x"), &["r@x"], &["l@x", "r@x"]))
        .await;
    let thread = thread_of(&store, bridge).await;
    assert_eq!(thread_of(&store, left).await, thread);
    assert_eq!(thread_of(&store, right).await, thread);
    assert_eq!(store.thread_messages(thread).await.unwrap().len(), 3);
}

/// A thread that went into another leads there for good: by every key it had, also after
/// the thread it went into went into a third.
#[tokio::test]
async fn the_keys_of_merged_threads_lead_to_where_they_went() {
    let (_dir, store, mut inbox) = open().await;
    let first = inbox.store(&store, mail(Some("a@x"), &[], &[])).await;
    let second = inbox.store(&store, mail(Some("b@x"), &[], &["b0@x"])).await;
    let third = inbox.store(&store, mail(Some("c@x"), &[], &["c0@x"])).await;
    // The second and third are one; then the first and the second.
    inbox
        .store(&store, mail(Some("bc@x"), &[], &["b@x", "c@x"]))
        .await;
    inbox
        .store(&store, mail(Some("ab@x"), &[], &["a@x", "b@x"]))
        .await;
    let thread = thread_of(&store, first).await;
    assert_eq!(thread_of(&store, second).await, thread);
    assert_eq!(thread_of(&store, third).await, thread);
    for id in ["a@x", "b@x", "b0@x", "c@x", "c0@x", "bc@x", "ab@x"] {
        assert_eq!(store.thread_of(id).await.unwrap(), Some(thread), "{id}");
    }
    assert!(store.knows_message_id("c@x").await.unwrap());
    assert!(!store.knows_message_id("c0@x").await.unwrap(), "only named");
    // Late replies to what only the absorbed threads named join the one thread.
    let late = inbox.store(&store, mail(Some("d@x"), &[], &["c0@x"])).await;
    let later = inbox.store(&store, mail(Some("e@x"), &["c@x"], &[])).await;
    assert_eq!(thread_of(&store, late).await, thread);
    assert_eq!(thread_of(&store, later).await, thread);
    assert_eq!(store.thread_messages(thread).await.unwrap().len(), 7);
}

#[tokio::test]
async fn reference_loops_and_self_references_terminate() {
    let (_dir, store, mut inbox) = open().await;
    let a = inbox
        .store(&store, mail(Some("a@x"), &["b@x"], &["b@x", "a@x"]))
        .await;
    let b = inbox
        .store(&store, mail(Some("b@x"), &["a@x"], &["a@x", "b@x"]))
        .await;
    assert_eq!(thread_of(&store, a).await, thread_of(&store, b).await);
}

#[tokio::test]
async fn messages_without_message_id_still_thread() {
    let (_dir, store, mut inbox) = open().await;
    let root = inbox.store(&store, mail(Some("a@x"), &[], &[])).await;
    let orphan = inbox.store(&store, mail(None, &[], &[])).await;
    let other_orphan = inbox.store(&store, mail(None, &[], &[])).await;
    let reply = inbox.store(&store, mail(None, &["a@x"], &[])).await;
    assert_eq!(
        thread_of(&store, reply).await,
        thread_of(&store, root).await
    );
    assert_ne!(
        thread_of(&store, orphan).await,
        thread_of(&store, root).await
    );
    assert_ne!(
        thread_of(&store, orphan).await,
        thread_of(&store, other_orphan).await,
        "two messages without ids are not one thread"
    );
}

#[tokio::test]
async fn a_duplicate_message_id_is_stored_once_per_uid() {
    let (_dir, store, mut inbox) = open().await;
    let first = inbox.store(&store, mail(Some("dup@x"), &[], &[])).await;
    let second = inbox.store(&store, mail(Some("dup@x"), &[], &[])).await;
    assert_ne!(first, second, "two copies on the server are two rows");
    assert_eq!(
        thread_of(&store, first).await,
        thread_of(&store, second).await
    );
    // The same UID fetched again (a crash before the sync state was saved) adds nothing.
    inbox.next_uid -= 1;
    let again = inbox.store(&store, mail(Some("dup@x"), &[], &[])).await;
    assert_eq!(again, second);
    assert_eq!(store.message_count().await.unwrap(), 2);
}

#[tokio::test]
async fn a_new_uidvalidity_reuses_the_row_of_the_same_message() {
    let (_dir, store, mut inbox) = open().await;
    let before = inbox.store(&store, mail(Some("a@x"), &[], &[])).await;
    let mut rebuilt = Folder {
        uidvalidity: 8,
        next_uid: 1,
    };
    let after = rebuilt.store(&store, mail(Some("a@x"), &[], &[])).await;
    assert_eq!(before, after);
    assert_eq!(store.message_count().await.unwrap(), 1);
}

/// A thread's messages found again under a new UIDVALIDITY each take back their own row, not
/// a sibling's from the same thread, whatever order they come in.
#[tokio::test]
async fn a_new_uidvalidity_gives_each_message_of_a_thread_its_own_row_back() {
    let (_dir, store, mut inbox) = open().await;
    let opener = mail(Some("a@x"), &[], &[]);
    let reply = mail(Some("b@x"), &["a@x"], &["a@x"]);
    let again = mail(Some("c@x"), &["b@x"], &["a@x", "b@x"]);
    let rows = [
        inbox.store(&store, opener.clone()).await,
        inbox.store(&store, reply.clone()).await,
        inbox.store(&store, again.clone()).await,
    ];
    let thread = thread_of(&store, rows[0]).await;
    for row in rows {
        assert_eq!(thread_of(&store, row).await, thread);
    }
    let mut rebuilt = Folder {
        uidvalidity: 8,
        next_uid: 1,
    };
    assert_eq!(rebuilt.store(&store, again).await, rows[2]);
    assert_eq!(rebuilt.store(&store, opener).await, rows[0]);
    assert_eq!(rebuilt.store(&store, reply).await, rows[1]);
    assert_eq!(store.message_count().await.unwrap(), 3);
}

fn conversation(thread_id: i64, touched_day: u32) -> Conversation {
    let at = Utc
        .with_ymd_and_hms(2026, 11, touched_day, 9, 0, 0)
        .unwrap();
    Conversation::new(
        thread_id,
        &format!("thread {thread_id}"),
        vec!["ingrid@fjordkraft.no".into()],
        at,
        None,
    )
}

#[tokio::test]
async fn merging_threads_with_two_conversations_keeps_the_latest_and_stops_the_other() {
    let (_dir, store, mut inbox) = open().await;
    let left = inbox.store(&store, mail(Some("l@x"), &[], &[])).await;
    let right = inbox.store(&store, mail(Some("r@x"), &[], &[])).await;
    let (left_thread, right_thread) = (
        thread_of(&store, left).await,
        thread_of(&store, right).await,
    );
    let at = Utc::now();
    let ids = store
        .commit_effects(
            None,
            &[
                Effect::Track(
                    conversation(left_thread, 10),
                    event(at, EventKind::Tracked, "left"),
                ),
                Effect::Track(
                    conversation(right_thread, 12),
                    event(at, EventKind::Tracked, "right"),
                ),
            ],
            at,
        )
        .await
        .unwrap();
    inbox
        .store(&store, mail(Some("m@x"), &[], &["l@x", "r@x"]))
        .await;
    let merged = thread_of(&store, left).await;
    let goes_on = store
        .conversation_for_thread(merged)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(goes_on.id, ids[1], "the conversation touched last goes on");
    assert_eq!(goes_on.state, State::Waiting);
    let stopped = store.conversation(ids[0]).await.unwrap().unwrap();
    assert_eq!(stopped.state, State::Stopped);
    assert!(stopped.stop_reason.unwrap().contains("merged"));
    store.integrity_check().await.unwrap();
}

#[tokio::test]
async fn an_in_reply_to_that_repeats_a_reference_is_stored_once_and_still_answered() {
    let (_dir, store, mut inbox) = open().await;
    let repeated = inbox
        .store(&store, mail(Some("c@x"), &["b@x"], &["a@x", "b@x"]))
        .await;
    let its_own = inbox
        .store(&store, mail(Some("d@x"), &["e@x"], &["a@x"]))
        .await;
    let read = store.message(repeated).await.unwrap().unwrap();
    assert!(read.in_reply_to.is_empty(), "{:?}", read.in_reply_to);
    assert_eq!(read.references, ["a@x", "b@x"]);
    assert!(read.names("b@x") && read.names("a@x"));
    let read = store.message(its_own).await.unwrap().unwrap();
    assert_eq!(read.in_reply_to, ["e@x"], "an id References lacks is kept");
    assert!(read.names("e@x") && read.names("a@x") && !read.names("b@x"));
}

#[tokio::test]
async fn list_mail_is_stored_applied_with_what_threads_it() {
    let (_dir, store, mut inbox) = open().await;
    let list = Mail {
        to: vec![Mailbox {
            address: "salg@lists.example.org".into(),
            name: Some("Salgsforum".into()),
        }],
        subject: "Beste CRM?".into(),
        ..mail(Some("post@lists.example.org"), &["p@x"], &["p@x"])
    };
    let post = inbox
        .store_read_as(&store, list.clone(), true, Some(MessageClass::Automated))
        .await;
    // The same headers classed otherwise by them (a list's bounce) are still to be applied.
    let bounce = inbox
        .store_read_as(
            &store,
            Mail {
                message_id: Some("bounce@lists.example.org".into()),
                ..list
            },
            true,
            Some(MessageClass::Bounce),
        )
        .await;
    let answer = inbox
        .store(
            &store,
            mail(
                Some("answer@x"),
                &["post@lists.example.org"],
                &["post@lists.example.org"],
            ),
        )
        .await;
    let unprocessed = support::stores::unprocessed_ids(&store).await;
    assert_eq!(
        unprocessed,
        [bounce, answer],
        "list mail is applied as stored"
    );
    let kept = store.message(post).await.unwrap().unwrap();
    assert_eq!(kept.message_id.as_deref(), Some("post@lists.example.org"));
    assert_eq!(kept.from_addr, "ingrid@fjordkraft.no");
    assert!(kept.automated && kept.class == Some(MessageClass::Automated));
    assert_eq!(
        kept.date,
        Utc.with_ymd_and_hms(2026, 11, 17, 10, 0, 0).unwrap()
    );
    assert!(kept.subject.is_empty() && kept.to.is_empty() && kept.from_name.is_none());
    let thread = thread_of(&store, post).await;
    assert_eq!(thread_of(&store, answer).await, thread);
    assert!(store
        .threads_with_automated_mail()
        .await
        .unwrap()
        .contains(&thread));
    let full = store.message(bounce).await.unwrap().unwrap();
    assert_eq!(full.subject, "Beste CRM?");
    assert_eq!(full.references, ["p@x"]);
}

/// Of a message the store keeps whom it addresses only when the seller wrote it (a touch's
/// prospects, a draft's recipients), and of its flags only `\Flagged`.
#[tokio::test]
async fn recipients_are_kept_of_the_sellers_mail_and_only_the_flag_that_is_read() {
    let (_dir, store, _) = open().await;
    let people = |addresses: &[&str]| -> Vec<Mailbox> {
        addresses
            .iter()
            .map(|a| Mailbox {
                address: a.to_string(),
                name: Some("N".into()),
            })
            .collect()
    };
    let mut ids = Vec::new();
    for (uid, (folder, from_seller, flags)) in [
        ("Sent", true, vec!["\\Seen", "\\Flagged"]),
        ("INBOX", false, vec!["\\Seen", "$Label1", "\\flagged"]),
        ("INBOX", false, vec!["\\Seen", "\\Answered"]),
    ]
    .into_iter()
    .enumerate()
    {
        let uid = uid as u32 + 1;
        let message = NewMessage {
            folder: folder.into(),
            uidvalidity: 7,
            uid,
            mail: Mail {
                to: people(&["ingrid@fjordkraft.no"]),
                cc: people(&["per@fjordkraft.no", "kari@fjordsalg.no"]),
                ..mail(Some(&format!("m{uid}@x")), &[], &[])
            },
            gm_thrid: None,
            internal_date: None,
            flags: flags.into_iter().map(String::from).collect(),
            from_seller,
            automated: false,
            origin: if from_seller {
                nudge::model::Origin::Sent
            } else {
                nudge::model::Origin::Inbox
            },
            class: (!from_seller).then_some(MessageClass::Reply),
        };
        let state = FolderState {
            name: folder.into(),
            uidvalidity: 7,
            last_uid: uid,
            highest_modseq: None,
        };
        ids.extend(
            store
                .store_messages(&[message], &state, "inbox", Utc::now())
                .await
                .unwrap(),
        );
    }
    let read = |id| {
        let store = &store;
        async move { store.message(id).await.unwrap().unwrap() }
    };
    let sent = read(ids[0]).await;
    assert_eq!(sent.to.len(), 1);
    assert_eq!(sent.cc.len(), 2);
    assert_eq!(sent.cc[0].name.as_deref(), Some("N"));
    assert_eq!(sent.flags, ["\\Flagged"]);
    let flagged = read(ids[1]).await;
    assert!(flagged.to.is_empty() && flagged.cc.is_empty());
    assert!(flagged.is_flagged());
    assert_eq!(flagged.subject, "Tilbud", "the rest is kept");
    let plain = read(ids[2]).await;
    assert!(plain.flags.is_empty(), "{:?}", plain.flags);
}
