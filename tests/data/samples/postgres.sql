-- A shop database in the style of a real project that never heard of dbops: made by SQL, with a
-- range-partitioned table whose foreign keys sit on the partitions, sequences created separately and used by
-- DEFAULT nextval(...) without OWNED BY, an identity column, a generated column, BEFORE UPDATE triggers,
-- a domain with a CHECK, an enum, text[], tsvector, char(n), bytea, inet, '' next to NULL, an id 0, table
-- inheritance, views and a materialized view. About 50,000 rows. Load it with psql.

SET client_min_messages = warning;

CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh', 'it''s complicated');
CREATE DOMAIN quantity AS integer CHECK (VALUE > 0);
CREATE DOMAIN zip_code AS char(5) CHECK (VALUE ~ '^[0-9]{5}$');

CREATE SEQUENCE customer_id_seq;                           -- no OWNED BY: pg_get_serial_sequence can't find it
CREATE SEQUENCE invoice_no_seq START 1000 INCREMENT 7;    -- used by a column that isn't a key
CREATE SEQUENCE order_id_seq AS bigint;
CREATE SEQUENCE ticket_seq START 500;                      -- used by application code only
CREATE SEQUENCE never_used_seq;                            -- is_called = false

CREATE FUNCTION touch_last_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_update := clock_timestamp();
    RETURN NEW;
END
$$;

