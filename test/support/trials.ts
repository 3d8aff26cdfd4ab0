/**
 * What a file's tests try (attacks, injected faults), each credited with the outcome of the test that
 * tried it, so that a file's summary line reports what was measured: how many were tried, and how
 * many of those a passing test showed to be handled. A summary never claims more than its tests did.
 */
export class Trials {
  private readonly entries: Array<{ what: string; passed?: boolean }> = [];

  /** Records what the running test tries. */
  add(...what: string[]): void {
    for (const w of what) this.entries.push({ what: w });
  }

  /** Credits each test's trials with its outcome; call once inside every `describe` that adds some. */
  creditEachTest(): void {
    const entries = this.entries;
    afterEach(function () {
      const passed = this.currentTest?.state === 'passed';
      for (const entry of entries) if (entry.passed === undefined) entry.passed = passed;
    });
  }

  get tried(): number {
    return this.entries.length;
  }

  /** Tried in tests that passed. */
  get handled(): number {
    return this.entries.filter((e) => e.passed === true).length;
  }
}
