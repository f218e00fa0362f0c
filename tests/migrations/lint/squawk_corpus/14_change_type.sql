ALTER TABLE orders ALTER COLUMN total TYPE double precision;
