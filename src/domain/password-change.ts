/** The fields of a password change form. */
export interface PasswordChange {
  currentPassword: string;
  password: string;
  passwordConfirmation: string;
}

/** The web session making a request: it stays signed in after its own password change. */
export interface RequestContext {
  sid?: string;
  ip?: string | null;
}
