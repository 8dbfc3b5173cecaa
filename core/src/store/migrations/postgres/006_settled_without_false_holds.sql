-- Schema 6: `log_settled()` no longer holds the log back for a transaction
-- of someone else that merely ended while it looked.
--
-- Schema 5 took the snapshot, then read `pg_locks` in the same statement,
-- and counted every running transaction it could not find in `pg_locks` as
-- a possible writer of this log. A transaction anywhere on the database
-- server (another tenant, another database) that committed between the
-- two was in the snapshot but gone from `pg_locks`, so a phone's pull
-- stopped below it and missed what had committed before the pull began:
-- an order dispatched a moment before an engineer's sync arrived only on
-- the next one. The busier the server, the more often.
--
-- Now, in three steps, each a statement of its own (so each sees what the
-- one before left):
--   1. the snapshot: the transactions running now;
--   2. `pg_locks`: of those, which hold this log's writers' lock (a writer
--      takes it at BEGIN, before it has a transaction id);
--   3. of those `pg_locks` did not show, which are still running
--      (`pg_xact_status`). One that has ended since the snapshot holds
--      nothing back: whatever it wrote is committed, and every statement
--      the pull runs after this one sees it. One still running (it has an
--      id but was not yet in `pg_locks`) counts, to be safe, as before.
CREATE OR REPLACE FUNCTION log_settled() RETURNS BIGINT LANGUAGE plpgsql VOLATILE
    SET search_path FROM CURRENT AS $$
DECLARE
    snap pg_snapshot;
    key BIGINT := hashtextextended('fieldwork log writers ' || current_schema(), 0);
    writers BIGINT[];
    known BIGINT[];
    oldest BIGINT;
BEGIN
    SELECT pg_current_snapshot() INTO snap;
    -- One read of the lock table: who holds a transaction id (its own, held
    -- exclusively; a transaction waiting for another asks for that one's id
    -- shared), and which of them also hold this log's writers' lock.
    WITH locks AS MATERIALIZED (SELECT * FROM pg_locks)
    SELECT
        COALESCE(array_agg(t.transactionid::text::bigint)
                 FILTER (WHERE w.virtualtransaction IS NOT NULL), '{}'),
        COALESCE(array_agg(t.transactionid::text::bigint), '{}')
      INTO writers, known
      FROM locks t
      LEFT JOIN locks w
        ON w.virtualtransaction = t.virtualtransaction
       AND w.locktype = 'advisory'
       AND w.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND w.classid = ((key >> 32) & 4294967295)::oid
       AND w.objid = (key & 4294967295)::oid
       AND w.objsubid = 1
     WHERE t.locktype = 'transactionid' AND t.granted AND t.mode = 'ExclusiveLock';
    SELECT MIN(x::text::bigint) INTO oldest
      FROM pg_snapshot_xip(snap) AS x
     WHERE (x::text::bigint % 4294967296) = ANY (writers)
        OR (NOT (x::text::bigint % 4294967296) = ANY (known)
            AND pg_xact_status(x) IS NOT DISTINCT FROM 'in progress');
    RETURN (
        SELECT LEAST(
            COALESCE(oldest, pg_snapshot_xmax(snap)::text::bigint) - 1 + base,
            GREATEST(
                base,
                (SELECT MAX(pos) FROM changes),
                (SELECT MAX(granted_seq) FROM grants),
                (SELECT MAX(revoked_seq) FROM grants)
            )
        ) FROM log_base
    );
END
$$;
