-- BriefSync device store, SQLite, version 2: accounts and incarnations. Released migrations never
-- change; add new files.
--
-- The outbox and read_states hold the state of the account signed in (sync_state.account) and
-- of no other: signing out moves them to the sealed_ tables under that account, and signing in
-- moves that account's rows back. A store migrated from version 1 has no account yet; its rows
-- belong to the first account that signs in, as they belonged to the one signed in before.

-- The account the outbox and read_states belong to; NULL while none is signed in.
ALTER TABLE sync_state ADD COLUMN account TEXT;
-- The account whose changes feed the briefs and change_token follow (the last one signed in).
ALTER TABLE sync_state ADD COLUMN feed_account TEXT;
-- Which copy of this store this is: renewed when the server shows another copy pushed under it.
ALTER TABLE sync_state ADD COLUMN incarnation TEXT;
-- The highest mutation id this store ever sent: a cursor above it can only be a copy's.
ALTER TABLE sync_state ADD COLUMN sent_through INTEGER NOT NULL DEFAULT 0;

-- When the server's state of a brief was last merged into read_states.confirmed (explain).
ALTER TABLE read_states ADD COLUMN confirmed_at INTEGER;

-- Every account that signed in on this store, for status and for signing in again.
CREATE TABLE accounts (
    account      TEXT PRIMARY KEY,   -- AccountID: lowercased username, "@", server
    server       TEXT NOT NULL,
    username     TEXT NOT NULL,
    signed_in_at INTEGER NOT NULL
);

-- Queued mutations of accounts signed out, kept until that account signs in again (or asks for
-- them to be discarded). Never sent under another account.
CREATE TABLE sealed_outbox (
    account     TEXT NOT NULL,
    mutation_id INTEGER NOT NULL,
    brief_id    TEXT NOT NULL,
    mutation    TEXT NOT NULL,
    queued_at   INTEGER NOT NULL,
    PRIMARY KEY (account, mutation_id)
);

-- Reading states of accounts signed out, as read_states held them.
CREATE TABLE sealed_read_states (
    account        TEXT NOT NULL,
    brief_id       TEXT NOT NULL,
    confirmed      TEXT,
    visible        TEXT NOT NULL,
    confirmed_at   INTEGER,
    PRIMARY KEY (account, brief_id)
);

-- Mutations dropped because they can no longer apply (their brief is gone from the server).
CREATE TABLE dropped_mutations (
    mutation_id INTEGER NOT NULL,
    account     TEXT,
    brief_id    TEXT NOT NULL,
    mutation    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    dropped_at  INTEGER NOT NULL
);
