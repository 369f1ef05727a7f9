DROP TABLE write_off_reviews;
DROP TABLE write_offs;
