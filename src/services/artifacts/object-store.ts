// One bucket behind an S3 API: R2's (https://<account>.r2.cloudflarestorage.com) or AWS S3's, or a loopback
// S3 server in tests. Runtime-neutral: @aws-sdk/client-s3 and Web Crypto work in Node and in workerd (with
// nodejs_compat), so the Worker's daily cron and the Node CLIs share this code.
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';

/** The user metadata key that records an object's content hash (sent as x-amz-meta-sha256). */
export const SHA256_METADATA = 'sha256';

export interface S3Endpoint {
  /** Unset: AWS S3 in `region`. R2: https://<account id>.r2.cloudflarestorage.com */
  endpoint?: string;
  /** R2 takes 'auto'. */
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface StoredObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ObjectHead extends StoredObject {
  /** The recorded x-amz-meta-sha256, if the writer set one. */
  sha256: string | undefined;
  contentType: string | undefined;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const isNotFound = (error: unknown) =>
  error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey');

export class ObjectStore {
  readonly client: S3Client;

  /** `name` labels the side in reports and errors ('r2', 's3'). */
  constructor(
    readonly name: string,
    readonly endpoint: S3Endpoint,
  ) {
    this.client = new S3Client({
      region: endpoint.region,
      ...(endpoint.endpoint ? { endpoint: endpoint.endpoint } : {}),
      // Path-style works for AWS, R2 and loopback servers alike; virtual-host style needs DNS per bucket.
      forcePathStyle: true,
      credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
      // We verify every object by its sha256 ourselves. R2 and most S3-compatible servers do not implement
      // the SDK's default CRC32 trailers on every request, so ask for them only where S3 requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  get bucket(): string {
    return this.endpoint.bucket;
  }

  toString(): string {
    return `${this.name}:${this.bucket}`;
  }

  /** Every object under `prefix`, by key. */
  async list(prefix: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        objects.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: h.ContentLength ?? 0,
        lastModified: h.LastModified ?? new Date(0),
        sha256: h.Metadata?.[SHA256_METADATA],
        contentType: h.ContentType,
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** The object's bytes and its recorded sha256. */
  async get(key: string): Promise<{ bytes: Uint8Array; sha256: string | undefined; contentType: string | undefined; lastModified: Date }> {
    const o = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const bytes = o.Body ? await o.Body.transformToByteArray() : new Uint8Array();
    return { bytes, sha256: o.Metadata?.[SHA256_METADATA], contentType: o.ContentType, lastModified: o.LastModified ?? new Date(0) };
  }

  /** Writes the object with its sha256 in the metadata; returns that sha256. */
  async put(key: string, bytes: Uint8Array, options: { contentType?: string; metadata?: Record<string, string> } = {}): Promise<string> {
    const sha256 = await sha256Hex(bytes);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ContentType: options.contentType ?? 'application/octet-stream',
        Metadata: { ...options.metadata, [SHA256_METADATA]: sha256 },
      }),
    );
    return sha256;
  }

  /**
   * Writes the object, then reads it back and checks the stored bytes hash to what was sent. A write that
   * the server acknowledged but stored differently fails here, not at restore time.
   */
  async putVerified(key: string, bytes: Uint8Array, options: { contentType?: string; metadata?: Record<string, string> } = {}): Promise<string> {
    const sha256 = await this.put(key, bytes, options);
    const back = await this.get(key);
    const actual = await sha256Hex(back.bytes);
    if (actual !== sha256 || back.sha256 !== sha256) {
      throw new Error(`${this}/${key}: read back sha256 ${actual} (recorded ${back.sha256 ?? 'none'}) after writing ${sha256}`);
    }
    return sha256;
  }

  /** Records the sha256 of an object written without one (e.g. by `wrangler r2 object put`), in place. */
  async recordSha256(key: string, sha256: string, contentType: string | undefined): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: key,
        CopySource: `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        ContentType: contentType ?? 'application/octet-stream',
        Metadata: { [SHA256_METADATA]: sha256 },
      }),
    );
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      if (batch.length === 0) continue;
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
