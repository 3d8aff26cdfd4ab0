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
    /** The display name of the From header; its address stays the configured MAIL_FROM's. */
    fromName: '{owner} (via PEC Collaborations)',
    /** Who acted, opening a sentence: the owner named (`namedOwner`), or known by the mailbox alone. */
    namedOwner: '{owner}, owner of the PEC mailbox {mailbox},',
    unnamedOwner: 'The owner of the PEC mailbox {mailbox}',
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
    subject: 'Invitation from {owner}: your collaborator account',
    intro: '{actor} has created a collaborator account for you, with access level “{accessLevel}”.',
    username: 'Your username is: {username}',
    instruction: 'To activate the account, set your password with the link below.',
    action: 'Set your password',
    ignore: 'If you were not expecting this email, you can ignore it: the account will stay inactive.',
    until: 'Your access lasts until {endsAt} ({timeZone}); then the account is deactivated.',
  },
  owner_reset: {
    subject: 'Password reset by {owner}: choose a new one',
    intro: '{actor} has reset the password of your collaborator account {username}.',
    effect:
      'The old password no longer works anywhere, neither in webmail nor in mail programs. Your account is suspended until you create a new password with the link below.',
    action: 'Create a new password',
    mailClients: 'Once it is created, also enter the new password in the mail programs (Outlook, Thunderbird, your phone) where you use this account.',
  },
  self_reset: {
    subject: 'Password recovery: mailbox of {owner}',
    intro: 'We received a request to reset the password of your collaborator account {username} for the PEC mailbox {mailbox}.',
    instruction: 'To choose a new password, use the link below.',
    action: 'Choose a new password',
    ignore: 'If you did not make this request, ignore this email: nothing has changed and your current password keeps working.',
  },
  password_set: {
    subject: 'Account active: mailbox of {owner}',
    intro: 'Your password has been set and your collaborator account {username} for the PEC mailbox {mailbox} is active.',
    notYou: 'If you did not set this password yourself, contact the mailbox owner right away.',
  },
  password_changed: {
    subject: 'Password changed: mailbox of {owner}',
    intro: 'The password of your collaborator account {username} for the PEC mailbox {mailbox} has been changed.',
    sessions: 'For your security, all other sessions open with this account have been signed out.',
    notYou: 'If you did not change it yourself, contact the mailbox owner right away.',
  },
  deactivated: {
    subject: 'Account deactivated by {owner}',
    intro: '{actor} has deactivated your collaborator account {username}.',
    effect:
      'From now on, your password and any links you received earlier no longer work, neither in webmail nor in mail programs.',
    contact: 'For any questions, please contact the mailbox owner.',
  },
  two_step_enabled: {
    subject: 'Two-step verification on: mailbox of {owner}',
    intro: 'Two-step verification has been turned on for {username}. From now on, signing in to webmail asks for a code from your authenticator app or your passkey after the password.',
    sessions: 'Every other web session of this account has been signed out.',
    mailClients: 'Mail programs no longer accept your web password: create an app password for each of them in webmail, on your account page.',
    notYou: 'If you did not do this, change your password right away and tell the mailbox owner.',
    ownerNotYou: 'If you did not do this, change your password right away.',
  },
  two_step_disabled: {
    subject: 'Two-step verification off: mailbox of {owner}',
    intro: 'Two-step verification has been turned off for {username}: signing in now asks only for the password. Its codes, passkeys and recovery codes no longer work.',
    notYou: 'If you did not do this, change your password right away and tell the mailbox owner.',
    ownerNotYou: 'If you did not do this, change your password right away and turn two-step verification on again.',
  },
  two_step_changed: {
    subject: 'Two-step verification changed: mailbox of {owner}',
    intro: 'A way to pass the second step (a passkey or an authenticator app) has just been added to or removed from {username}.',
    notYou: 'If you did not do this, change your password right away and tell the mailbox owner.',
    ownerNotYou: 'If you did not do this, change your password right away and check your two-step verification settings.',
  },
  recovery_code_used: {
    subject: 'Recovery code used: mailbox of {owner}',
    intro: 'One of the recovery codes of {username} has just been used, to sign in to webmail or to change its two-step verification. That code cannot be used again.',
    advice: 'If you have lost your authenticator app or your passkey, set up a new one and create new recovery codes in the two-step verification settings.',
    notYou: 'If it was not you, change your password right away and tell the mailbox owner.',
    ownerNotYou: 'If it was not you, change your password right away and create new recovery codes.',
  },
  access_ended: {
    subject: 'Access ended: mailbox of {owner}',
    intro: 'Your access to the PEC mailbox {mailbox} with the collaborator account {username} ended on {endsAt} ({timeZone}), as the owner had set.',
    effect: 'From now on your password and the links you received earlier no longer work, neither in webmail nor in mail programs.',
    contact: 'If you still need access, ask the owner of the PEC mailbox {mailbox}: they can reactivate the account.',
  },
  access_end_reminder: {
    subject: 'End of access reminder: mailbox of {owner}',
    intro: 'The access of {collaborator} ({username}) to the PEC mailbox {mailbox} ends on {endsAt} ({timeZone}).',
    effect: 'At that moment the account is deactivated by itself and can no longer reach the mailbox.',
    action: 'Extend the access',
    nothing: 'If that is as it should be, there is nothing to do.',
  },
  app_password_created: {
    subject: 'New app password: mailbox of {owner}',
    intro: 'An app password named “{appPasswordName}” was created for your collaborator account {username} on {createdAt} ({timeZone}).',
    effect: 'A mail program can now sign in to the PEC mailbox {mailbox} with it, until it is revoked.',
    notYou: 'If it was not you, revoke it at once under “My account” in webmail and tell the mailbox owner.',
  },
  identity_linked: {
    subject: 'Sign-in with {provider} linked: mailbox of {owner}',
    intro: 'A {provider} account has just been linked to {username}.',
    effect: 'From now on it can be used to sign in to webmail, without typing the password.',
    notYou: 'If you did not do this, unlink it under “Sign-in with Google or Microsoft” in webmail, change your password and tell the mailbox owner.',
    ownerNotYou: 'If you did not do this, unlink it under “Sign-in with Google or Microsoft” in webmail and change your password.',
  },
  owner_notice: {
    subject: '{event}: mailbox of {owner}',
    action: 'Open the collaborator’s page',
  },
  owner_digest: {
    subject: 'Daily summary: mailbox of {owner}',
    intro: 'This is what happened to the collaborators of the PEC mailbox {mailbox} since the last summary.',
    open: 'Open',
  },
  notice_address: {
    subject: 'Confirm the address for notices: mailbox of {owner}',
    intro: '{actor} asked to receive the notices about the mailbox’s collaborators at this address.',
    effect: 'Nothing will be sent to this address until you confirm it. To confirm, open the link below after signing in as the owner of the mailbox.',
    action: 'Confirm the address',
    ignore: 'If you do not know what this is about, ignore this email: you will receive nothing more.',
  },
  notices: {
    events: {
      email_failed: 'Email not delivered',
      invitation_expired: 'Invitation expired unused',
      access_ended: 'Access ended',
      new_mail_device: 'Mail program on a new device',
      password_self_reset: 'Forgotten password replaced',
      invitation_accepted: 'Invitation accepted',
    },
    lines: {
      email_failed: 'An email to {collaborator} ({username}) could not be delivered and will not be tried again ({at}, {timeZone}). Check the reference email on the collaborator’s page.',
      invitation_expired: 'The invitation of {collaborator} ({username}) expired unused on {at} ({timeZone}). You can send it again from the collaborator’s page.',
      access_ended: 'The access of {collaborator} ({username}) ended on {at} ({timeZone}), on the end date set for the account.',
      new_mail_device: 'A mail program signed in as {collaborator} ({username}) from a device not seen before, on {at} ({timeZone}).',
      password_self_reset: '{collaborator} ({username}) chose a new password with “forgot password” on {at} ({timeZone}).',
      invitation_accepted: '{collaborator} ({username}) accepted the invitation and chose a password on {at} ({timeZone}): the account is active.',
    },
    detail: 'Details: {detail}',
    settings: 'You choose which of these events you are told about, at which address and when under Collaborations → Notifications.',
  },
};

export type MailTexts = typeof enTexts;
