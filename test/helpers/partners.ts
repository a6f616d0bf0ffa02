import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashKey } from '../../src/partners/api-keys.js';

/** A partner as a test writes it: plain keys (hashed into the file) and any other settings of the keys file. */
export type TestPartner = { keys: string[]; revoked_keys?: string[] } & Record<string, unknown>;

/** An API_KEYS_FILE for these partners, in a folder of its own. */
export function keysFile(partners: Record<string, TestPartner>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vg-keys-')), 'keys.json');
  const hashed = Object.fromEntries(
    Object.entries(partners).map(([id, { keys, revoked_keys, ...rest }]) => [
      id,
      { keys: keys.map(hashKey), ...(revoked_keys ? { revoked_keys: revoked_keys.map(hashKey) } : {}), ...rest },
    ]),
  );
  writeFileSync(file, JSON.stringify({ partners: hashed }));
  return file;
}
