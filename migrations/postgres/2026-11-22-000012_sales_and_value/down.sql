DROP TABLE value_models;
DROP FUNCTION value_models_immutable();
DROP TABLE sale_refunds;
DROP TABLE sales;
