import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from './blob-store.js';

export interface S3Options {
  bucket: string;
  /** Prepended to every key, so one bucket can serve several things. */
  prefix: string;
  region: string;
  /** An S3-compatible service (MinIO, Ceph, R2, ...); unset: AWS itself. */
  endpoint?: string | undefined;
  /** `bucket` in the path rather than the host name, as most S3-compatible services want. */
  forcePathStyle: boolean;
}

/**
 * Blobs in an S3 bucket (any S3-compatible store). Credentials come from the AWS SDK's usual
 * chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, or the instance's role.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;

  constructor(private readonly opts: S3Options) {
    this.client = new S3Client({
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    });
  }

  /** Fails (and so stops the start) when the bucket cannot be reached with these settings. */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.opts.bucket }));
    } catch (err) {
      throw new Error(`JOB_S3_BUCKET: bucket "${this.opts.bucket}" cannot be reached${this.opts.endpoint ? ` at ${this.opts.endpoint}` : ''}: ${(err as Error).name} ${(err as Error).message}`);
    }
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: this.opts.prefix + key, Body: bytes }));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.opts.prefix + key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      if (err instanceof NoSuchKey) return undefined;
      throw err;
    }
  }

  async deleteAll(prefix: string): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: `${this.opts.prefix}${prefix}/`, ...(token ? { ContinuationToken: token } : {}) }),
      );
      // One by one: a job has two blobs, and DeleteObjects is not offered by every S3-compatible store.
      for (const object of page.Contents ?? []) await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: object.Key! }));
      token = page.NextContinuationToken;
    } while (token);
  }

  close(): void {
    this.client.destroy();
  }
}
