import { Secret, TOTP } from 'otpauth';
import type { Clock } from '../../src/lib/clock';

/**
 * The authenticator app of a test: the key read off the set-up page (base32, spaces allowed), codes
 * at the time of the app's domain clock (the harness's TestClock), never the real time.
 */
export class AuthenticatorApp {
  private readonly totp: TOTP;
  constructor(secret: string) {
    this.totp = new TOTP({ secret: Secret.fromBase32(secret.replace(/\s+/g, '')), algorithm: 'SHA1', digits: 6, period: 30 });
  }

  code(h: { clock: Clock }, offsetSeconds = 0): string {
    return this.totp.generate({ timestamp: h.clock.now().getTime() + offsetSeconds * 1000 });
  }

  /** Six digits the app would refuse now: none of the codes within one step either side. */
  wrongCode(h: { clock: Clock }): string {
    const accepted = [-30, 0, 30].map((skew) => this.code(h, skew));
    let code = Number(this.code(h));
    do code = (code + 1) % 1_000_000;
    while (accepted.includes(String(code).padStart(6, '0')));
    return String(code).padStart(6, '0');
  }
}
