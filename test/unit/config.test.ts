import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config';

const SECRET = 'k3Jd9sLq0ZpWm8VtR2cYxN4bHf6GeA1u';
const PRODUCTION = { NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example.it:587', BASE_URL: 'https://webmail.example.it', SESSION_SECRET: SECRET };

/** The message loadConfig fails with, or null when it accepts the environment. */
function refusal(env: Record<string, string>): string | null {
  try {
    loadConfig(env);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('loadConfig', function () {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-config-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  describe('OpenID Connect providers', function () {
    const google = { OIDC_GOOGLE_ISSUER: 'https://accounts.google.com', OIDC_GOOGLE_CLIENT_ID: 'client', OIDC_GOOGLE_CLIENT_SECRET: 'secret' };

    it('should configure only the providers whose three variables are set, with the acr values listed', function () {
      const { oidc } = loadConfig({ SESSION_SECRET: SECRET, ...google, OIDC_MFA_ACR: 'urn:a, urn:b' });
      expect(oidc.providers.map((p) => p.name)).to.deep.equal(['google']);
      expect(oidc.mfaAcrValues).to.deep.equal(['urn:a', 'urn:b']);
      expect(loadConfig({ SESSION_SECRET: SECRET }).oidc.providers).to.deep.equal([]);
    });

    it('should refuse a provider with one of its variables missing, or a plain-http issuer off this machine', function () {
      expect(refusal({ SESSION_SECRET: SECRET, ...google, OIDC_GOOGLE_CLIENT_SECRET: '' })).to.contain('OIDC_GOOGLE_ISSUER, OIDC_GOOGLE_CLIENT_ID and OIDC_GOOGLE_CLIENT_SECRET go together');
      expect(refusal({ SESSION_SECRET: SECRET, ...google, OIDC_GOOGLE_ISSUER: 'http://idp.example.com' })).to.contain('OIDC_GOOGLE_ISSUER must be');
      expect(refusal({ SESSION_SECRET: SECRET, ...google, OIDC_GOOGLE_ISSUER: 'http://127.0.0.1:8080' })).to.equal(null);
    });
  });

  it('should seed the demo (published passwords) only for npm start on a fresh clone, never on a database of its own', function () {
    // SESSION_SECRET given: a bare environment would write data/session-secret in the repository.
    expect(loadConfig({ SESSION_SECRET: SECRET }).demoData).to.equal(true);
    expect(loadConfig({ SESSION_SECRET: SECRET, DATABASE_URL: 'sqlite:/var/lib/pec-webmail/app.sqlite' }).demoData).to.equal(false);
    expect(loadConfig({ DATA_DIR: dataDir }).demoData).to.equal(false);
    expect(loadConfig({ SESSION_SECRET: SECRET, NODE_ENV: 'test' }).demoData).to.equal(false);
    expect(loadConfig(PRODUCTION).demoData).to.equal(false);
    // Its invitations would go out through a real server to made-up addresses.
    expect(loadConfig({ SESSION_SECRET: SECRET, SMTP_URL: 'smtp://127.0.0.1:2525' }).demoData).to.equal(false);
  });

  describe('in production', function () {
    it('should start with SMTP_URL, an https BASE_URL and a long SESSION_SECRET', function () {
      const config = loadConfig(PRODUCTION);
      expect([config.smtpUrl, config.baseUrl, config.sessionSecret]).to.deep.equal([PRODUCTION.SMTP_URL, PRODUCTION.BASE_URL, SECRET]);
    });

    it('should refuse to start without SMTP_URL, BASE_URL and SESSION_SECRET, naming each in one line', function () {
      const message = refusal({ NODE_ENV: 'production', DATA_DIR: dataDir });
      expect(message).to.equal('production needs SMTP_URL, BASE_URL, SESSION_SECRET');
      expect(refusal({ ...PRODUCTION, SMTP_URL: '' })).to.equal('production needs SMTP_URL');
      expect(refusal({ ...PRODUCTION, BASE_URL: '' })).to.equal('production needs BASE_URL');
    });

    it('should name SMTP_URL when it is no URL (a port in letters)', function () {
      expect(refusal({ ...PRODUCTION, SMTP_URL: 'smtp://u:pw@127.0.0.1:abc' })).to.contain('SMTP_URL is not a valid URL');
    });

    it('should refuse a plain-http BASE_URL, except on loopback', function () {
      expect(refusal({ ...PRODUCTION, BASE_URL: 'http://webmail.example.it' })).to.equal('BASE_URL must be https:// in production, got "http://webmail.example.it"');
      for (const local of ['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000']) {
        expect(refusal({ ...PRODUCTION, BASE_URL: local }), local).to.equal(null);
      }
    });
  });

  describe('SESSION_SECRET', function () {
    for (const env of ['production', 'development', 'test']) {
      it(`should refuse a secret shorter than 32 characters in ${env}`, function () {
        const message = refusal({ ...PRODUCTION, NODE_ENV: env, SESSION_SECRET: 'x', DATA_DIR: dataDir });
        expect(message).to.equal('SESSION_SECRET must be at least 32 characters, of at least 10 different ones (e.g. openssl rand -base64 32)');
        expect(refusal({ ...PRODUCTION, NODE_ENV: env, SESSION_SECRET: SECRET.slice(1), DATA_DIR: dataDir })).to.equal(message);
        expect(refusal({ ...PRODUCTION, NODE_ENV: env, SESSION_SECRET: SECRET, DATA_DIR: dataDir })).to.equal(null);
      });
    }

    it('should generate a long secret in development when none is set, and keep it', function () {
      const first = loadConfig({ DATA_DIR: dataDir }).sessionSecret;
      expect(first.length).to.be.at.least(32);
      expect(loadConfig({ DATA_DIR: dataDir }).sessionSecret).to.equal(first);
    });

    it('should refuse a kept development secret that is too short', function () {
      fs.writeFileSync(path.join(dataDir, 'session-secret'), 'short');
      expect(refusal({ DATA_DIR: dataDir })).to.match(/session-secret holds a secret shorter than 32 characters/);
    });
  });

  describe('malformed values', function () {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'abc' }, /^PORT must be a whole number from 1 to 65535, got "abc"$/],
      [{ PORT: '70000' }, /^PORT must be a whole number from 1 to 65535/],
      [{ PORT: '0' }, /^PORT must be a whole number from 1 to 65535/],
      [{ NODE_ENV: 'prod' }, /^NODE_ENV must be production, development or test, got "prod"$/],
      [{ NODE_ENV: 'Production' }, /^NODE_ENV must be production, development or test/],
      [{ BASE_URL: 'https://user:hunter2hunter2@webmail.example.it' }, /^BASE_URL must be scheme, host and optionally a path/],
      [{ BASE_URL: 'https://webmail.example.it?x=1#y' }, /^BASE_URL must be scheme, host and optionally a path/],
      [{ SESSION_SECRET: 'a'.repeat(40) }, /^SESSION_SECRET must be at least 32 characters, of at least 10 different ones/],
      [{ SIGN_IN_LIMIT_PER_ACCOUNT: '0' }, /^SIGN_IN_LIMIT_PER_ACCOUNT must be a whole number of at least 1, got "0"$/],
      [{ BCRYPT_COST: '3' }, /^BCRYPT_COST must be a whole number from 4 to 31/],
      [{ LOG_LEVEL: 'verbose' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/],
      [{ SMTP_URL: 'smtpx://user:hunter2hunter2@mail.example.it' }, /^SMTP_URL must start with smtp:\/\/ or smtps:\/\/$/],
      [{ DATABASE_URL: 'postgres://user:hunter2hunter2@db/pec' }, /^DATABASE_URL must be sqlite:<file> or mysql:/],
      [{ BASE_URL: 'webmail.example.it' }, /^BASE_URL must be an absolute http\(s\) URL/],
      [{ DOVEADM_URL: 'http://127.0.0.1:8080/doveadm/v1' }, /^DOVEADM_URLS needs DOVEADM_API_KEY$/],
      [{ DOVEADM_API_KEY: 'hunter2hunter2' }, /^DOVEADM_API_KEY is set without DOVEADM_URLS$/],
      [{ DOVEADM_URLS: 'http://127.0.0.1:8080/doveadm/v1', DOVEADM_API_KEY: '' }, /^DOVEADM_API_KEY is set but empty/],
      [{ DOVEADM_URLS: 'http://a:1/doveadm/v1, ftp://b/' }, /DOVEADM_URLS: "ftp:\/\/b\/" is not an http\(s\) URL/],
      [{ IMAP_PORT: '143' }, /^IMAP_PORT is set: set IMAP_SECURITY too \(ssl or starttls\)$/],
      [{ SUBMISSION_PORT: '587', SUBMISSION_SECURITY: 'tls' }, /^SUBMISSION_SECURITY must be ssl or starttls, got "tls"$/],
      [{ MAIL_DOMAINS: 'pec.example.it, bad domain' }, /^MAIL_DOMAINS: "bad domain" is not a domain name$/],
      [{ AUTH_POLICY_KEY: 'short' }, /^AUTH_POLICY_KEY must be at least 32 characters/],
    ];
    for (const [env, expected] of cases) {
      it(`should refuse ${JSON.stringify(env)} in one line that names the variable`, function () {
        const message = refusal({ DATA_DIR: dataDir, SESSION_SECRET: SECRET, ...env });
        expect(message).to.match(expected);
        expect(message).not.to.include('\n');
        expect(message, 'a password in a URL is not repeated').not.to.include('hunter2');
      });
    }
  });
});
