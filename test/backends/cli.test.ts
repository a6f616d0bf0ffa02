import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

// docs/reference-backends.md: each reference backend runs alone with `npm run backend:<name> -- --port ...`.
for (const name of ['keypoint', 'image3d', 'arscan']) {
  test(`npm run backend:${name} -- --port 0 --transport buffered --protocol compact listens as the docs say`, { timeout: 120_000 }, async (t) => {
    const child = spawn('npm', ['run', '--silent', `backend:${name}`, '--', '--port', '0', '--transport', 'buffered', '--protocol', 'compact'], { cwd: root, detached: true });
    t.after(() => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      const seen = (c: Buffer) => {
        out += c.toString();
        const m = new RegExp(`^${name} reference backend listening on 127\\.0\\.0\\.1:(\\d+) \\(buffered/compact\\)$`, 'm').exec(out);
        if (m) resolve(Number(m[1]));
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${out}`)));
    });
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.destroy();
  });
}
