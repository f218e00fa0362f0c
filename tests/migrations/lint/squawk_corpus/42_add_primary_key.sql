ALTER TABLE order_lines ADD PRIMARY KEY (order_id, line_no);
