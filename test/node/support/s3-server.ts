// A real S3-compatible server on loopback (s3rver, files in a temporary directory) for the mirror and lake
// tests: the SDK talks HTTP + SigV4 to it exactly as it talks to R2 or AWS. s3rver has no type
// declarations, so it is loaded through require with the small surface these tests use typed here.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ObjectStore } from '../../../src/services/artifacts';

interface S3Object {
  bucket: string;
  key: string;
  content: Buffer | AsyncIterable<Buffer>;
  metadata: Record<string, string>;
}
interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putObject(object: S3Object): Promise<{ size: number; md5: string }>;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
}
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  store: S3rverStore;
}

/**
 * S3 (and R2) read a PUT back at once: a write is visible, whole, when its response arrives. s3rver answers a PUT
 * before its file stream has reached the disk, so a GET right after it could read a truncated or empty file (seen
 * under load: a mirror's read-back of its own repair hashed as the empty string). This put writes the bytes to a
 * file the listing ignores and renames it over the object before answering.
 */
function readAfterWritePut(store: S3rverStore): S3rverStore['putObject'] {
  return async (object) => {
    let bytes: Buffer;
    if (Buffer.isBuffer(object.content)) bytes = object.content;
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of object.content) chunks.push(chunk);
      bytes = Buffer.concat(chunks);
    }
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.partial`, bytes);
    await rename(`${path}.partial`, path);
    const md5 = createHash('md5').update(bytes).digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: bytes.length, md5 };
  };
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: Array<{ name: string }>;
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface LoopbackS3 {
  endpoint: string;
  /** A client for one bucket of this server, labelled `name` in reports. */
  store(name: string, bucket: string): ObjectStore;
  /** Flips one byte of the stored object in place, as bit rot would: size and metadata stay the same. */
  corrupt(bucket: string, key: string): Promise<void>;
  /** Stops the server (a test of a failure midway); later requests are refused. */
  stop(): Promise<void>;
}

/** Starts a server on port 0 with the given buckets before the file's tests and stops it after. */
export function loopbackS3(buckets: string[]): LoopbackS3 {
  let server: S3rverInstance | undefined;
  let directory = '';
  const stores: ObjectStore[] = [];
  const handle: LoopbackS3 = {
    endpoint: '',
    store(name, bucket) {
      const store = new ObjectStore(name, { endpoint: handle.endpoint, region: 'us-east-1', bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
      stores.push(store);
      return store;
    },
    async corrupt(bucket, key) {
      const path = server!.store.getResourcePath(bucket, key, 'object');
      const bytes = await readFile(path);
      const middle = bytes.length >> 1;
      bytes[middle] = bytes[middle]! ^ 0xff;
      await writeFile(path, bytes);
    },
    async stop() {
      if (server) await server.close();
      server = undefined;
    },
  };
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'senzu-s3-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: buckets.map((name) => ({ name })) });
    server.store.putObject = readAfterWritePut(server.store);
    const { port } = await server.run();
    handle.endpoint = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const store of stores) store.destroy();
    await handle.stop();
    await rm(directory, { recursive: true, force: true });
  });
  return handle;
}
