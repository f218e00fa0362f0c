CLUSTER orders USING ix_orders_customer;
