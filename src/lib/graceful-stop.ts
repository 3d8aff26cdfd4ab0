import type { Server, ServerResponse } from 'node:http';

/**
 * Stops `server`, waiting at most `graceMs` (ms) for what it accepted. Resolves once no connection
 * is left, with how many requests were still running when the grace period ended (0: all answered).
 */
export type StopServing = (graceMs: number) => Promise<number>;

/**
 * Call once the server is created: from then on it knows the requests it is answering, so that
 * the returned function can stop it without dropping them.
 *
 * Node 20's `server.close()` alone refuses new connections and ends idle ones, but a kept-alive
 * connection that is answering goes on serving whatever its client sends next, for as long as it
 * keeps asking: anything closed after close() returned (the database) is still reached by requests.
 * So once stopping, every answer not yet sent says `Connection: close` (Node then ends its
 * connection when it is sent), a request still arriving on a kept-alive connection is answered the
 * same way, and at `graceMs` whatever connection is left (a request still running, a client that
 * never finished sending its own) is cut.
 */
export function gracefulStop(server: Server): StopServing {
  const running = new Set<ServerResponse>();
  let stopping = false;
  const lastOnItsConnection = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  // First among the listeners: the app may answer before it returns.
  server.prependListener('request', (_req, res: ServerResponse) => {
    running.add(res);
    res.once('close', () => running.delete(res));
    if (stopping) lastOnItsConnection(res);
  });
  return (graceMs) => {
    stopping = true;
    running.forEach(lastOnItsConnection);
    return new Promise((resolve) => {
      let cut = 0;
      const deadline = setTimeout(() => {
        cut = running.size;
        server.closeAllConnections();
      }, graceMs);
      // Its error (the server was not listening) changes nothing: no connection is left either way.
      server.close(() => {
        clearTimeout(deadline);
        resolve(cut);
      });
    });
  };
}
