import crypto from 'node:crypto';
import { Op, type Transaction } from 'sequelize';
import type { Secret, TOTP } from 'otpauth';
import type { Database } from '../db';
import { listChanged } from '../db/list-versions';
import { execute } from '../db/statements';
import type { Clock } from '../lib/clock';
import type { Sealer } from '../lib/secrets';
import { whenUsed } from '../lib/when-used';
import { ownerPayload, type EmailPayload, type EmailTemplate } from '../mail/message-types';
import type { Outbox } from '../mail/outbox';
import type { Mailbox, SecondFactor } from '../models';
import type { SignedIn } from './accounts';
import type { Actor } from './actor';
import type { Audit, AuditAction } from './audit';
import type { CollaboratorChanges } from './collaborator-changes';
import { NotFound, ValidationFailed } from './errors';
import { revokeSessions, type Principal } from './sessions';

const otpauth = whenUsed(() => require('otpauth') as typeof import('otpauth'));
const qrcode = whenUsed(() => require('qrcode') as typeof import('qrcode'));

/** RFC 6238 parameters every authenticator app understands: SHA-1, 6 digits, 30 s. */
const TOTP_PERIOD_S = 30;
const TOTP_DIGITS = 6;
/** Codes one step before or after the current one are accepted (clock skew, RFC 6238 §5.2). */
const TOTP_WINDOW = 1;
const ISSUER = 'PEC';

const RECOVERY_CODE_COUNT = 10;
/** 12 characters of 32 (60 bits), without 0/o, 1/l/i: written down by hand, typed back. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_GROUPS = 3;
const RECOVERY_GROUP_LENGTH = 4;

/** What the holder of an account sees of its two-step verification. */
export interface TwoStepStatus {
  on: boolean;
  totp: boolean;
  passkeys: SecondFactor[];
  recoveryCodesLeft: number;
}

/**
 * A TOTP secret offered for confirmation: base32 (RFC 4648) for typing, the otpauth:// URI and its QR
 * code (SVG), and `sealed`, what the session keeps until the first code confirms it.
 */
export interface TotpOffer {
  secret: string;
  sealed: string;
  uri: string;
  qrSvg: string;
}

/** How a second step was passed. */
export type SecondStepMethod = 'totp' | 'recovery_code' | 'passkey';

/** Where a request came from, for the record. */
export interface Origin {
  ip?: string | null;
  userAgent?: string | null;
  /** The web session making the change: kept when the others are ended. */
  sid?: string;
}

export function principalOf(signedIn: SignedIn): Principal {
  return signedIn.type === 'owner' ? { type: 'owner', id: signedIn.mailbox.id } : { type: 'collaborator', id: signedIn.collaborator.id };
}

/** The rows of second_factors or recovery_codes that belong to `principal`. */
export function ownedBy(principal: Principal): { principalType: Principal['type']; principalId: number } {
  return { principalType: principal.type, principalId: principal.id };
}

/** Lowercase, without the spaces and dashes people add or leave out when typing a code back. */
function normalised(code: string): string {
  return code.toLowerCase().replace(/[\s-]+/g, '');
}

function newRecoveryCode(): string {
  const chars = Array.from({ length: RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH }, () => RECOVERY_ALPHABET[crypto.randomInt(RECOVERY_ALPHABET.length)]);
  const groups = Array.from({ length: RECOVERY_GROUPS }, (_, i) => chars.slice(i * RECOVERY_GROUP_LENGTH, (i + 1) * RECOVERY_GROUP_LENGTH).join(''));
  return groups.join('-');
}

/**
 * Two-step verification of owners and collaborators (issue 11): an authenticator app (TOTP, RFC
 * 6238, with `otpauth`), passkeys (src/domain/passkeys.ts adds them through `addFactor`) and ten
 * single-use recovery codes. Any second factor turns it on; the last one removed turns it off. A
 * collaborator with it on signs in to mail programs only with app passwords (the view the mail server
 * reads hides the web password), so mail programs are kicked when it turns on.
 */
