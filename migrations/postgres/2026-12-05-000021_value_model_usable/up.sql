-- A fitted version the service will not use: its optimiser did not converge,
-- or a parameter ran off towards zero or infinity. It is kept (versions are
-- never edited or dropped) with the reason, and never becomes the current
-- model. Versions fitted before this rule are judged by the one part of it
-- their stored fit carries: convergence.
ALTER TABLE value_models ADD COLUMN usable boolean NOT NULL DEFAULT true;
ALTER TABLE value_models ADD COLUMN unusable_reason text NULL;
ALTER TABLE value_models DISABLE TRIGGER value_models_no_update;
UPDATE value_models
   SET usable = false,
       unusable_reason = 'the fit did not converge (judged when usability was introduced)'
 WHERE (bgnbd::jsonb ->> 'converged') = 'false' OR (gamma_gamma::jsonb ->> 'converged') = 'false';
ALTER TABLE value_models ENABLE TRIGGER value_models_no_update;
DROP INDEX value_models_by_currency;
CREATE INDEX value_models_by_currency ON value_models (tenant_id, currency, usable, version);
