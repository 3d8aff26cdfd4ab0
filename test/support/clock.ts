import type { Clock } from '../../src/lib/clock';

/** A clock the test moves by hand; a `running` one also moves with real time, for tests of timings. */
export class TestClock implements Clock {
  private readonly startedAt = Date.now();

  constructor(
    private current = new Date('2026-03-02T09:00:00.000Z'),
    private readonly running = false,
  ) {}

  now(): Date {
    return new Date(this.current.getTime() + (this.running ? Date.now() - this.startedAt : 0));
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }

  set(date: Date): void {
    this.current = new Date(date.getTime() - (this.running ? Date.now() - this.startedAt : 0));
  }
}
