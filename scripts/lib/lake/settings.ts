// The R2/S3 settings of the CLIs, from process.env under the same names as the Worker's configuration
// (src/env.ts), so one .dev.vars-style set of variables drives both.
import type { ArtifactStoreSettings } from '../../../src/services/artifacts';

export function storeSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ArtifactStoreSettings {
  const value = (name: string) => (env[name] ? env[name] : undefined);
  return {
    R2_S3_ENDPOINT: value('R2_S3_ENDPOINT'),
    R2_ACCESS_KEY_ID: value('R2_ACCESS_KEY_ID'),
    R2_SECRET_ACCESS_KEY: value('R2_SECRET_ACCESS_KEY'),
    R2_BUCKET: value('R2_BUCKET') ?? 'senzu-models',
    S3_ENDPOINT: value('S3_ENDPOINT'),
    S3_BUCKET: value('S3_BUCKET'),
    AWS_REGION: value('AWS_REGION') ?? 'eu-west-1',
    AWS_ACCESS_KEY_ID: value('AWS_ACCESS_KEY_ID'),
    AWS_SECRET_ACCESS_KEY: value('AWS_SECRET_ACCESS_KEY'),
  };
}
