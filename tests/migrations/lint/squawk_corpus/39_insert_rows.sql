INSERT INTO customers (email, name) VALUES ('a@example.com', 'A');
