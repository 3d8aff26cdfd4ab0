import { format } from 'node:util';
import { expect } from 'chai';

/**
 * Runs `work` while holding back what is written through `console.warn` and `console.error`, where
 * libraries report a fault a test injects on purpose (Sequelize a rollback on a dead connection,
 * Express an error that arrives after the answer went out). Output matching one of `expected` is
 * dropped; any other is written out after all and fails the test: a real failure is never silenced.
 * Output that comes after `work` has settled is not held back either.
 */
export async function withExpectedConsole<T>(expected: RegExp[], work: () => Promise<T>): Promise<T> {
  const held: string[] = [];
  const { warn, error } = console;
  const hold = (...args: unknown[]): void => void held.push(format(...args));
  console.warn = hold;
  console.error = hold;
  let unexpected: string[] = [];
  let result: T;
  try {
    result = await work();
  } finally {
    Object.assign(console, { warn, error });
    unexpected = held.filter((text) => !expected.some((pattern) => pattern.test(text)));
    for (const text of unexpected) console.error(text);
  }
  expect(unexpected, 'console output besides what the injected fault explains').to.deep.equal([]);
  return result;
}
