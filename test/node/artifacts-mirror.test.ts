// The R2 ↔ S3 mirror against two real S3-compatible servers on loopback (one plays R2's S3 API, one AWS S3):
// both directions, idempotence, sha256 recorded and verified, corruption at rest found and repaired, a
// corrupt object with no sound copy reported and not spread.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defaultBundleDir, readBundle, artifactPrefix } from '../../scripts/lib/models/bundle-files';
import { mirrorArtifacts, type ObjectStore } from '../../src/services/artifacts';
import { loopbackS3 } from './support/s3-server';

const r2Server = loopbackS3(['senzu-models']);
const s3Server = loopbackS3(['senzu-lake']);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** An upload that records no sha256, like `wrangler r2 object put` in model:register. */
const putPlain = (store: ObjectStore, key: string, bytes: Uint8Array) =>
  store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: bytes, ContentType: 'application/octet-stream' }));

async function contents(store: ObjectStore, prefix = '') {
  const out = new Map<string, { sha256: string; recorded: string | undefined }>();
  for (const o of await store.list(prefix)) {
    const got = await store.get(o.key);
    out.set(o.key, { sha256: sha256(got.bytes), recorded: got.sha256 });
  }
  return out;
}

describe('mirrorArtifacts (R2 ↔ S3 over their S3 APIs)', () => {
  let r2: ObjectStore;
  let s3: ObjectStore;
  let bundleKeys: string[];
  const featureKeys = ['features/feature_version=v1/month=2023-08/part-00000.parquet', 'features/feature_version=v1/month=2023-09/part-00000.parquet'];

  it('copies the model bundle R2 → S3 and the feature exports S3 → R2, each verified by sha256', async () => {
    r2 = r2Server.store('r2', 'senzu-models');
    s3 = s3Server.store('s3', 'senzu-lake');
    const bundle = await readBundle(await defaultBundleDir());
    bundleKeys = [];
    for (const [name, bytes] of bundle.files) {
      const key = `${artifactPrefix(bundle.manifest)}${name}`;
      await putPlain(r2, key, bytes);
      bundleKeys.push(key);
    }
    bundleKeys.sort();
    for (const [i, key] of featureKeys.entries()) await s3.put(key, new TextEncoder().encode(`PAR1 feature export ${i} PAR1`));

    const report = await mirrorArtifacts(r2, s3);
    expect(report.problems).toEqual([]);
    expect(report.copied['r2->s3']).toEqual(bundleKeys);
    expect(report.copied['s3->r2']).toEqual(featureKeys);
    expect(report.repaired).toEqual({ r2: [], s3: [] });
    expect(report.recorded).toEqual({ r2: bundleKeys, s3: [] });

    const onR2 = await contents(r2);
    const onS3 = await contents(s3);
    expect([...onS3.keys()].sort()).toEqual([...bundleKeys, ...featureKeys].sort());
    expect(onR2).toEqual(onS3);
    // Every copy carries its hash, and it is the hash of the bytes (and of bundle.json's own listing).
    for (const [key, o] of onS3) expect(o.recorded, key).toBe(o.sha256);
    for (const name of ['model-1x2.onnx', 'model-ou25.onnx']) {
      expect(onS3.get(`${artifactPrefix(bundle.manifest)}${name}`)?.sha256).toBe(bundle.manifest.files[name]);
    }
    expect(report.bytesCopied).toBeGreaterThan(0);
  });

  it('recorded the sha256 of the R2 originals uploaded without one, so a second run reads no bytes and copies nothing', async () => {
    for (const [key, o] of await contents(r2, 'models/')) expect(o.recorded, key).toBe(o.sha256);
    const second = await mirrorArtifacts(r2, s3);
    expect(second).toEqual({
      copied: { 'r2->s3': [], 's3->r2': [] },
      recorded: { r2: [], s3: [] },
      repaired: { r2: [], s3: [] },
      unchanged: bundleKeys.length + featureKeys.length,
      bytesCopied: 0,
      problems: [],
    });
  });

  it('copies a changed object from the newer side over the older one, then is idle again', async () => {
    const key = featureKeys[0]!;
    await new Promise((r) => setTimeout(r, 1100)); // LastModified has one-second resolution
    const changed = new TextEncoder().encode('PAR1 re-exported PAR1');
    await s3.put(key, changed);
    const report = await mirrorArtifacts(r2, s3);
    expect(report.copied).toEqual({ 'r2->s3': [], 's3->r2': [key] });
    expect(sha256((await r2.get(key)).bytes)).toBe(sha256(changed));
    expect((await mirrorArtifacts(r2, s3)).bytesCopied).toBe(0);
  });

  it('finds bytes that rotted at rest behind correct metadata when verifying content, and repairs them from the sound side', async () => {
    const key = bundleKeys.find((k) => k.endsWith('.onnx'))!;
    const good = (await r2.get(key)).bytes;
    await s3Server.corrupt('senzu-lake', key);
    const rotten = await s3.get(key);
    expect(rotten.bytes.byteLength).toBe(good.byteLength);
    expect(sha256(rotten.bytes)).not.toBe(rotten.sha256);

    // Metadata alone cannot see it: both sides still record the same hash.
    expect((await mirrorArtifacts(r2, s3, { prefixes: ['models/'] })).repaired.s3).toEqual([]);

    const scrub = await mirrorArtifacts(r2, s3, { prefixes: ['models/'], verifyContent: true });
    expect(scrub.problems).toEqual([]);
    expect(scrub.repaired).toEqual({ r2: [], s3: [key] });
    expect(scrub.copied).toEqual({ 'r2->s3': [], 's3->r2': [] });
    expect(sha256((await s3.get(key)).bytes)).toBe(sha256(good));
  });

  it('reports an object whose only copy does not match its recorded sha256, and does not spread it', async () => {
    const key = 'models/broken/model_1x2.onnx';
    await r2.put(key, new TextEncoder().encode('an onnx model that will rot'));
    await r2Server.corrupt('senzu-models', key);
    const report = await mirrorArtifacts(r2, s3, { prefixes: ['models/broken/'] });
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ key, kind: 'corrupt' });
    expect(report.problems[0]!.detail).toMatch(/no sound copy: r2 holds sha256 [0-9a-f]{64}, recorded [0-9a-f]{64}/);
    expect(report.copied).toEqual({ 'r2->s3': [], 's3->r2': [] });
    expect(await s3.head(key)).toBeNull();
  });

  it('fails the whole run when a side cannot be listed, copying nothing', async () => {
    const key = 'models/late/bundle.json';
    await r2.put(key, new TextEncoder().encode('{}'));
    const dead = s3Server.store('s3', 'no-such-bucket');
    const report = await mirrorArtifacts(r2, dead, { prefixes: ['models/late/'] }).catch((e: Error) => e);
    // Listing a missing bucket fails the whole run: nothing is half-copied.
    expect(report).toBeInstanceOf(Error);
    expect(String((report as Error).name)).toMatch(/NoSuchBucket/);
  });
});

