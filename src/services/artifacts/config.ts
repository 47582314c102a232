// The two sides of the mirror from the validated configuration (the Worker's env or, in the CLIs,
// process.env through the same schema fields).
import { ObjectStore } from './object-store';

export interface ArtifactStoreSettings {
  R2_S3_ENDPOINT?: string | undefined;
  R2_ACCESS_KEY_ID?: string | undefined;
  R2_SECRET_ACCESS_KEY?: string | undefined;
  R2_BUCKET: string;
  S3_ENDPOINT?: string | undefined;
  S3_BUCKET?: string | undefined;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID?: string | undefined;
  AWS_SECRET_ACCESS_KEY?: string | undefined;
}

/** The names of the settings a side still lacks (empty when it is configured). */
export function missingSettings(s: ArtifactStoreSettings): { r2: string[]; s3: string[] } {
  const missing = (pairs: Array<[string, string | undefined]>) => pairs.filter(([, v]) => !v).map(([k]) => k);
  return {
    r2: missing([
      ['R2_S3_ENDPOINT', s.R2_S3_ENDPOINT],
      ['R2_ACCESS_KEY_ID', s.R2_ACCESS_KEY_ID],
      ['R2_SECRET_ACCESS_KEY', s.R2_SECRET_ACCESS_KEY],
    ]),
    s3: missing([
      ['S3_BUCKET', s.S3_BUCKET],
      ['AWS_ACCESS_KEY_ID', s.AWS_ACCESS_KEY_ID],
      ['AWS_SECRET_ACCESS_KEY', s.AWS_SECRET_ACCESS_KEY],
    ]),
  };
}

/** The S3 (data lake) side alone, or null when it is not configured. */
export function lakeStore(s: ArtifactStoreSettings): ObjectStore | null {
  if (missingSettings(s).s3.length > 0) return null;
  return new ObjectStore('s3', {
    ...(s.S3_ENDPOINT ? { endpoint: s.S3_ENDPOINT } : {}),
    region: s.AWS_REGION,
    bucket: s.S3_BUCKET!,
    accessKeyId: s.AWS_ACCESS_KEY_ID!,
    secretAccessKey: s.AWS_SECRET_ACCESS_KEY!,
  });
}

/** Both sides, or null when either is not configured. */
export function artifactStores(s: ArtifactStoreSettings): { r2: ObjectStore; s3: ObjectStore } | null {
  const missing = missingSettings(s);
  if (missing.r2.length > 0 || missing.s3.length > 0) return null;
  const r2 = new ObjectStore('r2', {
    endpoint: s.R2_S3_ENDPOINT!,
    region: 'auto',
    bucket: s.R2_BUCKET,
    accessKeyId: s.R2_ACCESS_KEY_ID!,
    secretAccessKey: s.R2_SECRET_ACCESS_KEY!,
  });
  return { r2, s3: lakeStore(s)! };
}
