SET lock_timeout = '1s';
ALTER TABLE customers ADD CONSTRAINT uq_customers_email UNIQUE USING INDEX ix_customers_email;