CREATE TABLE country (
    code char(2) PRIMARY KEY,
    name text NOT NULL,
    last_update timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE category (
    id serial PRIMARY KEY,
    parent_id integer REFERENCES category (id),
    name varchar(60) NOT NULL
);

CREATE TABLE customer (
    id integer PRIMARY KEY DEFAULT nextval('customer_id_seq'),
    country_code char(2) REFERENCES country (code),
    email text,
    nickname varchar(40),
    mood mood,
    tags text[],
    zip zip_code,
    search tsvector,
    avatar bytea,
    balance numeric(12, 2) NOT NULL DEFAULT 0,
    last_seen_ip inet,
    label text GENERATED ALWAYS AS (coalesce(nickname, '?') || ' <' || coalesce(email, '') || '>') STORED,
    last_update timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE product (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku char(8) NOT NULL UNIQUE,
    title text NOT NULL,
    category_id integer REFERENCES category (id),
    price numeric(10, 2) NOT NULL,
    weight_kg double precision,
    stock quantity,
    last_update timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id bigint NOT NULL DEFAULT nextval('order_id_seq'),
    ordered_on date NOT NULL,
    customer_id integer NOT NULL,
    product_id integer NOT NULL,
    invoice_no integer DEFAULT nextval('invoice_no_seq'),
    quantity quantity NOT NULL,
    note text,
    PRIMARY KEY (id, ordered_on)
) PARTITION BY RANGE (ordered_on);
CREATE TABLE orders_2023 PARTITION OF orders FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE orders_2024 PARTITION OF orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE orders_other PARTITION OF orders DEFAULT;
-- the foreign keys are the partitions', not the parent's
ALTER TABLE orders_2023 ADD FOREIGN KEY (customer_id) REFERENCES customer (id);
ALTER TABLE orders_2023 ADD FOREIGN KEY (product_id) REFERENCES product (id);
ALTER TABLE orders_2024 ADD FOREIGN KEY (customer_id) REFERENCES customer (id);
ALTER TABLE orders_2024 ADD FOREIGN KEY (product_id) REFERENCES product (id);
ALTER TABLE orders_other ADD FOREIGN KEY (customer_id) REFERENCES customer (id);

CREATE TABLE shipment (
    id serial PRIMARY KEY,
    order_id bigint NOT NULL,
    ordered_on date NOT NULL,
    shipped_at timestamp(3) without time zone,
    FOREIGN KEY (order_id, ordered_on) REFERENCES orders (id, ordered_on)
);

CREATE TABLE event (
    id integer PRIMARY KEY,
    happened_at timestamptz NOT NULL,
    kind text NOT NULL,
    payload jsonb
);
CREATE TABLE login_event (
    ip inet,
    success boolean NOT NULL,
    PRIMARY KEY (id)
) INHERITS (event);

CREATE TRIGGER country_touch BEFORE UPDATE ON country FOR EACH ROW EXECUTE FUNCTION touch_last_update();
CREATE TRIGGER customer_touch BEFORE UPDATE ON customer FOR EACH ROW EXECUTE FUNCTION touch_last_update();
CREATE TRIGGER product_touch BEFORE UPDATE ON product FOR EACH ROW EXECUTE FUNCTION touch_last_update();

CREATE VIEW customer_totals AS
    SELECT c.id, c.email, count(o.id) AS orders, coalesce(sum(o.quantity), 0) AS items
    FROM customer c LEFT JOIN orders o ON o.customer_id = c.id
    GROUP BY c.id, c.email;

-- data ---------------------------------------------------------------------------------------------------

INSERT INTO country (code, name, last_update)
SELECT chr(65 + i / 26) || chr(65 + i % 26), 'Country ' || i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 day'
FROM generate_series(0, 49) AS i;

INSERT INTO category (parent_id, name) VALUES (NULL, 'All');
INSERT INTO category (parent_id, name) SELECT 1, 'Group ' || i FROM generate_series(1, 9) AS i;
INSERT INTO category (parent_id, name) SELECT 2 + i % 9, 'Shelf ' || i FROM generate_series(1, 40) AS i;

INSERT INTO customer (id, country_code, email, nickname, mood, tags, zip, search, avatar, balance,
                      last_seen_ip, last_update)
VALUES (0, NULL, '', NULL, NULL, '{}', NULL, ''::tsvector, ''::bytea, 0, NULL,
        timestamptz '2000-01-01 00:00:00+00');  -- id 0, '' beside NULL
INSERT INTO customer (country_code, email, nickname, mood, tags, zip, search, avatar, balance, last_seen_ip,
                      last_update)
SELECT
    chr(65 + (i % 50) / 26) || chr(65 + (i % 50) % 26),
    CASE i % 7 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'user' || i || '@example.com' END,
    CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'nick ''' || i || E'''\t"ü"' END,
    (ARRAY['happy', 'sad', 'meh', 'it''s complicated', NULL]::mood[])[1 + i % 5],
    CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN '{}' WHEN 2 THEN ARRAY['a', NULL, ''] ELSE ARRAY['t' || i, 'x,y', '"q"'] END,
    CASE WHEN i % 3 = 0 THEN NULL ELSE lpad((i % 100000)::text, 5, '0') END,
    to_tsvector('simple', 'customer number ' || i || ' likes ' || (i % 13)),
    CASE WHEN i % 6 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') END,
    (i % 100000) / 100.0 - 300,
    CASE WHEN i % 2 = 0 THEN NULL ELSE ('10.' || (i % 256) || '.' || (i / 256 % 256) || '.1')::inet END,
    timestamptz '2021-06-01 12:00:00+02' + i * interval '1 minute 3.000123 seconds'
FROM generate_series(1, 8000) AS i;

INSERT INTO product (id, sku, title, category_id, price, weight_kg, stock, last_update)
OVERRIDING SYSTEM VALUE VALUES (0, 'ZERO0000', 'the zero product', NULL, 0, NULL, NULL, timestamptz '2000-01-01 00:00:00+00');
INSERT INTO product (sku, title, category_id, price, weight_kg, stock, last_update)
SELECT
    lpad(i::text, 8, 'P'),
    'Product ' || i || CASE WHEN i % 9 = 0 THEN E'\nwith a line break' ELSE '' END,
    CASE WHEN i % 10 = 0 THEN NULL ELSE 11 + i % 40 END,
    (i * 37 % 10000) / 100.0 + 0.01,
    CASE WHEN i % 8 = 0 THEN NULL ELSE i / 3.0 END,
    CASE WHEN i % 5 = 0 THEN NULL ELSE 1 + i % 50 END,
    timestamptz '2022-01-01 00:00:00+00' + i * interval '1 hour'
FROM generate_series(1, 600) AS i;

INSERT INTO orders (ordered_on, customer_id, product_id, quantity, note)
SELECT
    date '2022-07-01' + (i % 1100),
    i % 8001,
    CASE WHEN date '2022-07-01' + (i % 1100) >= date '2025-01-01' THEN 1 + i % 600 ELSE i % 601 END,
    1 + i % 9,
    CASE i % 11 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'note ' || i END
FROM generate_series(1, 30000) AS i;

INSERT INTO shipment (order_id, ordered_on, shipped_at)
SELECT id, ordered_on, CASE WHEN id % 4 = 0 THEN NULL ELSE ordered_on + time '10:00:00.123' END
FROM orders WHERE id % 3 = 0;

INSERT INTO event (id, happened_at, kind, payload)
SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '17 seconds', 'page',
       CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN '{"path": "/", "n": [1, 2.5, null]}'::jsonb ELSE 'null'::jsonb END
FROM generate_series(1, 1500) AS i;
INSERT INTO login_event (id, happened_at, kind, payload, ip, success)
SELECT 100000 + i, timestamptz '2024-02-01 00:00:00+00' + i * interval '1 minute', 'login', NULL,
       CASE WHEN i % 2 = 0 THEN '::1'::inet ELSE '192.168.0.1'::inet END, i % 4 <> 0
FROM generate_series(1, 1000) AS i;

-- counters in states a load must restore exactly
SELECT setval('customer_id_seq', 8100);               -- ahead of the largest id (rows were deleted)
SELECT nextval('ticket_seq') FROM generate_series(1, 3);
DELETE FROM customer WHERE id BETWEEN 7990 AND 8000 AND NOT EXISTS (SELECT 1 FROM orders WHERE customer_id = customer.id);

CREATE MATERIALIZED VIEW sales_by_month AS
    SELECT date_trunc('month', ordered_on) AS month, count(*) AS orders, sum(quantity) AS items
    FROM orders GROUP BY 1;

ANALYZE;
