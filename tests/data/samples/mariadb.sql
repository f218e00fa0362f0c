-- The shop database of postgres.sql as a MariaDB project would write it: AUTO_INCREMENT keys (one at 0, one
-- counter ahead of its rows), a partitioned table, virtual and persistent generated columns, BEFORE UPDATE
-- triggers and ON UPDATE CURRENT_TIMESTAMP, ENUM, BOOLEAN (TINYINT(1)), JSON (LONGTEXT with a check),
-- BLOB, DECIMAL, '' next to NULL, case and trailing spaces under a case-insensitive collation, a view.
-- About 20,000 rows. Load it with the mariadb client.

SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO');

CREATE TABLE country (
    code CHAR(2) PRIMARY KEY,
    name VARCHAR(60) NOT NULL,
    last_update TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
);

CREATE TABLE category (
    id INT AUTO_INCREMENT PRIMARY KEY,
    parent_id INT NULL,
    name VARCHAR(60) NOT NULL,
    FOREIGN KEY (parent_id) REFERENCES category (id)
);

CREATE TABLE customer (
    id INT AUTO_INCREMENT PRIMARY KEY,
    country_code CHAR(2),
    email VARCHAR(120),
    nickname VARCHAR(40),
    mood ENUM('happy', 'sad', 'meh', 'it''s complicated'),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    prefs JSON,
    avatar BLOB,
    balance DECIMAL(12, 2) NOT NULL DEFAULT 0,
    score DOUBLE,
    label VARCHAR(200) AS (CONCAT(COALESCE(nickname, '?'), ' <', COALESCE(email, ''), '>')) VIRTUAL,
    email_domain VARCHAR(120) AS (SUBSTRING_INDEX(email, '@', -1)) PERSISTENT,
    last_update DATETIME(6) NOT NULL,
    FOREIGN KEY (country_code) REFERENCES country (code)
);

CREATE TABLE product (
    id INT AUTO_INCREMENT PRIMARY KEY,
    sku CHAR(8) NOT NULL UNIQUE,
    title TEXT NOT NULL,
    category_id INT,
    price DECIMAL(10, 2) NOT NULL,
    released DATE,
    last_update DATETIME(6) NOT NULL,
    FOREIGN KEY (category_id) REFERENCES category (id)
);

-- InnoDB can't have foreign keys on a partitioned table: orders relies on the application for them
CREATE TABLE orders (
    id BIGINT AUTO_INCREMENT,
    ordered_on DATE NOT NULL,
    customer_id INT NOT NULL,
    product_id INT NOT NULL,
    quantity INT NOT NULL,
    note TEXT,
    PRIMARY KEY (id, ordered_on)
) PARTITION BY RANGE (YEAR(ordered_on)) (
    PARTITION p2023 VALUES LESS THAN (2024),
    PARTITION p2024 VALUES LESS THAN (2025),
    PARTITION pmax VALUES LESS THAN MAXVALUE
);

CREATE TRIGGER customer_touch BEFORE UPDATE ON customer FOR EACH ROW SET NEW.last_update = NOW(6);
CREATE TRIGGER product_touch BEFORE UPDATE ON product FOR EACH ROW SET NEW.last_update = NOW(6);

CREATE VIEW customer_totals AS
    SELECT c.id, c.email, COUNT(o.id) AS orders FROM customer c LEFT JOIN orders o ON o.customer_id = c.id
    GROUP BY c.id, c.email;

INSERT INTO country (code, name, last_update)
SELECT CONCAT(CHAR(65 + seq DIV 26), CHAR(65 + seq MOD 26)), CONCAT('Country ', seq),
       TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq DAY
FROM seq_0_to_49;

INSERT INTO category (id, parent_id, name) VALUES (0, NULL, 'Root at zero');
INSERT INTO category (id, parent_id, name) SELECT seq, 0, CONCAT('Group ', seq) FROM seq_1_to_9;
INSERT INTO category (id, parent_id, name) SELECT 9 + seq, 1 + seq MOD 9, CONCAT('Shelf ', seq) FROM seq_1_to_40;

INSERT INTO customer (id, country_code, email, nickname, mood, active, prefs, avatar, balance, score, last_update)
VALUES (0, NULL, '', NULL, NULL, FALSE, NULL, '', 0, NULL, '2000-01-01 00:00:00');
INSERT INTO customer (country_code, email, nickname, mood, active, prefs, avatar, balance, score, last_update)
SELECT
    CONCAT(CHAR(65 + (seq MOD 50) DIV 26), CHAR(65 + (seq MOD 50) MOD 26)),
    CASE seq MOD 7 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN CONCAT('User', seq, '@Example.com') ELSE CONCAT('user', seq, '@example.com') END,
    CASE seq MOD 5 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN CONCAT('trailing ', seq, '  ') ELSE CONCAT('nick ''', seq, '''\t"ü"') END,
    ELT(1 + seq MOD 5, 'happy', 'sad', 'meh', 'it''s complicated', NULL),
    seq MOD 3 <> 0,
    CASE seq MOD 4 WHEN 0 THEN NULL WHEN 1 THEN '[]' WHEN 2 THEN '{"theme": "dark", "n": [1, 2.5, null]}' ELSE CONCAT('["t', seq, '"]') END,
    CASE WHEN seq MOD 6 = 0 THEN NULL ELSE UNHEX(MD5(seq)) END,
    (seq MOD 100000) / 100 - 300,
    CASE WHEN seq MOD 8 = 0 THEN NULL ELSE seq / 3 END,
    TIMESTAMP '2021-06-01 12:00:00' + INTERVAL (seq * 63000123) MICROSECOND
FROM seq_1_to_6000;

INSERT INTO product (id, sku, title, category_id, price, released, last_update)
VALUES (0, 'ZERO0000', 'the zero product', NULL, 0, NULL, '2000-01-01 00:00:00');
INSERT INTO product (id, sku, title, category_id, price, released, last_update)
SELECT seq, LPAD(seq, 8, 'P'), CONCAT('Product ', seq, IF(seq MOD 9 = 0, '\nwith a line break', '')),
       IF(seq MOD 10 = 0, NULL, 10 + seq MOD 40), (seq * 37 MOD 10000) / 100 + 0.01,
       IF(seq MOD 4 = 0, NULL, DATE '2020-01-01' + INTERVAL seq DAY), TIMESTAMP '2022-01-01 00:00:00' + INTERVAL seq HOUR
FROM seq_1_to_400;

INSERT INTO orders (ordered_on, customer_id, product_id, quantity, note)
SELECT DATE '2022-07-01' + INTERVAL (seq MOD 1100) DAY, seq MOD 6001, seq MOD 401, 1 + seq MOD 9,
       CASE seq MOD 11 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE CONCAT('note ', seq) END
FROM seq_1_to_14000;

ALTER TABLE customer AUTO_INCREMENT = 7000;  -- ahead of its rows (deleted at the end, say)
