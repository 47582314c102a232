// The model registry: runs (candidate → active → retired), their evaluations and backtests, and the
// activation gate. Activation swaps the active run in one transaction; because prediction cache keys embed
// the model run id, activating a run is also what invalidates every cached prediction.
import { and, desc, eq, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { backtestResults, modelEvaluations, modelRuns } from '../db/schema';
import { ProblemError, problem } from '../lib/problem';

/** What the gate compares, stored with each test-season evaluation by `npm run model:register`. */
export interface ActivationGate {
  split: string;
  market: 'h2h';
  matches: number;
  modelLogLoss: number;
  pinnacleLogLoss: number;
}

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
   * Makes `id` the active run. Refused (409) when its test-season 1X2 log loss is worse than Pinnacle's on
   * the same matches, or when it has no such evaluation, unless `force` is given with a reason, which is
   * recorded on the run.
   */
  async activate(id: string, actorId: string, options: { force?: boolean; reason?: string }) {
    const run = await this.byId(id);
    if (!run) throw problem.notFound('model', id);
    if (run.status === 'active') return run;
    const gate = await this.gate(id);
    const passes = gate !== undefined && gate.modelLogLoss <= gate.pinnacleLogLoss;
    if (!passes && !options.force) {
      throw new ProblemError({
        slug: 'activation-refused',
        title: 'Activation refused',
        status: 409,
        detail: gate
          ? `Test-season (${gate.split}) 1X2 log loss ${gate.modelLogLoss.toFixed(5)} is worse than Pinnacle's ${gate.pinnacleLogLoss.toFixed(5)} on the same ${gate.matches} matches; send force=true with a reason to override`
          : 'The model has no test-season evaluation to compare with Pinnacle; send force=true with a reason to override',
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

  private async gate(id: string): Promise<ActivationGate | undefined> {
    const rows = await this.db()
      .select({ gate: sql<ActivationGate | null>`${modelEvaluations.metrics} -> 'gate'` })
      .from(modelEvaluations)
      .where(and(eq(modelEvaluations.modelRunId, id), sql`${modelEvaluations.metrics} ? 'gate'`))
      .orderBy(desc(modelEvaluations.id))
      .limit(1);
    const gate = rows[0]?.gate;
    return gate && Number.isFinite(gate.modelLogLoss) && Number.isFinite(gate.pinnacleLogLoss) ? gate : undefined;
  }
}
