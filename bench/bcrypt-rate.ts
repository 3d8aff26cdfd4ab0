import bcrypt from 'bcrypt';

/**
 * bcrypt's own rate on this machine: as many hashes in flight as the app would have, in a process
 * with the same UV_THREADPOOL_SIZE. Prints one JSON line.
 */
const cost = Number(process.env.BCRYPT_COST ?? 12);
const seconds = Number(process.env.SECONDS ?? 10);
const inFlight = Number(process.env.IN_FLIGHT ?? 50);

async function main(): Promise<void> {
  await bcrypt.hash('warm-up', cost);
  let done = 0;
  const started = process.hrtime.bigint();
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, lane) => {
      while (Date.now() < until) {
        await bcrypt.hash(`a password of some length ${lane}-${done}`, cost);
        done += 1;
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ hashesPerSecond: done / elapsed, hashes: done, seconds: elapsed, cost, threadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }));
}

void main();
