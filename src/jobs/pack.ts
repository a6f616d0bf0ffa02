import { deserialize, serialize } from 'node:v8';

/**
 * A job's input or result as one blob: plain objects, numbers, strings and Buffers, in V8's
 * own serialization (it keeps Buffers as Buffers, and reads the formats of older Node versions).
 */
export const pack = (value: unknown): Buffer => serialize(value);
export const unpack = <T>(blob: Buffer): T => deserialize(blob) as T;
