import crypto from 'node:crypto';

/**
 * A software WebAuthn authenticator for tests that speak HTTP without a browser: one ES256 key pair,
 * attestation "none", a signature counter, and answers shaped like @simplewebauthn/browser's JSON
 * (WebAuthn Level 3 §6.1 authenticator data, §6.5.4 attestation object, CBOR as RFC 8949).
 * The browser journeys use Chromium's virtual authenticator instead.
 */
export class SoftAuthenticator {
  readonly credentialId = crypto.randomBytes(16).toString('base64url');
  private readonly keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  counter = 0;

  /** `synced`: the counter stays 0, as most synced passkeys report it. */
  constructor(
    private readonly origin: string,
    private readonly synced = false,
  ) {}

  /** The answer to navigator.credentials.create() for these options (JSON text, as the form sends it). */
  register(options: { challenge: string; rp: { id?: string } }): string {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    // COSE_Key (RFC 9053): kty EC2, alg ES256, crv P-256, x, y.
    const coseKey = cbor(new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x as string, 'base64url')], [-3, Buffer.from(jwk.y as string, 'base64url')]]));
    const id = Buffer.from(this.credentialId, 'base64url');
    const attested = Buffer.concat([Buffer.alloc(16), u16(id.length), id, coseKey]);
    const authData = this.authData(options.rp.id as string, 0x41, attested);
    const attestationObject = cbor(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    return JSON.stringify({
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON: this.clientData('webauthn.create', options.challenge).toString('base64url'), attestationObject: attestationObject.toString('base64url'), transports: ['internal'] },
    });
  }

  /** The answer to navigator.credentials.get() for these options; the counter goes up by one. */
  assert(options: { challenge: string; rpId?: string }): string {
    if (!this.synced) this.counter += 1;
    const authData = this.authData(options.rpId as string, 0x01);
    const clientData = this.clientData('webauthn.get', options.challenge);
    const signature = crypto.sign('sha256', Buffer.concat([authData, crypto.createHash('sha256').update(clientData).digest()]), this.keys.privateKey);
    return JSON.stringify({
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON: clientData.toString('base64url'), authenticatorData: authData.toString('base64url'), signature: signature.toString('base64url'), userHandle: null },
    });
  }

  private clientData(type: string, challenge: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  /** rpIdHash, flags (0x01 user present, 0x40 attested credential data), counter, then `rest`. */
  private authData(rpId: string, flags: number, rest = Buffer.alloc(0)): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    return Buffer.concat([crypto.createHash('sha256').update(rpId).digest(), Buffer.from([flags]), counter, rest]);
  }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** CBOR head: major type and argument (RFC 8949 §3). */
function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  return Buffer.concat([Buffer.from([(major << 5) | 25]), u16(n)]);
}

/** Just what the structures above need: small integers, byte and text strings, maps. */
function cbor(value: unknown): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (value instanceof Map) return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  throw new Error(`cannot encode ${typeof value}`);
}
