-- Channels v2: activity ordering for "my channels", deletion marker, member paging.

-- Serves: "the caller's channels, most recent activity first". Moved forward (never back) by each message
-- write, to the message's own time; a new channel starts at its creation.
ALTER TABLE chats ADD COLUMN last_activity_at timestamptz;
UPDATE chats SET last_activity_at = created_at WHERE last_activity_at IS NULL;
ALTER TABLE chats ALTER COLUMN last_activity_at SET DEFAULT now();
ALTER TABLE chats ALTER COLUMN last_activity_at SET NOT NULL;

-- Set by DELETE /channels/{id} before anything else: from then on the member check answers 404. The row
-- (and its participants) go at the end of the background purge.
ALTER TABLE chats ADD COLUMN deleted_at timestamptz;

-- Serves: a user's channels in one keyset-paged query (index-only on participants, then chats by key).
DROP INDEX IF EXISTS participants_user_idx;
CREATE INDEX participants_user_chat_idx ON participants (user_id, chat_id);
