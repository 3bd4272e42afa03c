import { createServer } from 'node:net';

/** Ports this process handed out lately: the OS may offer a closed one again before its service binds it. */
const recent: number[] = [];
const RECENT_PORTS = 256;
const PICKS = 20;

/**
 * A TCP port free on 127.0.0.1 right now (the OS picks it), and not one this process handed
 * out lately, so two drills of one process never share one. Another process may still take
 * it before the service binds it: the runtime that starts the service checks who listens.
 */
export async function freeLoopbackPort(): Promise<number> {
  let port = await osPort();
  for (let picks = 1; recent.includes(port) && picks < PICKS; picks += 1) port = await osPort();
  recent.push(port);
  if (recent.length > RECENT_PORTS) recent.shift();
  return port;
}

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port the OS chose'));
      });
    });
  });
}
