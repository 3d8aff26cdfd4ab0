/** A field name → message key map; the HTTP layer translates the keys. */
export type FieldErrors = Record<string, string>;

/** Bad input: nothing was changed; the form is shown again with these messages (422). */
export class ValidationFailed extends Error {
  constructor(readonly errors: FieldErrors) {
    super(`invalid input: ${Object.keys(errors).join(', ')}`);
  }
}

/** The state machine forbids this event in the current state (409). */
export class TransitionRefused extends Error {
  constructor(readonly from: string, readonly event: string) {
    super(`"${event}" is not allowed when the account is ${from}`);
  }
}

/** Unknown, or belonging to another mailbox: both look the same to the caller (404). */
export class NotFound extends Error {
  constructor(what = 'record') {
    super(`${what} not found`);
  }
}

/** A link that is unknown, used, revoked or expired. */
export class InvalidLink extends Error {
  constructor() {
    super('the link is not valid');
  }
}

/** The current password typed to confirm a change is wrong: nothing was changed (422). */
export class WrongPassword extends ValidationFailed {
  constructor() {
    super({ currentPassword: 'password.wrong_current' });
  }
}

/** Too many attempts for this account, username or client IP: try again later (429). */
export class TooManyAttempts extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many attempts');
  }
}

/**
 * An owner action would send one more email than the mailbox may send (MAIL_LIMIT_*): to this
 * recipient, or in all. Nothing was changed (429).
 */
export class TooManyEmails extends TooManyAttempts {
  constructor(
    readonly scope: 'recipient' | 'mailbox',
    readonly limit: number,
    readonly windowHours: number,
    retryAfterSeconds: number,
  ) {
    super(retryAfterSeconds);
    this.message = `too many emails per ${scope}`;
  }
}
