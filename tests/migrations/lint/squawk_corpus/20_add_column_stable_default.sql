SET lock_timeout = '1s';
ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT now();
