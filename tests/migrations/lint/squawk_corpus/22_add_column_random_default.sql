ALTER TABLE orders ADD COLUMN sample_weight double precision DEFAULT random();
