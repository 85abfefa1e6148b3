-- Message templates (the seed's message_templates): reusable message content with {{variable}} placeholders,
-- owned by one chat. Serves: the page of a chat's templates by name (keyset over (name, id)), one template by
-- (chat, id) for edits, deletes and rendering, and the one-name-per-chat rule.

CREATE TABLE message_templates (
    id         uuid        PRIMARY KEY,
    -- Deleting the chat deletes its templates with it.
    chat_id    uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    -- "C": listing order is code-point order on every deployment, whatever the database's locale.
    name       text        COLLATE "C" NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    content    text        NOT NULL CHECK (char_length(content) BETWEEN 1 AND 4096),
    created_by uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- One name per chat; the index also serves the listing (chat_id = $1 ORDER BY name, id) and the cascade.
    CONSTRAINT message_templates_chat_name_key UNIQUE (chat_id, name)
);
