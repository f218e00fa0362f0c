BEGIN;

CREATE TABLE alembic_versions (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_versions_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> aa0001

COMMIT;

CREATE TABLE author (
    id UUID NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    profile JSONB NOT NULL, 
    ssn VARCHAR, 
    notes VARCHAR, 
    external_id UUID, 
    born_at TIMESTAMP WITH TIME ZONE, 
    sa_orm_sentinel INTEGER, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_author PRIMARY KEY (id)
);

CREATE TABLE book (
    id BIGSERIAL NOT NULL, 
    title VARCHAR(200) NOT NULL, 
    author_id UUID NOT NULL, 
    cover JSONB, 
    pages JSONB, 
    copies BIGINT NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_book PRIMARY KEY (id), 
    CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id)
);

BEGIN;

INSERT INTO alembic_versions (version_num) VALUES ('aa0001') RETURNING alembic_versions.version_num;

-- Running upgrade aa0001 -> aa0002

COMMIT;

CREATE TABLE tag (
    id UUID NOT NULL, 
    label VARCHAR(50) NOT NULL, 
    extra JSONB, 
    sa_orm_sentinel INTEGER, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_tag PRIMARY KEY (id), 
    CONSTRAINT uq_tag_label UNIQUE (label)
);

ALTER TABLE book ADD COLUMN published_at TIMESTAMP WITH TIME ZONE;

BEGIN;

UPDATE alembic_versions SET version_num='aa0002' WHERE alembic_versions.version_num = 'aa0001';

COMMIT;

