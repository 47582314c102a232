-- A model run is one bundle covering every predicted market (1X2 and over/under 2.5), so the per-market
-- column goes and at most one run is active at a time. Activation records who did it and, when the gate
-- (test-season log loss no worse than Pinnacle's) was overridden, why.
DROP INDEX model_runs_one_active_per_market;
ALTER TABLE model_runs DROP COLUMN market;
CREATE UNIQUE INDEX model_runs_one_active ON model_runs ((true)) WHERE status = 'active';
ALTER TABLE model_runs ADD COLUMN activated_by uuid REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE model_runs ADD COLUMN activation_forced boolean NOT NULL DEFAULT false;
ALTER TABLE model_runs ADD COLUMN activation_reason text;
ALTER TABLE model_runs ADD CONSTRAINT model_runs_forced_needs_reason CHECK (NOT activation_forced OR activation_reason IS NOT NULL);
