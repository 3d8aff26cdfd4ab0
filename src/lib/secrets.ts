import crypto from 'node:crypto';

/** 32 random bytes, base64url: what a link carries. */
export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** What the database keeps of a token. */
export function digest(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Whether two secrets (a bearer key, a token's digest) are equal, in a time that tells nothing of
 * where they differ nor of their lengths: their SHA-256 digests are compared with timingSafeEqual.
 */
export function sameSecret(given: string, expected: string): boolean {
  const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest();
  return crypto.timingSafeEqual(sha256(given), sha256(expected));
}

/** A 32-byte key for one `purpose`, derived from the app secret (HKDF-SHA-256): one secret, independent keys. */
export function deriveKey(appSecret: string, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', appSecret, 'pec-collaborations', purpose, 32));
}

/**
 * Seals short secrets (a link waiting in the outbox) with AES-256-GCM under a key derived from the
 * app secret, so a copy of the database alone does not reveal live links.
 */
export class Sealer {
  private readonly key: Buffer;

  constructor(appSecret: string) {
    this.key = deriveKey(appSecret, 'outbox-secret');
  }

  seal(plain: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
  }

  open(sealed: string): string {
    const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
    if (!iv || !tag || !body) throw new Error('malformed sealed secret');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
}
