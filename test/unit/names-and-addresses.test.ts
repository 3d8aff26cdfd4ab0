import { expect } from 'chai';
import { canonicalName } from '../../src/lib/names';
import { allowanceOf, ipAddress, isLocalNetwork, isLoopback, shortAddress } from '../../src/lib/ip';
import { loadConfig } from '../../src/config';
import { SESSION_SECRET } from '../support/harness';

describe('canonicalName', function () {
  const OWNER = 'studio.rossi@pec.example.it';

  it('should fold full-width letters, invisible code points, case and surrounding space into one name', function () {
    for (const typed of [
      'ｓtudio.rossi@pec.example.it',
      `${OWNER}\u200b`,
      `\u200d${OWNER}\ufeff`,
      ' Studio.Rossi@PEC.example.it ',
      'ＳＴＵＤＩＯ.ＲＯＳＳＩ＠ＰＥＣ.ＥＸＡＭＰＬＥ.ＩＴ',
      `stu\u00addio.rossi@pec.example.it`,
    ]) {
      expect(canonicalName(typed), JSON.stringify(typed)).to.equal(OWNER);
    }
  });

  it('should keep letters that only look alike apart', function () {
    expect(canonicalName('stúdio.rossi@pec.example.it')).not.to.equal(OWNER);
    expect(canonicalName('ѕtudio.rossi@pec.example.it'), 'Cyrillic dze').not.to.equal(OWNER);
  });

  it('should give the empty name for nothing but invisible characters, and for what is not a string', function () {
    expect(canonicalName('\u200b \u200c')).to.equal('');
    expect(canonicalName(['a', 'b'])).to.equal('');
    expect(canonicalName(undefined)).to.equal('');
  });

  it('should be its own canonical form, and at most 300 characters', function () {
    const long = `${'Ａ'.repeat(400)}\u200b`;
    expect(canonicalName(long)).to.have.length(300);
    for (const typed of ['İstanbul/x@y.it', 'ﬃ/x@y.it', 'ＡＢＣ/x@y.it']) expect(canonicalName(canonicalName(typed))).to.equal(canonicalName(typed));
  });
});

describe('client addresses', function () {
  it('should keep only valid IP addresses, in one written form', function () {
    expect(ipAddress('203.0.113.7')).to.equal('203.0.113.7');
    expect(ipAddress('::ffff:203.0.113.7')).to.equal('203.0.113.7');
    expect(ipAddress('::FFFF:cb00:7107')).to.equal('203.0.113.7');
    expect(ipAddress('2001:DB8:0:0:0:0:0:1')).to.equal('2001:db8::1');
    expect(ipAddress('fe80::1%eth0')).to.equal('fe80::1');
    for (const junk of ['<b>free text</b>', '203.0.113.7, 198.51.100.1', '999.1.1.1', '', 'unknown', null, undefined, 42]) {
      expect(ipAddress(junk), String(junk)).to.equal(null);
    }
  });

  it('should make all of loopback one allowance, IPv4-mapped IPv6 its IPv4 address, and IPv6 its /64', function () {
    expect(allowanceOf('127.0.0.1')).to.equal(allowanceOf('::1'));
    expect(allowanceOf('::ffff:127.0.0.1')).to.equal(allowanceOf('::1'));
    expect(allowanceOf('::ffff:192.0.2.9')).to.equal(allowanceOf('192.0.2.9'));
    expect(allowanceOf('2001:db8:1:2::1')).to.equal(allowanceOf('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(allowanceOf('2001:db8:1:2::1')).not.to.equal(allowanceOf('2001:db8:1:3::1'));
    expect(allowanceOf('192.0.2.9')).not.to.equal(allowanceOf('192.0.2.10'));
    expect(isLoopback('127.0.0.53')).to.equal(true);
    expect(isLoopback('::2')).to.equal(false);
    expect(isLoopback('192.0.2.1')).to.equal(false);
  });

  it('should tell a local network (loopback, RFC 1918, link-local, IPv6 unique local) from the Internet', function () {
    for (const local of ['127.0.0.1', '::1', '10.1.2.3', '172.16.0.1', '172.31.255.254', '192.168.1.20', '169.254.1.1', '::ffff:10.0.0.1', 'fd12:3456::1', 'fe80::1%eth0']) {
      expect(isLocalNetwork(local), local).to.equal(true);
    }
    for (const internet of ['203.0.113.7', '172.32.0.1', '172.15.255.255', '192.169.0.1', '2001:db8::1', 'fec0::1', null, 'junk']) {
      expect(isLocalNetwork(internet), String(internet)).to.equal(false);
    }
  });

  it('should shorten an IPv6 address to its /64 and keep an IPv4 address whole', function () {
    expect(shortAddress('203.0.113.7')).to.equal('203.0.113.7');
    expect(shortAddress('2001:DB8:85a3:08d3:1319:8a2e:0370:7348')).to.equal('2001:db8:85a3:8d3:…');
    expect(shortAddress('2001:db8::1')).to.equal('2001:db8:0:0:…');
    expect(shortAddress(null)).to.equal(null);
  });
});

describe('loadConfig', function () {
  const load = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', SESSION_SECRET, ...env });

  it('should refuse TRUST_PROXY=true, hop counts and the whole internet with one clear line', function () {
    const messageOf = (value: string) => {
      try {
        load({ TRUST_PROXY: value });
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    for (const value of ['true', '1', '2']) {
      expect(messageOf(value), value).to.match(/^TRUST_PROXY="(true|\d+)" would believe anyone's X-Forwarded-For: list the proxies' addresses instead \(e\.g\. "loopback" or "10\.0\.0\.5, 10\.0\.1\.0\/24"\)$/);
    }
    for (const value of ['0.0.0.0/0', '::/0', 'proxy.example.it', '10.0.0.1/33', '10.0.0.1, nonsense']) {
      expect(messageOf(value), value).to.match(/^TRUST_PROXY: "[^"]+" is not a proxy address, a subnet \(10\.0\.1\.0\/24\) or one of loopback, linklocal, uniquelocal$/);
    }
  });

  it('should take proxies as addresses, subnets and Express names', function () {
    expect(load({ TRUST_PROXY: 'loopback, 10.0.1.0/24, 2001:db8::5' }).trustProxy).to.deep.equal(['loopback', '10.0.1.0/24', '2001:db8::5']);
    expect(load({}).trustProxy).to.equal(false);
    expect(load({ TRUST_PROXY: 'false' }).trustProxy).to.equal(false);
  });

  it('should take the sending limits, and refuse a limit or window of zero', function () {
    expect(load({}).mailLimits).to.deep.equal({ windowSeconds: 24 * 3600, perRecipient: 5, perMailbox: 100 });
    expect(load({ MAIL_LIMIT_PER_RECIPIENT: '3', MAIL_LIMIT_PER_MAILBOX: '50', MAIL_LIMIT_WINDOW_HOURS: '1' }).mailLimits).to.deep.equal({ windowSeconds: 3600, perRecipient: 3, perMailbox: 50 });
    for (const name of ['MAIL_LIMIT_PER_RECIPIENT', 'MAIL_LIMIT_PER_MAILBOX', 'MAIL_LIMIT_WINDOW_HOURS']) {
      expect(() => load({ [name]: '0' }), name).to.throw(`${name} must be a whole number of at least 1, got "0"`);
    }
  });
});
