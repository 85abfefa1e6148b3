-- Serves: the changes feed for state changes PostgreSQL holds (members, a channel's name, its Telegram link,
-- its deletion). The change is inserted here in the same transaction as the state change, so neither exists
-- without the other; the request then writes it to Scylla's channel_changes with the id minted before the
-- transaction and deletes the row. A row left behind (a crash, Scylla down) is relayed by the reconciler:
-- written under a fresh id unless channel_changes already holds its id. Rows live for seconds.
CREATE TABLE IF NOT EXISTS change_outbox (
    id bigserial PRIMARY KEY,
    channel_id uuid NOT NULL,
    change_id bigint NOT NULL,
    audience uuid NOT NULL,
    type text NOT NULL,
    body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS change_outbox_created_idx ON change_outbox (created_at);
