-- The search index's version guard (lib/search/index-store.ts). The indexer applies a message's CURRENT state
-- read from Scylla, and several applications of one message may run at once (the indexer on the changes bus,
-- the reconciler's sweep, a retry), so each carries the Scylla write time (µs) of the message content it read,
-- and a write lands only over an older one: an older application never overwrites a newer one.
-- state_version = WRITETIME(content) of the message row as applied; 0 for rows indexed before this column.
-- deleted       = the message is deleted: the row stays as a marker (content '', so it matches nothing and adds
--                 nothing to the GIN index) holding the version, so a late, older application cannot revive it.
ALTER TABLE message_search ADD COLUMN IF NOT EXISTS state_version bigint NOT NULL DEFAULT 0;
ALTER TABLE message_search ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false;
