import autocannon, { type Request } from 'autocannon';

export interface LoadOptions {
  url: string;
  seconds: number;
  connections: number;
  headers?: Record<string, string>;
  requests?: Request[];
  timeoutSeconds?: number;
}

export interface LoadResult {
  /** Successful (2xx) answers per second over the whole run. */
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  other: number;
  errors: number;
}

/**
 * One autocannon run; latency in ms. Only 2xx answers count as served.
 *
 * autocannon keeps each answer's body as a string (`req.body += data`, its
 * lib/pipelinedRequestsQueue.js), two bytes a character for our pages (’, ·, ▲): 50 connections keep
 * some 12 MB of them alive, which V8's default young generation (16 MB semi-spaces at most) copies
 * at every scavenge. A 127 KB page (`?q=giord` at 100,000) cost this process 0.2–0.3 ms more a
 * request than a 122 KB one (`?q=rossi`), CPU taken from the measured app on 2 shared cores; with
 * 64 MB semi-spaces both cost the same. package.json's `bench` and `bench:profile` give them.
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    headers: options.headers,
    requests: options.requests,
    timeout: options.timeoutSeconds ?? 10,
  });
  const ok = result['2xx'];
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    other: result.non2xx,
    // autocannon counts timeouts among errors already.
    errors: result.errors,
  };
}

/** Round-robins through prepared values, one per request. */
export function cycle<T>(values: T[]): () => T {
  let next = 0;
  return () => {
    const value = values[next % values.length] as T;
    next += 1;
    return value;
  };
}
