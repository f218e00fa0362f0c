SET lock_timeout = '1s';
ALTER TABLE customers ALTER COLUMN name TYPE text;
