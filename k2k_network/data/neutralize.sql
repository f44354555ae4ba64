-- A copy of the database must not talk to the real partners: its remote
-- connections are suspended (the partner is not told), and the outbox sends
-- nothing to another database while database.is_neutralized is set.
UPDATE k2k_connection
   SET state = 'suspended'
 WHERE transport = 'http'
   AND state = 'active';
