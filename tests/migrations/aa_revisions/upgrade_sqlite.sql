CREATE TABLE alembic_versions (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_versions_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> aa0001

CREATE TABLE author (
    id BINARY(16) NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    profile JSON NOT NULL, 
    ssn VARCHAR, 
    notes TEXT, 
    external_id BINARY(16), 
    born_at DATETIME, 
    sa_orm_sentinel INTEGER, 
    created_at DATETIME NOT NULL, 
    updated_at DATETIME NOT NULL, 
    CONSTRAINT pk_author PRIMARY KEY (id)
);

CREATE TABLE book (
    id INTEGER NOT NULL, 
    title VARCHAR(200) NOT NULL, 
    author_id BINARY(16) NOT NULL, 
    cover JSON, 
    pages JSON, 
    copies INTEGER NOT NULL, 
    created_at DATETIME NOT NULL, 
    updated_at DATETIME NOT NULL, 
    CONSTRAINT pk_book PRIMARY KEY (id), 
    CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id)
);

INSERT INTO alembic_versions (version_num) VALUES ('aa0001') RETURNING version_num;

-- Running upgrade aa0001 -> aa0002

CREATE TABLE tag (
    id BINARY(16) NOT NULL, 
    label VARCHAR(50) NOT NULL, 
    extra JSON, 
    sa_orm_sentinel INTEGER, 
    created_at DATETIME NOT NULL, 
    updated_at DATETIME NOT NULL, 
    CONSTRAINT pk_tag PRIMARY KEY (id), 
    CONSTRAINT uq_tag_label UNIQUE (label)
);

ALTER TABLE book ADD COLUMN published_at DATETIME;

UPDATE alembic_versions SET version_num='aa0002' WHERE alembic_versions.version_num = 'aa0001';

