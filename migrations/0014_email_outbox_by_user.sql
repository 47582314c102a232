-- A registration at an address that already has an account queues at most one notice to its owner a day
-- (issue 20, gap 8: account enumeration), so it looks up the owner's recent mail in its transaction. Without
-- this index that lookup scans the whole outbox, which grows with every registration: the taken path would
-- get slower than the new one as the table grows, and its time would tell the two apart again. Deleting a
-- user (ON DELETE CASCADE) used the same scan.
CREATE INDEX email_outbox_user_idx ON email_outbox (user_id, created_at);
