-- Chat metadata (chats, participants) and the message search index.
-- The runner sets search_path to DATABASE_SCHEMA; names here are unqualified.

CREATE TABLE chats (
    id               uuid PRIMARY KEY,
    name             text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    owner_id         uuid        NOT NULL,
    telegram_chat_id bigint      UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE participants (
    chat_id   uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id   uuid        NOT NULL,
    role      text        NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, user_id)
);
-- Serves "which chats is this user in".
CREATE INDEX participants_user_idx ON participants (user_id);

-- One row per live message. The text-search configuration is stored per row so each message is stemmed in
-- its own language; to_tsvector(regconfig, text) is immutable, so the vector can be a generated column.
CREATE TABLE message_search (
    chat_id       uuid        NOT NULL,
    message_id    bigint      NOT NULL,
    author_id     uuid        NOT NULL,
    content       text        NOT NULL,
    search_config regconfig   NOT NULL DEFAULT 'simple',
    document      tsvector    GENERATED ALWAYS AS (to_tsvector(search_config, content)) STORED,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
-- Search is always within one chat: btree_gin lets one GIN index narrow by chat and by lexeme together.
-- Extensions are database-wide, so it lives in public whatever DATABASE_SCHEMA is.
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;
CREATE INDEX message_search_chat_document_idx ON message_search USING gin (chat_id, document);
