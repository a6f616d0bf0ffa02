import { runBackendCli } from '../cli.js';
import { startImage3dBackend } from './server.js';

await runBackendCli('image3d', startImage3dBackend);
