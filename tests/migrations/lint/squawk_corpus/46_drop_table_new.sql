CREATE TABLE scratch (id bigint PRIMARY KEY);
DROP TABLE scratch;