export class TwoStep {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly sealer: Sealer,
    /** HMAC key for recovery codes: a copy of the database alone cannot test guesses. */
    private readonly recoveryKey: Buffer,
    private readonly outbox: Outbox,
    private readonly audit: Audit,
    private readonly changes: CollaboratorChanges,
  ) {}

  async isOn(principal: Principal, t?: Transaction): Promise<boolean> {
    return (await this.db.models.SecondFactor.count({ where: ownedBy(principal), transaction: t })) > 0;
  }

  async statusOf(principal: Principal): Promise<TwoStepStatus> {
    const factors = await this.db.models.SecondFactor.findAll({ where: ownedBy(principal), order: [['createdAt', 'ASC'], ['id', 'ASC']] });
    const recoveryCodesLeft = await this.db.models.RecoveryCode.count({ where: { ...ownedBy(principal), usedAt: null } });
    return {
      on: factors.length > 0,
      totp: factors.some((f) => f.kind === 'totp'),
      passkeys: factors.filter((f) => f.kind === 'passkey'),
      recoveryCodesLeft,
    };
  }

  /**
   * A TOTP secret for `accountName` (the name the app lists), stored nowhere until a code confirms it:
   * a new one, or the one offered before (`sealed`) when its code was mistyped.
   */
  async offerTotp(accountName: string, sealed?: string): Promise<TotpOffer> {
    const { Secret } = otpauth();
    const secret = sealed ? Secret.fromBase32(this.sealer.open(sealed)) : new Secret({ size: 20 });
    const uri = this.totp(secret, accountName).toString();
    const qrSvg = await qrcode().toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
    return { secret: secret.base32, sealed: sealed ?? this.sealer.seal(secret.base32), uri, qrSvg };
  }

  /**
   * Stores the authenticator app once its first code matches the offered secret (`sealedSecret`,
   * from offerTotp), in place of the one set up before (a new phone). Returns the recovery codes when
   * this turns two-step verification on, else null. Throws ValidationFailed `{ code: 'totp_wrong' }`.
   */
  async enableTotp(signedIn: SignedIn, sealedSecret: string, code: string, origin: Origin = {}): Promise<string[] | null> {
    const secret = this.sealer.open(sealedSecret);
    const step = this.matchingStep(this.totp(otpauth().Secret.fromBase32(secret), ''), code);
    if (step === null) throw new ValidationFailed({ code: 'totp_wrong' });
    return this.addFactor(signedIn, { kind: 'totp', secret: sealedSecret, lastStep: step, name: null }, origin);
  }

  /**
   * Adds a second factor (the TOTP above, or a passkey) and, when it is the first, turns two-step
   * verification on: ten recovery codes (returned, never stored in clear), the holder's other web
   * sessions ended, mail programs kicked (the web password stops working there), an email and a record.
   */
  async addFactor(
    signedIn: SignedIn,
    fields: Pick<SecondFactor, 'kind' | 'name'> & Partial<Pick<SecondFactor, 'secret' | 'lastStep' | 'credentialId' | 'credentialKey' | 'publicKey' | 'signCount' | 'transports'>>,
    origin: Origin = {},
  ): Promise<string[] | null> {
    const principal = principalOf(signedIn);
    return this.db.transaction(async (t) => {
      const first = !(await this.isOn(principal, t));
      // One authenticator app per account: a new one replaces the old (moved to a new phone).
      if (fields.kind === 'totp') await this.db.models.SecondFactor.destroy({ where: { ...ownedBy(principal), kind: 'totp' }, transaction: t });
      await this.db.models.SecondFactor.create({ ...fields, ...ownedBy(principal), lastUsedAt: null }, { transaction: t });
      await this.factorsChanged(principal, t);
      if (!first) {
        await this.email(signedIn, 'two_step_changed', t);
        await this.record(signedIn, 'two_step.factor_added', t, origin, { kind: fields.kind });
        return null;
      }
      const codes = await this.replaceRecoveryCodes(principal, t);
      await revokeSessions(this.db, principal, t, origin.sid);
      if (signedIn.type === 'collaborator') await this.changes.kickMailPrograms(signedIn.collaborator, signedIn.collaborator.accessLevel, t);
      await this.email(signedIn, 'two_step_enabled', t);
      await this.record(signedIn, 'two_step.enabled', t, origin, { kind: fields.kind });
      return codes;
    });
  }

  /**
   * Checks a code typed at the second step: six digits are a TOTP code (accepted once: a replay or an
   * older code of the same window is refused), anything else a recovery code (spent, recorded, and the
   * holder told by email). Null when neither matches.
   */
  async verifyCode(signedIn: SignedIn, code: string, origin: Origin = {}): Promise<SecondStepMethod | null> {
    const principal = principalOf(signedIn);
    const typed = code.trim();
    const digits = typed.replace(/\s+/g, '');
    if (/^\d{6}$/.test(digits)) return (await this.spendTotp(principal, digits)) ? 'totp' : null;
    if (!(await this.spendRecoveryCode(principal, typed))) return null;
    await this.db.transaction(async (t) => {
      await this.email(signedIn, 'recovery_code_used', t);
      await this.record(signedIn, 'two_step.recovery_code_used', t, origin);
    });
    return 'recovery_code';
  }

  /** Ten new recovery codes; the earlier ones, used or not, stop working. Throws ValidationFailed `{ code: 'two_step_off' }`. */
  async regenerateRecoveryCodes(signedIn: SignedIn, origin: Origin = {}): Promise<string[]> {
    const principal = principalOf(signedIn);
    return this.db.transaction(async (t) => {
      if (!(await this.isOn(principal, t))) throw new ValidationFailed({ code: 'two_step_off' });
      const codes = await this.replaceRecoveryCodes(principal, t);
      await this.record(signedIn, 'two_step.recovery_codes_renewed', t, origin);
      return codes;
    });
  }

  /**
   * Turns two-step verification off, once a current code (TOTP or recovery code) is given: every
   * second factor and recovery code goes, the holder is told. The caller has checked the password.
   * Throws ValidationFailed `{ code: 'code_wrong' }`.
   */
  async turnOff(signedIn: SignedIn, code: string, origin: Origin = {}): Promise<void> {
    if (!(await this.verifyCode(signedIn, code, origin))) throw new ValidationFailed({ code: 'code_wrong' });
    await this.db.transaction(async (t) => {
      await this.removeAllOf(principalOf(signedIn), t);
      // The web password works in mail programs again: a cached refusal must not outlive this.
      if (signedIn.type === 'collaborator') await this.changes.flushMailServerCache(signedIn.collaborator, signedIn.collaborator.accessLevel, t);
      await this.email(signedIn, 'two_step_disabled', t);
      await this.record(signedIn, 'two_step.disabled', t, origin);
    });
  }

  /** Removes one passkey; refused (ValidationFailed `{ passkey: 'last_factor' }`) when it is the only second factor. */
  async removePasskey(signedIn: SignedIn, id: number, origin: Origin = {}): Promise<boolean> {
    const principal = principalOf(signedIn);
    return this.db.transaction(async (t) => {
      // The account's row, not the factors' rows: two removals of two passkeys would lock different rows.
      const { Mailbox, Collaborator } = this.db.models;
      if (principal.type === 'owner') await this.db.claim(Mailbox, principal.id, t);
      else await this.db.claim(Collaborator, principal.id, t);
      const factors = await this.db.models.SecondFactor.findAll({ where: ownedBy(principal), transaction: t });
      const passkey = factors.find((f) => f.id === id && f.kind === 'passkey');
      if (!passkey) return false;
      if (factors.length === 1) throw new ValidationFailed({ passkey: 'last_factor' });
      await passkey.destroy({ transaction: t });
      await this.factorsChanged(principal, t);
      await this.email(signedIn, 'two_step_changed', t);
      await this.record(signedIn, 'two_step.factor_removed', t, origin, { kind: 'passkey' });
      return true;
    });
  }

  /**
   * The owner's policy: whether the mailbox's collaborators must use two-step verification. While it
   * holds, mail programs take only app passwords from every collaborator (`mail_accounts` hides the
   * web password): turning it on kicks the mail programs signed in with one, turning it off lets the
   * web password in again (auth caches flushed).
   */
  async setPolicy(mailbox: Mailbox, required: boolean, actor: Actor): Promise<Mailbox> {
    return this.db.transaction(async (t) => {
      const current = await this.db.models.Mailbox.findByPk(mailbox.id, { transaction: t, lock: t.LOCK.UPDATE });
      if (!current) throw new NotFound('mailbox');
      if (current.twoStepRequired === required) return current;
      const mailUsers = await this.db.models.Collaborator.findAll({ where: { mailboxId: current.id, status: 'active', accessLevel: 'mail_clients' }, transaction: t });
      for (const c of mailUsers) {
        if (required) await this.changes.kickMailPrograms(c, c.accessLevel, t);
        else await this.changes.flushMailServerCache(c, c.accessLevel, t);
      }
      await this.audit.recordOwner(actor, 'two_step.policy_changed', current, t, { required });
      await listChanged(this.db.sequelize, { mailboxId: current.id }, t);
      return current.update({ twoStepRequired: required }, { transaction: t });
    });
  }

  /** Every second factor and recovery code of an account: the owner's reset, a removal, turning it off. */
  async removeAllOf(principal: Principal, t: Transaction): Promise<void> {
    for (const table of ['second_factors', 'recovery_codes']) {
      await execute(this.db, `DELETE FROM ${table} WHERE principal_type = $1 AND principal_id = $2`, [principal.type, principal.id], t);
    }
    await this.factorsChanged(principal, t);
  }

  /** A collaborator's row in the owner's list says whether two-step verification is on. */
  private async factorsChanged(principal: Principal, t: Transaction): Promise<void> {
    if (principal.type === 'collaborator') await listChanged(this.db.sequelize, { collaboratorIds: [principal.id] }, t);
  }

  private totp(secret: Secret, label: string): TOTP {
    const { TOTP } = otpauth();
    return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_S, secret });
  }

  /** The time step `code` belongs to, within the window around now, or null. */
  private matchingStep(totp: TOTP, code: string): number | null {
    const timestamp = this.clock.now().getTime();
    // Apps show the code as "123 456": the space is not part of it.
    const delta = totp.validate({ token: code.replace(/\s+/g, ''), timestamp, window: TOTP_WINDOW });
    return delta === null ? null : Math.floor(timestamp / 1000 / TOTP_PERIOD_S) + delta;
  }

  /** Accepts a TOTP code at most once: its step must be later than the last one accepted, checked and written in one UPDATE. */
  private async spendTotp(principal: Principal, code: string): Promise<boolean> {
    const factor = await this.db.models.SecondFactor.findOne({ where: { ...ownedBy(principal), kind: 'totp' } });
    if (!factor?.secret) return false;
    const step = this.matchingStep(this.totp(otpauth().Secret.fromBase32(this.sealer.open(factor.secret)), ''), code);
    if (step === null) return false;
    const [updated] = await this.db.models.SecondFactor.update(
      { lastStep: step, lastUsedAt: this.clock.now() },
      { where: { id: factor.id, lastStep: { [Op.lt]: step } } },
    );
    return updated === 1;
  }

  private async spendRecoveryCode(principal: Principal, code: string): Promise<boolean> {
    const [updated] = await this.db.models.RecoveryCode.update(
      { usedAt: this.clock.now() },
      { where: { ...ownedBy(principal), codeHash: this.hashCode(code), usedAt: null } },
    );
    return updated === 1;
  }

  private async replaceRecoveryCodes(principal: Principal, t: Transaction): Promise<string[]> {
    await this.db.models.RecoveryCode.destroy({ where: ownedBy(principal), transaction: t });
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.db.models.RecoveryCode.bulkCreate(codes.map((code) => ({ ...ownedBy(principal), codeHash: this.hashCode(code), usedAt: null })), { transaction: t });
    return codes;
  }

  private hashCode(code: string): string {
    return crypto.createHmac('sha256', this.recoveryKey).update(normalised(code)).digest('hex');
  }

  /** Queues `template` to the holder of the account: a collaborator's reference email, or the owner's mailbox. */
  async email(signedIn: SignedIn, template: EmailTemplate, t: Transaction, extra: Pick<EmailPayload, 'identityProvider'> = {}): Promise<void> {
    const { mailbox } = signedIn;
    if (signedIn.type === 'collaborator') return this.changes.email(signedIn.collaborator, mailbox, template, t, extra);
    await this.outbox.enqueueEmail(
      {
        template,
        to: mailbox.address,
        locale: mailbox.locale,
        mailboxId: mailbox.id,
        collaboratorId: null,
        payload: ownerPayload(mailbox, extra),
      },
      t,
    );
  }

  /** Records in the activity log a change the holder made to how they sign in. */
  async record(signedIn: SignedIn, action: AuditAction, t: Transaction, origin: Origin, detail?: Record<string, unknown>): Promise<void> {
    if (signedIn.type === 'owner') {
      const actor: Actor = { type: 'owner', id: signedIn.mailbox.id, name: signedIn.mailbox.address, ip: origin.ip, userAgent: origin.userAgent };
      await this.audit.recordOwner(actor, action, signedIn.mailbox, t, detail);
      return;
    }
    const c = signedIn.collaborator;
    const actor: Actor = { type: 'collaborator', id: c.id, name: c.username, ip: origin.ip, userAgent: origin.userAgent };
    await this.audit.record(actor, action, c, t, detail);
  }
}
