-- Schema 5: the service center's settings document (kind 'settings').
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- (SQLite's documented twelve steps; foreign keys are off for this
-- migration and checked before it commits).
CREATE TABLE documents_new (
    doc_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('work_order', 'van_stock', 'catalog', 'settings')),
    snapshot    BLOB NOT NULL,
    chunk_count INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO documents_new (doc_id, kind, snapshot, chunk_count)
    SELECT doc_id, kind, snapshot, chunk_count FROM documents;
DROP TABLE documents;
ALTER TABLE documents_new RENAME TO documents;
