-- A copy of the database must not talk to the real partners: its remote
-- connections are suspended (the partner is not told), and the outbox sends
-- nothing to another database while database.is_neutralized is set.
UPDATE k2k_connection
   SET state = 'suspended'
 WHERE transport = 'http'
   AND state = 'active';
-- Nor may whoever reads the copy sign as this company, or be signed for:
-- the keys and any open invitation are erased (a copy joins nobody).
UPDATE k2k_connection
   SET inbound_key = NULL,
       inbound_key_previous = NULL,
       outbound_key = NULL,
       invitation_secret = NULL,
       invitation_code = NULL
 WHERE transport = 'http';
