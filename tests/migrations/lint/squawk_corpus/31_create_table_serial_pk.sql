CREATE TABLE coupons (id serial PRIMARY KEY, code text NOT NULL);
