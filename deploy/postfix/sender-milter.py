#!/usr/bin/python3
"""Milter for Postfix: a signed-in collaborator sends only as the mailbox its login belongs to.

A collaborator's login is "chosen/mailbox@domain" (the project's username format). Postfix passes
the login of the session in the milter macro {auth_authen} (after SMTP AUTH, or XCLIENT LOGIN from
Dovecot's submission relay). This milter refuses, with 5.7.1 and a text naming the mailbox:
- a session with no login (the services it guards accept only signed-in collaborators);
- an envelope sender (MAIL FROM) other than the mailbox;
- a message whose header From is not exactly one address, the mailbox (RFC 5322 section 3.6.2),
  or that names another address anywhere in that header (e.g. in the display name), also once
  RFC 2047 encoded words are decoded and look-alike characters folded (NFKC: a full-width @ is @);
- a Sender, Resent-From or Resent-Sender header (RFC 5322 sections 3.6.2 and 3.6.6: who sent or
  forwarded the message) naming anything but the mailbox, by the same rule. Reply-To is free: it
  claims no identity.
Postfix checks the envelope sender against the database too (smtpd_sender_login_maps); this milter
needs no database. It runs on Sendmail's libmilter through the Debian package python3-milter.

Usage: sender-milter.py SOCKET, where SOCKET is libmilter's form: inet:PORT@127.0.0.1 or unix:/path.
"""
import email.header
import email.utils
import re
import sys
import unicodedata

import Milter

ADDRESS_LIKE = re.compile(r'[^\s<>()\[\],;:"\\]+@[^\s<>()\[\],;:"\\]+')


def mailbox_of(login):
    """The mailbox address of a login "chosen/mailbox@domain", lowercase; None for another form."""
    chosen, slash, mailbox = (login or '').rpartition('/')
    if not slash or not chosen or '@' not in mailbox:
        return None
    return mailbox.lower()


# The headers that say who sent the message (RFC 5322 3.6.2, 3.6.6); each may name only the mailbox.
IDENTITY_HEADERS = ('from', 'sender', 'resent-from', 'resent-sender')


def as_read(value):
    """The header as a mail program shows it: encoded words decoded (RFC 2047), NFKC-folded."""
    try:
        decoded = str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError):
        decoded = value
    return unicodedata.normalize('NFKC', decoded)


def sends_as(header_values, mailbox):
    """True when the header's values name the mailbox and nothing else, raw and as read."""
    if len(header_values) != 1:
        return False
    for text in (header_values[0], as_read(header_values[0])):
        addresses = email.utils.getaddresses([text])
        if len(addresses) != 1 or addresses[0][1].lower() != mailbox:
            return False
        if not all(token.lower() == mailbox for token in ADDRESS_LIKE.findall(text)):
            return False
    return True


class SenderMilter(Milter.Base):
    def __init__(self):
        self.mailbox = None
        self.identities = {}

    def refuse(self, code, text):
        self.setreply(code, '5.7.1', text)
        return Milter.REJECT

    def envfrom(self, sender, *parameters):
        self.mailbox = mailbox_of(self.getsymval('{auth_authen}'))
        self.identities = {}
        if self.mailbox is None:
            return self.refuse('530', 'Authentication required: sign in with chosen/mailbox@domain')
        if sender.strip('<>').lower() != self.mailbox:
            return self.refuse('553', f'Sender address rejected: send as {self.mailbox}')
        return Milter.CONTINUE

    def header(self, name, value):
        if name.lower() in IDENTITY_HEADERS:
            self.identities.setdefault(name.lower(), []).append(value)
        return Milter.CONTINUE

    def eom(self):
        if not sends_as(self.identities.get('from', []), self.mailbox):
            return self.refuse('550', f'From header rejected: send as {self.mailbox}')
        for name in IDENTITY_HEADERS[1:]:
            if name in self.identities and not sends_as(self.identities[name], self.mailbox):
                return self.refuse('550', f'{name.title()} header rejected: send as {self.mailbox}')
        return Milter.ACCEPT


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    Milter.factory = SenderMilter
    # No changes to messages; the macros come with MAIL FROM by default in Postfix.
    Milter.set_flags(0)
    Milter.runmilter('pec-sender-milter', sys.argv[1], timeout=60)


if __name__ == '__main__':
    main()
