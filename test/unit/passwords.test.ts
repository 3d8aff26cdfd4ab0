import { expect } from 'chai';
import { checkPassword, hashPassword, verifyPassword } from '../../src/domain/passwords';

const context = { username: 'mario.rossi/studio.rossi@pec.example.it', mailbox: 'studio.rossi@pec.example.it', firstName: 'Mario', lastName: 'Rossi' };
const check = (password: string, confirmation?: string) => checkPassword(password, confirmation, context, 15)?.reason ?? null;

describe('checkPassword', function () {
  it('should refuse 14 characters and accept 15', function () {
    expect(check('abcdefghij klm')).to.equal('too_short');
    expect(check('abcdefghij klmn')).to.equal(null);
  });

  it('should count characters, not bytes, for the minimum', function () {
    expect(check('àèìòùàèìòùàèìò')).to.equal('too_short');
    expect(check('àèìòùàèìòùàèìòù')).to.equal(null);
  });

  it('should accept 72 bytes of UTF-8 and refuse 73', function () {
    const accented = 'àèìòù'.repeat(8).slice(0, 36);
    expect(Buffer.byteLength(accented)).to.equal(72);
    expect(check(accented)).to.equal(null);
    expect(check(`${accented}x`)).to.equal('too_long');
  });

  it('should accept at least 64 characters', function () {
    expect(check('horse battery staple correct '.repeat(3).slice(0, 64))).to.equal(null);
  });

  it('should refuse a blocklisted password, whatever its case', function () {
    expect(check('123456789987654321')).to.equal('common');
    expect(check('QAZWSXEDCRFVTGB')).to.equal('common');
    expect(check('aaaaaaaaaaaaaaaaaaaa')).to.equal('common');
  });

  it('should refuse the context words: username, mailbox, names', function () {
    expect(check('mario.rossi is my password')).to.equal('context');
    expect(check('studio.rossi@pec.example.it!')).to.equal('context');
    expect(check('I am Mario Rossi, hello')).to.equal('context');
  });

  it('should compare NFKC-normalised text', function () {
    // U+FB01 (ﬁ ligature) is NFKC-equivalent to "fi".
    expect(check('a \uFB01ne long sentence here', 'a fine long sentence here')).to.equal(null);
  });

  it('should refuse a confirmation that differs', function () {
    expect(check('a fine long sentence here', 'a fine long sentence her')).to.equal('mismatch');
  });

  it('should have no composition rules', function () {
    expect(check('all lowercase words and no digits')).to.equal(null);
  });
});

describe('hashPassword / verifyPassword', function () {
  it('should verify the NFKC-equivalent form and refuse others', async function () {
    const hash = await hashPassword('a \uFB01ne long sentence here', 4);
    expect(hash).to.match(/^\$2b\$04\$/);
    expect(await verifyPassword('a fine long sentence here', hash)).to.equal(true);
    expect(await verifyPassword('a fine long sentence herE', hash)).to.equal(false);
    expect(await verifyPassword('anything', null)).to.equal(false);
  });
});
