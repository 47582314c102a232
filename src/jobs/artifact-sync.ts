// The daily R2 ↔ S3 mirror. It moves no database rows, so it runs through JobRunner.track (recorded in
// ingestion_jobs, no transaction held open across the network). Unconfigured: recorded as skipped.
import type { Config } from '../env';
import { artifactStores, missingSettings, mirrorArtifacts, summarizeMirror } from '../services/artifacts';
import type { JobResult, JobRunner } from '../services/jobs';

export function artifactSync(runner: JobRunner, _now: Date, config: Config): Promise<JobResult> {
  return runner.track('artifact-sync', 'internal', async () => {
    const stores = artifactStores(config);
    if (!stores) {
      const missing = missingSettings(config);
      return { status: 'skipped', reason: 'not configured', stats: { missing: [...missing.r2, ...missing.s3] } };
    }
    try {
      const report = await mirrorArtifacts(stores.r2, stores.s3);
      if (report.problems.length > 0) {
        const list = report.problems.map((p) => `${p.key} (${p.kind}: ${p.detail})`).join('; ');
        throw new Error(`${report.problems.length} object(s) not mirrored: ${list}`);
      }
      return { stats: summarizeMirror(report) };
    } finally {
      stores.r2.destroy();
      stores.s3.destroy();
    }
  });
}
