SET lock_timeout = '1s';
ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_customer;
