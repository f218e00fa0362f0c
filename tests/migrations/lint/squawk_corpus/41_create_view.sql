CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid';
