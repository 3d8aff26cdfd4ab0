/** Work that an answer must not wait for, tracked so that shutdown and tests can wait for it. */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();

  run(task: () => Promise<unknown>, onError: (error: unknown) => void): void {
    const done: Promise<void> = Promise.resolve()
      .then(task)
      .then(() => undefined, onError)
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** Resolves once every task started so far (and any they started) has finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
