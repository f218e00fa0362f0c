ALTER TABLE orders ALTER COLUMN status TYPE integer USING status::integer;
