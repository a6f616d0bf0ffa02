import { loadKeyRing, type KeyRing } from '../partners/api-keys.js';
import { envPrefix } from '../services/descriptor.js';
import { BACKEND_NAMES } from '../services/index.js';
import { configSchema, type Config } from './schema.js';

/** Its message has one line per invalid variable, each naming it. */
export class ConfigError extends Error {}

/**
 * The configuration from the environment: a parse and nothing else (no file is read; see
 * `loadKeys`). Throws ConfigError listing every invalid variable, not only the first.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  // Each backend's variables with their prefix taken off, for the one per-backend schema.
  const backends = Object.fromEntries(
    BACKEND_NAMES.map((name) => {
      const prefix = envPrefix(name);
      return [name, Object.fromEntries(Object.entries(present).flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), v]] : [])))];
    }),
  );
  const parsed = configSchema.safeParse({ ...present, backends });
  if (parsed.success) return parsed.data;
  const lines = new Map<string, string>();
  for (const issue of parsed.error.issues) {
    // ['PORT'] or ['backends', 'keypoint', 'TIMEOUT_MS'] -> KEYPOINT_TIMEOUT_MS
    const [first, backend, key] = issue.path.map(String);
    const name = first === 'backends' ? `${envPrefix(String(backend))}${key}` : String(first);
    if (!lines.has(name)) lines.set(name, `invalid configuration: ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`);
  }
  throw new ConfigError([...lines.values()].join('\n'));
}

/**
 * The accepted API keys, read from API_KEYS_FILE and API_KEYS; undefined when keys are not
 * asked for (the default). A step of its own after the parse, since it reads a file.
 */
export function loadKeys(config: Config): KeyRing | undefined {
  try {
    return loadKeyRing(config.apiKeys.file, config.apiKeys.inline);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${err instanceof Error ? err.message : String(err)}`);
  }
}
