// The daily settlement: after the results job has marked matches finished with their scores, every
// unsettled prediction of those matches gets its outcome (a push on a spread or total line: void), unit profit,
// closing price and CLV, in one transaction (a failed run settles nothing and is recorded as failed). A row that
// cannot be graded as one bet (a quarter line) is logged and left unsettled, not a failed run. Then each model
// run that had predictions settled is checked against the market, per sport and market: a rolling log loss
// worse than the market's is logged as a warning with a stable code, and listed in the job's stats.
import { createLogger, type Logger } from '../lib/logging';
import type { JobResult, JobRunner } from '../services/jobs';
import { livePerformance, warnIfBehindMarket } from '../services/predictions/live-performance';
import { settlePredictions } from '../services/predictions/settlement';

export const SETTLEMENT_JOB_KIND = 'settlement';

// The warning goes to the scheduler's logger when the dispatcher hands one over, else to a logger of its own
// (whose sink looks console.log up at each line, not once at import).
export function settlementJob(fallback: Logger = createLogger({ job: SETTLEMENT_JOB_KIND }, (line) => console.log(line))) {
  return (runner: JobRunner, now: Date, _config?: unknown, context?: { logger?: Logger }): Promise<JobResult> =>
    runner.run(SETTLEMENT_JOB_KIND, 'internal', async (tx) => {
      const logger = context?.logger ?? fallback;
      const stats = await settlePredictions(tx, now, logger);
      const behindMarket: Array<{ modelRunId: string; sport: string; market: string; modelLogLoss: number | null; marketLogLoss: number | null; matches: number }> = [];
      for (const modelRunId of stats.modelRunIds) {
        const report = await livePerformance(tx, modelRunId);
        warnIfBehindMarket(report, logger);
        for (const m of report.markets) {
          if (m.behindMarket) {
            behindMarket.push({ modelRunId, sport: m.sport.key, market: m.market, modelLogLoss: m.logLoss.model, marketLogLoss: m.logLoss.market, matches: m.logLoss.matches });
          }
        }
      }
      return { ...stats, behindMarket };
    });
}

export const settlement = settlementJob();
