SET lock_timeout = '1s';
ALTER TABLE orders ADD COLUMN coupon text;
