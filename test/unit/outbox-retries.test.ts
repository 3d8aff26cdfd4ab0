import { expect } from 'chai';
import { DEFAULT_WORKER_OPTIONS, refusedForGood } from '../../src/mail/outbox';

describe('Outbox retries', function () {
  it('should keep retrying an email for about five days by default (Postfix maximal_queue_lifetime), an outage of a weekend losing nothing', function () {
    const { maxAttempts, backoffMs, maxBackoffMs } = DEFAULT_WORKER_OPTIONS;
    let waited = 0;
    for (let attempt = 1; attempt < maxAttempts; attempt += 1) waited += Math.min(backoffMs * 2 ** (attempt - 1), maxBackoffMs);
    expect(waited / 86_400_000).to.be.within(4.5, 5.5);
  });

  it('should give up at once only what the server refused for good: a 5xx to RCPT TO or to the data', function () {
    const smtp = (responseCode: number, command: string, code = 'EENVELOPE') => Object.assign(new Error('refused'), { responseCode, command, code });
    expect(refusedForGood(smtp(550, 'RCPT TO'))).to.equal(true);
    expect(refusedForGood(smtp(554, 'DATA', 'EMESSAGE'))).to.equal(true);
    expect(refusedForGood(Object.assign(new Error('Invalid recipient'), { code: 'EENVELOPE', command: 'API' }))).to.equal(true);
    // The server's state or its configuration: retried.
    expect(refusedForGood(smtp(450, 'RCPT TO'))).to.equal(false);
    expect(refusedForGood(smtp(535, 'AUTH PLAIN', 'EAUTH'))).to.equal(false);
    expect(refusedForGood(smtp(550, 'MAIL FROM'))).to.equal(false);
    expect(refusedForGood(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).to.equal(false);
    expect(refusedForGood(undefined)).to.equal(false);
  });
});
