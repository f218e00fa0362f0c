ALTER TABLE order_lines ADD COLUMN id bigserial;
