COMMIT;
CREATE INDEX CONCURRENTLY ix_orders_customer ON orders (customer_id);
BEGIN;
