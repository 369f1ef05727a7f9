DROP TABLE customers;
DROP TABLE staff_stores;
DROP TABLE staff;
DROP TABLE stores;
DROP TABLE service_keys;
DROP TABLE tenants;
