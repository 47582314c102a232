// The model registry: runs (candidate → active → retired), their evaluations and backtests, and the
// activation gate. Each run prices one sport's matches, and each sport has at most one active run: activation
// swaps its sport's active run in one transaction; because prediction cache keys embed the model run id,
// activating a run is also what invalidates its sport's cached predictions.
import { and, desc, eq, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { backtestResults, modelEvaluations, modelRuns, sports } from '../db/schema';
import { problem } from '../lib/problem';
import { gateDecision, gateMarketsOf, type RollingGate, type RollingGateOf } from './evaluation/gate';
import { ConflictError, NotFoundError } from '../lib/errors';

/** The evaluation split whose `gate` the activation gate reads (stored by registration from the bundle). */
export const ROLLING_SPLIT = 'rolling';

export type ModelRun = typeof modelRuns.$inferSelect;

const summaryColumns = {
  id: modelRuns.id,
  name: modelRuns.name,
  sport: sports.key,
  status: modelRuns.status,
  featureVersion: modelRuns.featureVersion,
  artifactKey: modelRuns.artifactKey,
  artifactSha256: modelRuns.artifactSha256,
  trainedFrom: modelRuns.trainedFrom,
  trainedTo: modelRuns.trainedTo,
  createdAt: modelRuns.createdAt,
  activatedAt: modelRuns.activatedAt,
  retiredAt: modelRuns.retiredAt,
  activationForced: modelRuns.activationForced,
  activationReason: modelRuns.activationReason,
};

export class ModelRegistryService {
  constructor(
    private readonly db: () => Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  list() {
    return this.db()
      .select(summaryColumns)
      .from(modelRuns)
      .innerJoin(sports, eq(sports.id, modelRuns.sportId))
      .orderBy(desc(modelRuns.createdAt), desc(modelRuns.id));
  }

  async byId(id: string) {
    const [run] = await this.db()
      .select({ ...summaryColumns, sportId: modelRuns.sportId, metadata: modelRuns.metadata })
      .from(modelRuns)
      .innerJoin(sports, eq(sports.id, modelRuns.sportId))
      .where(eq(modelRuns.id, id));
    return run;
  }

  /** The run, or a NotFoundError. */
  async get(id: string) {
    const run = await this.byId(id);
    if (!run) throw NotFoundError.of('model', id);
    return run;
  }

  /** The active runs: at most one per sport (model_runs_one_active_per_sport). */
  activeRuns() {
    return this.db()
      .select(summaryColumns)
      .from(modelRuns)
      .innerJoin(sports, eq(sports.id, modelRuns.sportId))
      .where(eq(modelRuns.status, 'active'))
      .orderBy(sports.key);
  }

  evaluations(id: string) {
    return this.db().select().from(modelEvaluations).where(eq(modelEvaluations.modelRunId, id)).orderBy(modelEvaluations.id);
  }

  backtests(id: string) {
    return this.db().select().from(backtestResults).where(eq(backtestResults.modelRunId, id)).orderBy(backtestResults.id);
  }

  /**
   * Makes `id` its sport's active run, retiring the one it replaces. Refused (409) unless its rolling-origin
   * evaluation passes the gate in every market its sport's model prices (evaluation/gate.ts, gateMarketsOf:
   * pooled log loss no worse than the market's, no season worse beyond noise, pooled ECE within tolerance), or
   * when it has none, unless `force` is given with a reason, which is recorded on the run.
   */
  async activate(id: string, actorId: string, options: { force?: boolean; reason?: string }) {
    const run = await this.get(id);
    if (run.status === 'active') return run;
    const markets = gateMarketsOf(run.sport);
    const decision = markets ? gateDecision(await this.gate(id), markets) : { passes: false, reasons: [`no model recipe is known for ${run.sport}, so no gate markets`] };
    const passes = decision.passes;
    if (!passes && !options.force) {
      throw new ConflictError(`The activation gate refuses this model: ${decision.reasons.join('; ')}. Send force=true with a reason to override`, {
        slug: 'activation-refused',
        title: 'Activation refused',
      });
    }
    if (!passes && !options.reason?.trim()) {
      throw problem.validation([{ name: 'reason', in: 'body', reason: 'is required when force overrides the activation gate' }]);
    }
    const now = this.now();
    await this.db().transaction(async (tx) => {
      await tx
        .update(modelRuns)
        .set({ status: 'retired', retiredAt: now })
        .where(and(eq(modelRuns.status, 'active'), eq(modelRuns.sportId, run.sportId), ne(modelRuns.id, id)));
      await tx
        .update(modelRuns)
        .set({
          status: 'active',
          activatedAt: now,
          retiredAt: null,
          activatedBy: actorId,
          activationForced: !passes,
          activationReason: passes ? null : options.reason!.trim(),
        })
        .where(eq(modelRuns.id, id));
    });
    return (await this.byId(id))!;
  }

  private async gate(id: string): Promise<RollingGate | RollingGateOf<string> | null> {
    const rows = await this.db()
      .select({ gate: sql<RollingGate | RollingGateOf<string> | null>`${modelEvaluations.metrics} -> 'gate'` })
      .from(modelEvaluations)
      .where(and(eq(modelEvaluations.modelRunId, id), eq(modelEvaluations.split, ROLLING_SPLIT)))
      .orderBy(desc(modelEvaluations.id))
      .limit(1);
    return rows[0]?.gate ?? null;
  }
}
