import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Where job inputs and results are kept: never in Redis, which holds them in memory. */
export interface BlobStore {
  put(key: string, bytes: Buffer): Promise<void>;
  /** The blob, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Deletes every blob whose key starts with `prefix` + '/'. */
  deleteAll(prefix: string): Promise<void>;
}

/** Blobs as files under a directory (JOB_STORE_DIR/blobs), written whole or not at all. */
export class DirBlobStore implements BlobStore {
  private serial = 0;

  constructor(private readonly root: string) {}

  async put(key: string, bytes: Buffer): Promise<void> {
    const path = join(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    // Renamed into place: a process killed mid-write leaves a temporary file, never half a blob.
    const tmp = `${path}.tmp-${process.pid}-${this.serial++}`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.root, key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async deleteAll(prefix: string): Promise<void> {
    await rm(join(this.root, prefix), { recursive: true, force: true });
  }
}
