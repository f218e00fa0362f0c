CREATE INDEX CONCURRENTLY ix_orders_placed ON orders (placed_at);
