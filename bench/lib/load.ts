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

/** One autocannon run; latency in ms. Only 2xx answers count as served. */
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
