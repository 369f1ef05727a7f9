DROP INDEX value_models_by_currency;
CREATE INDEX value_models_by_currency ON value_models (tenant_id, currency, version);
ALTER TABLE value_models DROP COLUMN unusable_reason;
ALTER TABLE value_models DROP COLUMN usable;
