import { expect } from 'chai';
import bcrypt from 'bcrypt';
import { checkPassword, hashPassword, verifyPassword } from '../../src/domain/passwords';

const context = { username: 'mario.rossi/studio.rossi@pec.example.it', mailbox: 'studio.rossi@pec.example.it', firstName: 'Mario', lastName: 'Rossi' };
const check = (password: string, confirmation?: string) => checkPassword(password, confirmation, context, 15)?.reason ?? null;

describe('checkPassword', function () {
  it('should refuse 14 characters and accept 15', function () {
    expect(check('plum tiger sof')).to.equal('too_short');
    expect(check('plum tiger sofa')).to.equal(null);
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

  it('should accept a character that NFKC would change, and compare it as typed', function () {
    // U+00BA (º) is NFKC "o": as typed is what a mail program sends.
    expect(check('Mi 1º caffè del mattino è amaro')).to.equal(null);
    expect(check('Mi 1º caffè del mattino è amaro', 'Mi 1o caffè del mattino è amaro')).to.equal('mismatch');
  });

  it('should refuse the characters a mail program cannot send: NUL, controls, lone surrogates, noncharacters', function () {
    for (const bad of ['\u0000', '\t', '\r', '\n', '\u007f', '\u0085', '\uD800', '\uDC00', '\uFFFF', '\uFDD0', '\u{10FFFE}', '\uFFFD']) {
      expect(check(`a fine long sentence${bad}here`), JSON.stringify(bad)).to.equal('unsupported_character');
    }
  });

  it('should refuse the invisible characters nobody can type again: BOM, zero-width space, soft hyphen', function () {
    for (const bad of ['\uFEFF', '\u200B', '\u200C', '\u2060', '\u00AD']) {
      expect(check(`a fine long sentence${bad}here`), JSON.stringify(bad)).to.equal('unsupported_character');
    }
  });

  it('should refuse repetitive and sequential strings (NIST SP 800-63B-4), spaces and dots included', function () {
    for (const weak of [' '.repeat(15), ' '.repeat(16), '.'.repeat(15), '123456789012345', 'abcdefghijklmno', 'qwertyuiopasdfg', 'onmlkjihgfedcba', '543210987654321', 'azertyuiopqsdfg']) {
      expect(check(weak), JSON.stringify(weak)).to.equal('common');
    }
    expect(check('abcdefg and some words')).to.equal(null);
  });

  it('should refuse a password not in NFC, which a keyboard would type differently', function () {
    const decomposed = 'caffe\u0300 del mattino amaro';
    expect(check(decomposed)).to.equal('not_composed');
    expect(check(decomposed.normalize('NFC'))).to.equal(null);
  });

  it('should accept emoji, other scripts and a no-break space, which a mail program sends as they are', function () {
    expect(check('❤️ un cuore e un gatto 🐈‍⬛')).to.equal(null);
    expect(check('пароль для почты длинный')).to.equal(null);
    expect(check('a fine\u00A0long sentence here')).to.equal(null);
  });

  it('should refuse a confirmation that differs', function () {
    expect(check('a fine long sentence here', 'a fine long sentence her')).to.equal('mismatch');
  });

  it('should have no composition rules', function () {
    expect(check('all lowercase words and no digits')).to.equal(null);
  });
});

describe('hashPassword / verifyPassword', function () {
  it('should hash the bytes exactly as typed, as a mail server checks them', async function () {
    const typed = 'Mi 1º caffè del mattino è amaro';
    const hash = await hashPassword(typed, 4);
    expect(hash).to.match(/^\$2b\$04\$/);
    // What Dovecot does with the bytes a mail program sends: bcrypt over them, no normalisation.
    expect(await bcrypt.compare(typed, hash)).to.equal(true);
    expect(await verifyPassword(typed, hash)).to.equal(true);
    expect(await verifyPassword(typed.normalize('NFKC'), hash), 'the NFKC form is another password').to.equal(false);
    expect(await verifyPassword('anything', null)).to.equal(false);
  });
});
