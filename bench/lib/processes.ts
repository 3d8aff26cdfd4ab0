import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** One command of package.json's `start` script: `NAME=value node <args>`. */
export interface StartStep {
  args: string[];
  env: Record<string, string>;
}

/**
 * The commands of package.json's `start` script (`a && b`), each a `node` command with the variables
 * it sets: the one place that says how production runs Node (its flags, MALLOC_ARENA_MAX), read by
 * every tool here that runs the app or stands in for it.
 */
export function startScript(): StartStep[] {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return scripts.start.split('&&').map((step) => {
    const words = step.trim().split(/\s+/);
    const assignments = words.slice(0, words.findIndex((word) => !/^[A-Z_]+=/.test(word)));
    const [program, ...args] = words.slice(assignments.length);
    if (program !== 'node') throw new Error(`npm start: expected node commands, got "${step.trim()}"`);
    return { args, env: Object.fromEntries(assignments.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)])) };
  });
}

/** The app's own command (the last of `start`): Node's flags (the words before its file) and the variables it sets. */
export function appCommand(): { nodeFlags: string[]; env: Record<string, string> } {
  const last = startScript().pop() as StartStep;
  return { nodeFlags: last.args.slice(0, last.args.findIndex((arg) => !arg.startsWith('-'))), env: last.env };
}

/** A child Node process, with its stdout kept line by line. */
export class Child {
  readonly lines: string[] = [];
  private readonly waiters: Array<(line: string) => boolean> = [];
  private exited = false;

  private constructor(
    readonly name: string,
    private readonly process: ChildProcess,
  ) {
    let buffer = '';
    process.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.lines.push(line);
        for (let i = this.waiters.length - 1; i >= 0; i--) if (this.waiters[i]?.(line)) this.waiters.splice(i, 1);
      }
    });
    process.stderr?.on('data', (chunk: Buffer) => globalThis.process.stderr.write(`[${name}] ${chunk.toString('utf8')}`));
    process.once('exit', () => {
      this.exited = true;
    });
  }

  /** A TypeScript entry (`bench/baseline.ts`), run through tsx. */
  static start(name: string, entry: string, env: Record<string, string>, nodeArgs: string[] = []): Child {
    return Child.spawn(name, [...nodeArgs, '--import', 'tsx', entry], env);
  }

  /**
   * The app as production runs it: the commands of package.json's `start` script (startScript()),
   * without npm (so that `pid` is the app's own): each step but the last to its end (the build), then
   * the last, with the variables its command sets and `nodeArgs` before its own.
   */
  static startApp(env: Record<string, string>, name = 'app', nodeArgs: string[] = []): Child {
    const steps = startScript();
    const last = steps.pop() as StartStep;
    for (const step of steps) execFileSync(process.execPath, step.args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...step.env } });
    return Child.spawn(name, [...nodeArgs, ...last.args], { ...env, ...last.env });
  }

  private static spawn(name: string, args: string[], env: Record<string, string>): Child {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Child(name, child);
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error(`${this.name} did not start`);
    return this.process.pid;
  }

  /** Resolves with the first stdout line (from now on) that the test accepts. */
  nextLine(test: (line: string) => boolean, ms = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no expected output within ${ms} ms`)), ms);
      this.waiters.push((line) => {
        if (!test(line)) return false;
        clearTimeout(timer);
        resolve(line);
        return true;
      });
    });
  }

  signal(name: NodeJS.Signals): void {
    this.process.kill(name);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}


/** Resident memory of a process, in MB, from /proc (Linux only; null elsewhere). */
export function memoryOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Samples a process's RSS while some work runs; returns the work's result and the peak seen. */
export async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakRssMb: number | null }> {
  let peak: number | null = memoryOf(pid)?.rss ?? null;
  const timer = setInterval(() => {
    const rss = memoryOf(pid)?.rss;
    if (rss !== undefined && (peak === null || rss > peak)) peak = rss;
  }, 200);
  try {
    const result = await work();
    const rss = memoryOf(pid)?.rss;
    if (rss !== undefined && (peak === null || rss > peak)) peak = rss;
    return { result, peakRssMb: peak };
  } finally {
    clearInterval(timer);
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (null elsewhere). */
export function cpuMsOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * Resolves once a process has been idle (under 5% of one core) for `windowMs`: the work it accepted
 * before (hashes of requests a stopped load left queued, say) is done. Rejects after `ms`.
 */
export async function untilIdle(pid: number, windowMs = 500, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  let before = cpuMsOf(pid);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = cpuMsOf(pid);
    if (before === null || now === null || now - before < windowMs * 0.05) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} still busy after ${ms} ms`);
    before = now;
  }
}

/** USER_HZ: 100 on every Linux the bench runs on. */
export const CLOCK_TICKS = 100;

/** The app's event-loop delay (ms) since the previous call: BENCH_EVENT_LOOP=1 in the app (src/server.ts). */
export async function eventLoop(app: Child): Promise<{ p50: number; p99: number; max: number }> {
  const line = app.nextLine((l) => l.startsWith('{"eventLoopDelay"'), 5000);
  app.signal('SIGUSR2');
  return (JSON.parse(await line) as { eventLoopDelay: { p50: number; p99: number; max: number } }).eventLoopDelay;
}
