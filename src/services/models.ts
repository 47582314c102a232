// The model registry: runs (candidate → active → retired), their evaluations and backtests, and the
// activation gate. Activation swaps the active run in one transaction; because prediction cache keys embed
// the model run id, activating a run is also what invalidates every cached prediction.
import { and, desc, eq, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { backtestResults, modelEvaluations, modelRuns } from '../db/schema';
import { problem } from '../lib/problem';
import { gateDecision, type RollingGate } from './evaluation/gate';
import { ConflictError, NotFoundError } from '../lib/errors';

/** The evaluation split whose `gate` the activation gate reads (stored by registration from the bundle). */
export const ROLLING_SPLIT = 'rolling';

export type ModelRun = typeof modelRuns.$inferSelect;

const summaryColumns = {
  id: modelRuns.id,
  name: modelRuns.name,
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
    return this.db().select(summaryColumns).from(modelRuns).orderBy(desc(modelRuns.createdAt), desc(modelRuns.id));
  }

  async byId(id: string) {
    const [run] = await this.db().select({ ...summaryColumns, metadata: modelRuns.metadata }).from(modelRuns).where(eq(modelRuns.id, id));
    return run;
  }

  /** The run, or a NotFoundError. */
  async get(id: string) {
    const run = await this.byId(id);
    if (!run) throw NotFoundError.of('model', id);
    return run;
  }

  async active() {
    const [run] = await this.db().select({ ...summaryColumns, metadata: modelRuns.metadata }).from(modelRuns).where(eq(modelRuns.status, 'active'));
    return run;
  }

  evaluations(id: string) {
    return this.db().select().from(modelEvaluations).where(eq(modelEvaluations.modelRunId, id)).orderBy(modelEvaluations.id);
  }

  backtests(id: string) {
    return this.db().select().from(backtestResults).where(eq(backtestResults.modelRunId, id)).orderBy(backtestResults.id);
  }

  /**
   * Makes `id` the active run. Refused (409) unless its rolling-origin evaluation passes the gate
   * (evaluation/gate.ts: pooled log loss no worse than Pinnacle's in either market, no season worse beyond
   * noise, pooled ECE within tolerance), or when it has none, unless `force` is given with a reason, which is
   * recorded on the run.
   */
  async activate(id: string, actorId: string, options: { force?: boolean; reason?: string }) {
    const run = await this.get(id);
    if (run.status === 'active') return run;
    const decision = gateDecision(await this.gate(id));
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
      await tx.update(modelRuns).set({ status: 'retired', retiredAt: now }).where(and(eq(modelRuns.status, 'active'), ne(modelRuns.id, id)));
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

  private async gate(id: string): Promise<RollingGate | null> {
    const rows = await this.db()
      .select({ gate: sql<RollingGate | null>`${modelEvaluations.metrics} -> 'gate'` })
      .from(modelEvaluations)
      .where(and(eq(modelEvaluations.modelRunId, id), eq(modelEvaluations.split, ROLLING_SPLIT)))
      .orderBy(desc(modelEvaluations.id))
      .limit(1);
    return rows[0]?.gate ?? null;
  }
}
