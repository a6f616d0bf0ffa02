import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { JOB_ID, type JobRecord, type JobStatus } from './job.js';
import type { JobStore, KeyRecord, StoreEvents } from './store.js';

/**
 * The embedded job store: every job in memory, and each one also a JSON file under
 * JOB_STORE_DIR/jobs, rewritten at each change. A process killed at any point finds at its
 * next start every job it had accepted (its file was written before the 202 went out).
 */
export class FileJobStore extends EventEmitter<StoreEvents> implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly keys = new Map<string, KeyRecord>();
  private readonly claims = new Set<string>();
  private readonly writes = new Map<string, Promise<void>>();
  private serial = 0;

  constructor(
    private readonly dir: string,
    private readonly log: FastifyBaseLogger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /** Reads what an earlier process left. */
  async load(): Promise<void> {
    for (const [name, job] of await this.records<JobRecord>('jobs')) if (JOB_ID.test(name)) this.jobs.set(name, job);
    for (const [name, key] of await this.records<KeyRecord>('idempotency')) this.keys.set(Buffer.from(name, 'base64url').toString(), key);
  }

  /** The records of one kind (a folder) by name. A file that cannot be read is logged and left alone. */
  async records<T>(sub: string): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    let names: string[];
    try {
      names = await readdir(join(this.dir, sub));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw err;
    }
    for (const file of names.filter((n) => n.endsWith('.json'))) {
      try {
        out.set(file.slice(0, -'.json'.length), JSON.parse(await readFile(join(this.dir, sub, file), 'utf8')) as T);
      } catch (err) {
        this.log.warn({ err, file: join(this.dir, sub, file) }, 'jobs: a stored file could not be read; left as it is');
      }
    }
    return out;
  }

  /** Stores (or, with undefined, deletes) one record of another kind, such as a webhook delivery. */
  saveRecord(sub: string, name: string, value: unknown): Promise<void> {
    return this.write(sub, name, value === undefined ? undefined : JSON.stringify(value));
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return this.jobs.get(id);
  }

  async ofPartner(partner: string, status?: JobStatus): Promise<JobRecord[]> {
    return [...this.jobs.values()].filter((j) => j.partner === partner && (status === undefined || j.status === status));
  }

  async all(): Promise<JobRecord[]> {
    return [...this.jobs.values()];
  }

  async getKey(scoped: string): Promise<KeyRecord | undefined> {
    return this.keys.get(scoped);
  }

  async sweepKeys(now: number): Promise<void> {
    for (const [scoped, record] of this.keys) if (Date.parse(record.expires_at) <= now) await this.removeKey(scoped);
  }

  async claim(scoped: string): Promise<boolean> {
    if (this.claims.has(scoped)) return false;
    this.claims.add(scoped);
    return true;
  }

  async release(scoped: string): Promise<void> {
    this.claims.delete(scoped);
  }

  async close(): Promise<void> {
    await Promise.all(this.writes.values());
  }

  /** Stores a job as it is now (a new one, or a change), and tells the listeners once it is on disk. */
  async save(job: JobRecord): Promise<void> {
    this.jobs.set(job.id, job);
    await this.write('jobs', job.id, JSON.stringify(job));
    this.emit('change', job, true);
  }

  async remove(id: string): Promise<void> {
    this.jobs.delete(id);
    await this.write('jobs', id, undefined);
    this.emit('removed', id);
  }

  async saveKey(key: string, record: KeyRecord): Promise<void> {
    this.keys.set(key, record);
    await this.write('idempotency', Buffer.from(key).toString('base64url'), JSON.stringify(record));
  }

  async removeKey(key: string): Promise<void> {
    this.keys.delete(key);
    await this.write('idempotency', Buffer.from(key).toString('base64url'), undefined);
  }

  /**
   * Writes (or, with undefined, deletes) one file. Writes of one file go one after another, so
   * that an older version never lands after a newer one; each is renamed into place whole.
   */
  private write(sub: string, name: string, text: string | undefined): Promise<void> {
    const path = join(this.dir, sub, `${name}.json`);
    const previous = this.writes.get(path) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (text === undefined) return rm(path, { force: true });
      await mkdir(join(this.dir, sub), { recursive: true });
      const tmp = `${path}.tmp-${process.pid}-${this.serial++}`;
      await writeFile(tmp, text);
      await rename(tmp, path);
    });
    const tail = next.catch(() => undefined);
    this.writes.set(path, tail);
    void tail.then(() => {
      if (this.writes.get(path) === tail) this.writes.delete(path);
    });
    return next;
  }
}
