import fs from 'node:fs';
import { CLOCK_TICKS } from './processes';

/** CPU time (user + system, ms) each thread of a process has used so far, by thread id, from /proc (null elsewhere). */
export function threadCpuMsOf(pid: number): Map<number, number> | null {
  try {
    const threads = new Map<number, number>();
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        threads.set(Number(tid), ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return threads;
  } catch {
    return null;
  }
}

/** What each thread used between two readings (threads started in between count from zero). */
export function threadCpuSince(before: Map<number, number> | null, after: Map<number, number> | null): Map<number, number> | null {
  if (!before || !after) return null;
  return new Map([...after].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)]));
}

/**
 * The threads of libuv's pool, where SQLite runs its queries and bcrypt its hashes: the `size`
 * threads other than the main one (`pid`) that used the most CPU during a load bound by bcrypt, in
 * which they are busy all along while V8's helper threads (garbage collection) are not.
 */
export function poolThreads(pid: number, duringBcrypt: Map<number, number>, size: number): Set<number> {
  return new Set([...duringBcrypt].filter(([tid]) => tid !== pid).sort((a, b) => b[1] - a[1]).slice(0, size).map(([tid]) => tid));
}
