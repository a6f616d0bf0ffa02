import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A backend host whose process has frozen: a listening socket in a stopped process, so the
 * kernel still completes handshakes into its accept queue until that is full, and drops the
 * SYNs of every connect after (which then hang until their own timeout). Connects that hang
 * cannot be had otherwise here: Node accepts at once, and unrouted addresses are answered.
 * `fill()` opens plain sockets until the queue has no room left.
 */
export async function frozenHost(t: TestContext): Promise<{ address: string; fill: (room: number) => Promise<void> }> {
  // backlog 1: the queue holds two connections (Linux lets the count reach backlog + 1).
  const child = spawn(process.execPath, ['-e', "require('net').createServer().listen({ host: '127.0.0.1', port: 0, backlog: 1 }, function () { console.log(this.address().port) })"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  child.kill('SIGSTOP');
  const fillers: net.Socket[] = [];
  t.after(() => fillers.forEach((s) => s.destroy()));
  const fill = async (room: number) => {
    for (let i = 0; i < room; i++) {
      const socket = net.connect(port, '127.0.0.1');
      fillers.push(socket);
      await once(socket, 'connect');
    }
  };
  return { address: `127.0.0.1:${port}`, fill };
}
