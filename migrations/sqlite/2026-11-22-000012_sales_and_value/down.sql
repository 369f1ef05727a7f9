DROP TABLE value_models;
DROP TABLE sale_refunds;
DROP TABLE sales;
