UPDATE orders SET status = 'paid' WHERE status = 'settled';