describe('npm run artifacts:sync', () => {
  const ROOT = new URL('../../', import.meta.url).pathname;
  const cli = (args: string[], env: Record<string, string>) =>
    promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'scripts/artifacts-sync.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  const settings = () => ({
    R2_S3_ENDPOINT: r2Server.endpoint,
    R2_ACCESS_KEY_ID: 'S3RVER',
    R2_SECRET_ACCESS_KEY: 'S3RVER',
    R2_BUCKET: 'senzu-models',
    S3_ENDPOINT: s3Server.endpoint,
    S3_BUCKET: 'senzu-lake',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });

  it('mirrors a new object from the command line, then finds nothing to do', async () => {
    const r2 = r2Server.store('r2', 'senzu-models');
    await r2.put('models/cli/bundle.json', new TextEncoder().encode('{"id":"cli"}'));
    const first = JSON.parse((await cli(['--', '--prefix', 'models/cli/'], settings())).stdout) as { copied: Record<string, number> };
    expect(first.copied).toEqual({ 'r2->s3': 1, 's3->r2': 0 });
    const second = JSON.parse((await cli(['--prefix', 'models/cli/'], settings())).stdout) as { copied: Record<string, number>; unchanged: number };
    expect(second).toMatchObject({ copied: { 'r2->s3': 0, 's3->r2': 0 }, unchanged: 1 });
  }, 60_000);

  it('exits 2 naming the missing settings when a side is not configured', async () => {
    const failure = await cli([], { ...settings(), R2_S3_ENDPOINT: '', AWS_SECRET_ACCESS_KEY: '' }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/not configured; missing R2_S3_ENDPOINT, AWS_SECRET_ACCESS_KEY/);
  }, 60_000);
});
