#!/usr/bin/python3
"""Milter for Postfix: a signed-in collaborator sends only as the mailbox its login belongs to.

A collaborator's login is "chosen/mailbox@domain" (the project's username format). Postfix passes
the login of the session in the milter macro {auth_authen} (after SMTP AUTH, or XCLIENT LOGIN from
Dovecot's submission relay). This milter refuses, with 5.7.1 and a text naming the mailbox:
- a session with no login (the services it guards accept only signed-in collaborators);
- an envelope sender (MAIL FROM) other than the mailbox;
- a message whose header From is not exactly one address, the mailbox (RFC 5322 section 3.6.2),
  or that names another address anywhere in that header (e.g. in the display name).
Postfix checks the envelope sender against the database too (smtpd_sender_login_maps); this milter
needs no database. It runs on Sendmail's libmilter through the Debian package python3-milter.

Usage: sender-milter.py SOCKET, where SOCKET is libmilter's form: inet:PORT@127.0.0.1 or unix:/path.
"""
import email.utils
import re
import sys

import Milter

ADDRESS_LIKE = re.compile(r'[^\s<>()\[\],;:"\\]+@[^\s<>()\[\],;:"\\]+')


def mailbox_of(login):
    """The mailbox address of a login "chosen/mailbox@domain", lowercase; None for another form."""
    chosen, slash, mailbox = (login or '').rpartition('/')
    if not slash or not chosen or '@' not in mailbox:
        return None
    return mailbox.lower()


def sends_as(header_values, mailbox):
    """True when the From header values name the mailbox and nothing else."""
    if len(header_values) != 1:
        return False
    addresses = email.utils.getaddresses(header_values)
    if len(addresses) != 1 or addresses[0][1].lower() != mailbox:
        return False
    return all(token.lower() == mailbox for token in ADDRESS_LIKE.findall(header_values[0]))


class SenderMilter(Milter.Base):
    def __init__(self):
        self.mailbox = None
        self.from_values = []

    def refuse(self, code, text):
        self.setreply(code, '5.7.1', text)
        return Milter.REJECT

    def envfrom(self, sender, *parameters):
        self.mailbox = mailbox_of(self.getsymval('{auth_authen}'))
        self.from_values = []
        if self.mailbox is None:
            return self.refuse('530', 'Authentication required: sign in with chosen/mailbox@domain')
        if sender.strip('<>').lower() != self.mailbox:
            return self.refuse('553', f'Sender address rejected: send as {self.mailbox}')
        return Milter.CONTINUE

    def header(self, name, value):
        if name.lower() == 'from':
            self.from_values.append(value)
        return Milter.CONTINUE

    def eom(self):
        if not sends_as(self.from_values, self.mailbox):
            return self.refuse('550', f'From header rejected: send as {self.mailbox}')
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
