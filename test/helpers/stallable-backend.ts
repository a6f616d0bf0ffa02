// A keypoint backend in its own process, stalled until its parent sends 'release': used where
// the test process's own load would otherwise slow the backend down too.
import { setTimeout as sleep } from 'node:timers/promises';
import { fakeKeypoint, ok } from './fake-backends.js';

let stalled = true;
process.on('message', (msg) => {
  if (msg === 'release') stalled = false;
});
const be = await fakeKeypoint(async () => {
  while (stalled) await sleep(50);
  return ok();
});
process.send!({ address: be.address });
process.on('disconnect', () => process.exit(0));
