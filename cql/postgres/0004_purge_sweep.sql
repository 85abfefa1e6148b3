-- Serves: the reconciler's sweep of deleted chats whose purge has not finished (the purge drops the row
-- last), without a scan of every chat: only deleted rows are in this index, and they leave it when purged.
CREATE INDEX IF NOT EXISTS chats_deleted_idx ON chats (id) WHERE deleted_at IS NOT NULL;
