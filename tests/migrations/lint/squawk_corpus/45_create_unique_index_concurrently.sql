COMMIT;
CREATE UNIQUE INDEX CONCURRENTLY ix_customers_email ON customers (email);
BEGIN;
