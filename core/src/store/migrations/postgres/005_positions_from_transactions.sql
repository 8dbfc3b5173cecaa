-- Schema 5: processes write one tenant's different orders at the same time,
-- so a change's place in the log can no longer be the order its row was
-- inserted in: a transaction that took number 10 may commit after one that
-- took 11, and a device that pulled up to 11 would never see 10.
--
-- A change's position is now its transaction's id (plus `log_base.base`, so
-- positions go on above every number the log gave before and every cursor a
-- device holds stays valid), the same for every change one transaction
-- writes. A device pulls only up to just below the oldest transaction still
-- running that may write this log (`log_settled()`): everything at or below
-- that has committed or will never exist, so a cursor moved there never
-- passes a change that commits later. `seq` still orders the changes within
-- one transaction.
--
-- Each document's `generation` now counts that document's own writes (a
-- process reloads a document whose count moved); the tenant-wide write
-- counter every write updated, and every writer waited on, is gone.
CREATE TABLE log_base (base BIGINT NOT NULL);
INSERT INTO log_base (base) SELECT COALESCE(MAX(seq), 0) FROM changes;

CREATE FUNCTION log_position() RETURNS BIGINT LANGUAGE sql VOLATILE SET search_path FROM CURRENT
    AS 'SELECT pg_current_xact_id()::text::bigint + base FROM log_base';

ALTER TABLE changes ADD COLUMN pos BIGINT;
UPDATE changes SET pos = seq;
ALTER TABLE changes ALTER COLUMN pos SET DEFAULT log_position();
ALTER TABLE changes ALTER COLUMN pos SET NOT NULL;
CREATE INDEX changes_by_doc_position ON changes (doc_id, pos, seq);
CREATE INDEX changes_by_position ON changes (pos, seq);
CREATE INDEX grants_by_granted ON grants (granted_seq);
CREATE INDEX grants_by_revoked ON grants (revoked_seq);

-- Every transaction on a tenant's store holds a shared advisory lock keyed on
-- the schema from its BEGIN, before it has a transaction id (`PgBackend::begin`
-- in the server): so the transactions still running that may write this log
-- are known, and one running elsewhere on the database server (another
-- tenant, another database) holds nothing back. A running transaction whose
-- owner cannot be seen (it is between taking its id and recording it) counts,
-- to be safe. Capped at the last position written, so a cursor does not move
-- when nothing new was written.
CREATE FUNCTION log_settled() RETURNS BIGINT LANGUAGE sql VOLATILE SET search_path FROM CURRENT AS $$
    WITH snap AS (SELECT pg_current_snapshot() AS s),
    key AS (SELECT hashtextextended('fieldwork log writers ' || current_schema(), 0) AS k),
    writers AS (
        SELECT t.transactionid::text::bigint AS x
          FROM key, pg_locks w
          JOIN pg_locks t
            ON t.virtualtransaction = w.virtualtransaction AND t.locktype = 'transactionid'
         WHERE w.locktype = 'advisory'
           AND w.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND w.classid = ((key.k >> 32) & 4294967295)::oid
           AND w.objid = (key.k & 4294967295)::oid
           AND w.objsubid = 1
    ),
    known AS (SELECT transactionid::text::bigint AS x FROM pg_locks WHERE locktype = 'transactionid'),
    running AS (SELECT x::text::bigint AS x8 FROM snap, pg_snapshot_xip(snap.s) AS x),
    holding AS (
        SELECT x8 FROM running
         WHERE x8 % 4294967296 IN (SELECT x FROM writers)
            OR x8 % 4294967296 NOT IN (SELECT x FROM known)
    )
    SELECT LEAST(
        (SELECT COALESCE(MIN(x8), pg_snapshot_xmax((SELECT s FROM snap))::text::bigint) FROM holding)
            - 1 + base,
        GREATEST(
            base,
            (SELECT MAX(pos) FROM changes),
            (SELECT MAX(granted_seq) FROM grants),
            (SELECT MAX(revoked_seq) FROM grants)
        )
    ) FROM log_base
$$;

DROP TABLE store_generation;
DROP INDEX documents_by_generation;
