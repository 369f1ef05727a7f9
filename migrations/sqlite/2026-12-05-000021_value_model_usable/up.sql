-- A fitted version the service will not use: its optimiser did not converge,
-- or a parameter ran off towards zero or infinity. It is kept (versions are
-- never edited or dropped) with the reason, and never becomes the current
-- model. Versions fitted before this rule are judged by the one part of it
-- their stored fit carries: convergence.
ALTER TABLE value_models ADD COLUMN usable BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE value_models ADD COLUMN unusable_reason TEXT NULL;
DROP TRIGGER value_models_no_update;
UPDATE value_models
   SET usable = 0,
       unusable_reason = 'the fit did not converge (judged when usability was introduced)'
 WHERE json_extract(bgnbd, '$.converged') = 0 OR json_extract(gamma_gamma, '$.converged') = 0;
CREATE TRIGGER value_models_no_update BEFORE UPDATE ON value_models
BEGIN
    SELECT RAISE(ABORT, 'value model versions are never edited');
END;
DROP INDEX value_models_by_currency;
CREATE INDEX value_models_by_currency ON value_models (tenant_id, currency, usable, version);
