-- The shop database of postgres.sql as a SQLite project would write it: AUTOINCREMENT keys (one at 0, one
-- counter ahead of its rows in sqlite_sequence), a virtual and a stored generated column, an AFTER UPDATE
-- trigger stamping last_update, BOOLEAN, REAL, NUMERIC, BLOB, JSON text, CURRENT_TIMESTAMP-style timestamps,
-- '' next to NULL, a view. About 20,000 rows. Load it with the sqlite3 shell.

PRAGMA foreign_keys = ON;

CREATE TABLE country (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE customer (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    country_code TEXT REFERENCES country (code),
    email TEXT,
    nickname VARCHAR(40),
    active BOOLEAN NOT NULL DEFAULT 1,
    score REAL,
    balance NUMERIC(12, 2),
    avatar BLOB,
    prefs JSON,
    label TEXT GENERATED ALWAYS AS (coalesce(nickname, '?') || ' <' || coalesce(email, '') || '>') VIRTUAL,
    email_length INTEGER GENERATED ALWAYS AS (length(email)) STORED,
    last_update TIMESTAMP NOT NULL
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    ordered_on DATE NOT NULL,
    quantity INTEGER NOT NULL,
    note TEXT
);

CREATE TRIGGER customer_touch AFTER UPDATE ON customer FOR EACH ROW
BEGIN
    UPDATE customer SET last_update = '2099-01-01 00:00:00' WHERE id = NEW.id;
END;

CREATE VIEW customer_totals AS
    SELECT c.id, c.email, count(o.id) AS orders FROM customer c LEFT JOIN orders o ON o.customer_id = c.id
    GROUP BY c.id, c.email;

WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < 49)
INSERT INTO country (code, name) SELECT char(65 + i / 26) || char(65 + i % 26), 'Country ' || i FROM seq;

INSERT INTO customer (id, country_code, email, nickname, active, score, balance, avatar, prefs, last_update)
VALUES (0, NULL, '', NULL, 0, NULL, 0, x'', NULL, '2000-01-01 00:00:00');
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 6000)
INSERT INTO customer (country_code, email, nickname, active, score, balance, avatar, prefs, last_update)
SELECT
    char(65 + (i % 50) / 26) || char(65 + (i % 50) % 26),
    CASE i % 7 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'user' || i || '@example.com' END,
    CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'nick ''' || i || ''' "ü"' || char(9) END,
    i % 3 <> 0,
    CASE WHEN i % 8 = 0 THEN NULL ELSE i / 3.0 END,
    round((i % 100000) / 100.0 - 300, 2),
    CASE i % 6 WHEN 0 THEN NULL WHEN 1 THEN zeroblob(i % 5) ELSE CAST(printf('%08x', i) AS BLOB) END,
    CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN '[]' WHEN 2 THEN '{"theme":"dark","n":[1,2.5,null]}' ELSE '["t' || i || '"]' END,
    datetime('2021-06-01 12:00:00', '+' || (i * 63) || ' seconds')
FROM seq;

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 14000)
INSERT INTO orders (customer_id, ordered_on, quantity, note)
SELECT i % 6001, date('2022-07-01', '+' || (i % 1100) || ' days'), 1 + i % 9,
       CASE i % 11 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'note ' || i END
FROM seq;

UPDATE sqlite_sequence SET seq = 7000 WHERE name = 'customer';  -- ahead of its rows
