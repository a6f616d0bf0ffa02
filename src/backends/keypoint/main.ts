import { runBackendCli } from '../cli.js';
import { startKeypointBackend } from './server.js';

await runBackendCli('keypoint', startKeypointBackend);
