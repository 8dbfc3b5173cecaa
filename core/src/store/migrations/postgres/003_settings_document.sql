-- Schema 3: the service center's settings document (kind 'settings').
ALTER TABLE documents DROP CONSTRAINT documents_kind_check;
ALTER TABLE documents ADD CONSTRAINT documents_kind_check
    CHECK (kind IN ('work_order', 'van_stock', 'catalog', 'settings'));
