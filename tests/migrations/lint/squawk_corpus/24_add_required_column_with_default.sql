SET lock_timeout = '1s';
ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';
