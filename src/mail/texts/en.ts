/**
 * English email texts. Its shape is the type every language must satisfy.
 * Placeholders in braces are filled (and HTML-escaped) by `buildEmail`.
 */
export const enTexts = {
  dateLocale: 'en-GB',
  timeZoneName: 'Italian time',
  accessLevels: {
    read: 'read',
    write: 'write',
    send: 'send',
    mail_clients: 'mail programs',
  },
  common: {
    greeting: 'Dear {name},',
    linkFallback: 'If the button does not work, copy this address into your browser:',
    linkExpiry: 'The link can be used only once and expires on {expiresAt} ({timeZone}).',
    signIn: 'Sign in to webmail:',
    footer:
      'You are receiving this email because this address is the reference email of a collaborator account of the PEC mailbox {mailbox}. This is an automated message: please do not reply.',
    ownerFooter: 'You are receiving this email because it concerns the PEC mailbox {mailbox}. This is an automated message: please do not reply.',
  },
  mailClients: {
    heading: 'Mail programs',
    intro:
      'You can also use this account in mail programs (Outlook, Thunderbird, your phone). In each of them, replace the saved password with the new one; to set up a new program, use these settings:',
    address: 'Email address: {address} (the mailbox, so that what you send comes from it)',
    login: 'Username, for incoming and outgoing mail: {login}',
    password: 'Password: the one you have just chosen',
    imap: 'Incoming mail (IMAP): server {host}, port {port}, {security}',
    pop3: 'Or incoming mail (POP3): server {host}, port {port}, {security}',
    smtp: 'Outgoing mail (SMTP): server {host}, port {port}, {security}, normal password authentication with the same username and password',
  },
  invitation: {
    subject: 'Your collaborator account for the PEC mailbox {mailbox}',
    intro: 'The owner of the PEC mailbox {mailbox} has created a collaborator account for you, with access level “{accessLevel}”.',
    username: 'Your username is: {username}',
    instruction: 'To activate the account, set your password with the link below.',
    action: 'Set your password',
    ignore: 'If you were not expecting this email, you can ignore it: the account will stay inactive.',
  },
  owner_reset: {
    subject: 'The password of your collaborator account for the PEC mailbox {mailbox} has been reset',
    intro: 'The owner of the PEC mailbox {mailbox} has reset the password of your collaborator account {username}.',
    effect:
      'The old password no longer works anywhere, neither in webmail nor in mail programs. Your account is suspended until you create a new password with the link below.',
    action: 'Create a new password',
    mailClients: 'Once it is created, also enter the new password in the mail programs (Outlook, Thunderbird, your phone) where you use this account.',
  },
  self_reset: {
    subject: 'Reset the password of your collaborator account for the PEC mailbox {mailbox}',
    intro: 'We received a request to reset the password of your collaborator account {username} for the PEC mailbox {mailbox}.',
    instruction: 'To choose a new password, use the link below.',
    action: 'Choose a new password',
    ignore: 'If you did not make this request, ignore this email: nothing has changed and your current password keeps working.',
  },
  password_set: {
    subject: 'Your collaborator account for the PEC mailbox {mailbox} is active',
    intro: 'Your password has been set and your collaborator account {username} for the PEC mailbox {mailbox} is active.',
    notYou: 'If you did not set this password yourself, contact the mailbox owner right away.',
  },
  password_changed: {
    subject: 'The password of your collaborator account for the PEC mailbox {mailbox} has been changed',
    intro: 'The password of your collaborator account {username} for the PEC mailbox {mailbox} has been changed.',
    sessions: 'For your security, all other sessions open with this account have been signed out.',
    notYou: 'If you did not change it yourself, contact the mailbox owner right away.',
  },
  deactivated: {
    subject: 'Your collaborator account for the PEC mailbox {mailbox} has been deactivated',
    intro: 'The owner of the PEC mailbox {mailbox} has deactivated your collaborator account {username}.',
    effect:
      'From now on, your password and any links you received earlier no longer work, neither in webmail nor in mail programs.',
    contact: 'For any questions, please contact the mailbox owner.',
  },
  two_step_enabled: {
    subject: 'Two-step verification turned on, PEC mailbox {mailbox}',
    intro: 'Two-step verification has been turned on for {username}. From now on, signing in to webmail asks for a code from your authenticator app or your passkey after the password.',
    sessions: 'Every other web session of this account has been signed out.',
    mailClients: 'Mail programs no longer accept your web password: create an app password for each of them in webmail, on your account page.',
    notYou: 'If you did not do this, change your password right away and tell the mailbox owner.',
    ownerNotYou: 'If you did not do this, change your password right away.',
  },
  two_step_disabled: {
    subject: 'Two-step verification turned off, PEC mailbox {mailbox}',
    intro: 'Two-step verification has been turned off for {username}: signing in now asks only for the password. Its codes, passkeys and recovery codes no longer work.',
    notYou: 'If you did not do this, change your password right away and tell the mailbox owner.',
    ownerNotYou: 'If you did not do this, change your password right away and turn two-step verification on again.',
  },
  two_step_changed: {
    subject: 'Two-step verification changed, PEC mailbox {mailbox}',
    intro: 'A way to pass the second step (a passkey or an authenticator app) has just been added to or removed from {username}.',
    notYou: 'If you did not do this, change your password right away and tell the mailbox owner.',
    ownerNotYou: 'If you did not do this, change your password right away and check your two-step verification settings.',
  },
  recovery_code_used: {
    subject: 'A recovery code was used, PEC mailbox {mailbox}',
    intro: 'One of the recovery codes of {username} has just been used, to sign in to webmail or to change its two-step verification. That code cannot be used again.',
    advice: 'If you have lost your authenticator app or your passkey, set up a new one and create new recovery codes in the two-step verification settings.',
    notYou: 'If it was not you, change your password right away and tell the mailbox owner.',
    ownerNotYou: 'If it was not you, change your password right away and create new recovery codes.',
  },
  app_password_created: {
    subject: 'A new app password for your collaborator account for the PEC mailbox {mailbox}',
    intro: 'An app password named “{appPasswordName}” was created for your collaborator account {username} on {createdAt} ({timeZone}).',
    effect: 'A mail program can now sign in to the PEC mailbox {mailbox} with it, until it is revoked.',
    notYou: 'If it was not you, revoke it at once under “My account” in webmail and tell the mailbox owner.',
  },
};

export type MailTexts = typeof enTexts;
