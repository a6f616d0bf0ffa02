import { runBackendCli } from '../cli.js';
import { startArscanBackend } from './server.js';

await runBackendCli('arscan', startArscanBackend);
