import type { MailTexts } from './en';

/** Italian email texts (the default language). */
export const itTexts = {
  dateLocale: 'it-IT',
  timeZoneName: 'ora italiana',
  accessLevels: {
    read: 'lettura',
    write: 'scrittura',
    send: 'invio',
    mail_clients: 'programmi di posta',
  },
  common: {
    greeting: 'Gentile {name},',
    fromName: '{owner} (via PEC Collaborazioni)',
    namedOwner: '{owner}, titolare della casella PEC {mailbox},',
    unnamedOwner: 'Il titolare della casella PEC {mailbox}',
    linkFallback: 'Se il pulsante non funziona, copia e incolla questo indirizzo nel browser:',
    linkExpiry: 'Il link può essere usato una sola volta e scade il giorno {expiresAt} ({timeZone}).',
    signIn: 'Accedi alla webmail:',
    footer:
      'Ricevi questa email perché questo indirizzo è l’email di riferimento di un account collaboratore della casella PEC {mailbox}. Questo è un messaggio automatico: ti preghiamo di non rispondere.',
    ownerFooter: 'Ricevi questa email perché riguarda la casella PEC {mailbox}. È un messaggio automatico: non rispondere.',
  },
  mailClients: {
    heading: 'Programmi di posta',
    intro:
      'Puoi usare questo account anche nei programmi di posta (Outlook, Thunderbird, smartphone). In ognuno di essi sostituisci la password salvata con quella nuova; per configurare un nuovo programma usa questi parametri:',
    address: 'Indirizzo email: {address} (la casella, così ciò che invii parte da essa)',
    login: 'Nome utente, per la posta in arrivo e in uscita: {login}',
    password: 'Password: quella che hai appena scelto',
    imap: 'Posta in arrivo (IMAP): server {host}, porta {port}, {security}',
    pop3: 'Oppure posta in arrivo (POP3): server {host}, porta {port}, {security}',
    smtp: 'Posta in uscita (SMTP): server {host}, porta {port}, {security}, autenticazione con password normale, stessi nome utente e password',
  },
  invitation: {
    subject: 'Invito di {owner}: il tuo account collaboratore',
    intro: '{actor} ha creato per te un account collaboratore, con livello di accesso «{accessLevel}».',
    username: 'Il tuo nome utente è: {username}',
    instruction: 'Per attivare l’account, imposta la tua password con il link qui sotto.',
    action: 'Imposta la password',
    ignore: 'Se non aspettavi questa email, puoi ignorarla: l’account resterà inattivo.',
  },
  owner_reset: {
    subject: 'Password reimpostata da {owner}: scegline una nuova',
    intro: '{actor} ha reimpostato la password del tuo account collaboratore {username}.',
    effect:
      'La password precedente non funziona più da nessuna parte, né in webmail né nei programmi di posta. L’account resta sospeso finché non crei una nuova password con il link qui sotto.',
    action: 'Crea una nuova password',
    mailClients: 'Dopo averla creata, inserisci la nuova password anche nei programmi di posta (Outlook, Thunderbird, smartphone) in cui usi questo account.',
  },
  self_reset: {
    subject: 'Recupero password: casella di {owner}',
    intro: 'Abbiamo ricevuto una richiesta di reimpostazione della password del tuo account collaboratore {username} per la casella PEC {mailbox}.',
    instruction: 'Per scegliere una nuova password, usa il link qui sotto.',
    action: 'Scegli una nuova password',
    ignore: 'Se non hai fatto tu questa richiesta, ignora questa email: non è cambiato nulla e la password attuale continua a funzionare.',
  },
  password_set: {
    subject: 'Account attivo: casella di {owner}',
    intro: 'La tua password è stata impostata e il tuo account collaboratore {username} per la casella PEC {mailbox} è attivo.',
    notYou: 'Se non hai impostato tu questa password, contatta subito il titolare della casella.',
  },
  password_changed: {
    subject: 'Password modificata: casella di {owner}',
    intro: 'La password del tuo account collaboratore {username} per la casella PEC {mailbox} è stata modificata.',
    sessions: 'Per sicurezza, tutte le altre sessioni aperte con questo account sono state disconnesse.',
    notYou: 'Se non l’hai modificata tu, contatta subito il titolare della casella.',
  },
  deactivated: {
    subject: 'Account disattivato da {owner}',
    intro: '{actor} ha disattivato il tuo account collaboratore {username}.',
    effect:
      'Da questo momento la password e i link ricevuti in precedenza non funzionano più, né in webmail né nei programmi di posta.',
    contact: 'Per qualsiasi domanda, rivolgiti al titolare della casella.',
  },
  two_step_enabled: {
    subject: 'Verifica in due passaggi attivata: casella di {owner}',
    intro: "La verifica in due passaggi è stata attivata per {username}. D'ora in poi l'accesso alla webmail chiede, dopo la password, un codice dell'app di autenticazione o la passkey.",
    sessions: "Tutte le altre sessioni web di questo account sono state chiuse.",
    mailClients: "I programmi di posta non accettano più la password della webmail: crea una password per le app per ciascuno di essi, nella webmail, dalla pagina del tuo account.",
    notYou: 'Se non hai fatto tu questa operazione, cambia subito la password e avvisa il titolare della casella.',
    ownerNotYou: 'Se non hai fatto tu questa operazione, cambia subito la password.',
  },
  two_step_disabled: {
    subject: 'Verifica in due passaggi disattivata: casella di {owner}',
    intro: "La verifica in due passaggi è stata disattivata per {username}: l'accesso ora chiede solo la password. I codici, le passkey e i codici di recupero non funzionano più.",
    notYou: 'Se non hai fatto tu questa operazione, cambia subito la password e avvisa il titolare della casella.',
    ownerNotYou: 'Se non hai fatto tu questa operazione, cambia subito la password e riattiva la verifica in due passaggi.',
  },
  two_step_changed: {
    subject: 'Verifica in due passaggi modificata: casella di {owner}',
    intro: 'È stato appena aggiunto o rimosso un metodo per il secondo passaggio (una passkey o un’app di autenticazione) di {username}.',
    notYou: 'Se non hai fatto tu questa operazione, cambia subito la password e avvisa il titolare della casella.',
    ownerNotYou: 'Se non hai fatto tu questa operazione, cambia subito la password e controlla le impostazioni della verifica in due passaggi.',
  },
  recovery_code_used: {
    subject: 'Codice di recupero usato: casella di {owner}',
    intro: 'È stato appena usato uno dei codici di recupero di {username}, per accedere alla webmail o per modificarne la verifica in due passaggi. Quel codice non potrà essere usato di nuovo.',
    advice: "Se hai perso l'app di autenticazione o la passkey, configurane una nuova e genera nuovi codici di recupero nelle impostazioni della verifica in due passaggi.",
    notYou: 'Se non hai fatto tu questa operazione, cambia subito la password e avvisa il titolare della casella.',
    ownerNotYou: 'Se non hai fatto tu questa operazione, cambia subito la password e genera nuovi codici di recupero.',
  },
  access_ended: {
    subject: 'Accesso terminato: casella di {owner}',
    intro: 'Il tuo accesso alla casella PEC {mailbox} con l’account collaboratore {username} è terminato il {endsAt} ({timeZone}), come stabilito dal titolare.',
    effect: 'Da questo momento la password e i link ricevuti in precedenza non funzionano più, né in webmail né nei programmi di posta.',
    contact: 'Se ti serve ancora l’accesso, rivolgiti al titolare della casella PEC {mailbox}: può riattivare l’account.',
  },
  access_end_reminder: {
    subject: 'Promemoria fine accesso: casella di {owner}',
    intro: 'L’accesso di {collaborator} ({username}) alla casella PEC {mailbox} terminerà il {endsAt} ({timeZone}).',
    effect: 'A quel momento l’account verrà disattivato da solo: webmail e programmi di posta smetteranno di funzionare.',
    action: 'Proroga l’accesso',
    nothing: 'Se va bene così, non devi fare nulla.',
  },
  app_password_created: {
    subject: 'Nuova password per le app: casella di {owner}',
    intro: 'È stata creata una password per le app di nome “{appPasswordName}” per il tuo account collaboratore {username} il {createdAt} ({timeZone}).',
    effect: 'Da ora un programma di posta può accedere con essa alla casella PEC {mailbox}, finché non viene revocata.',
    notYou: 'Se non hai fatto tu questa operazione, revocala subito da “Il mio account” in webmail e avvisa il titolare della casella.',
  },
  identity_linked: {
    subject: 'Accesso con {provider} collegato: casella di {owner}',
    intro: 'Un account {provider} è appena stato collegato a {username}.',
    effect: 'Da ora può essere usato per accedere alla webmail, senza digitare la password.',
    notYou: 'Se non sei stato tu, scollegalo in “Accesso con Google o Microsoft” nella webmail, cambia la password e avvisa il titolare della casella.',
    ownerNotYou: 'Se non sei stato tu, scollegalo in “Accesso con Google o Microsoft” nella webmail e cambia la password.',
  },
  owner_notice: {
    subject: '{event}: casella di {owner}',
    action: 'Apri la pagina del collaboratore',
  },
  owner_digest: {
    subject: 'Riepilogo giornaliero: casella di {owner}',
    intro: 'Ecco cosa è successo ai collaboratori della casella PEC {mailbox} dall’ultimo riepilogo.',
    open: 'Apri',
  },
  notices: {
    events: {
      email_failed: 'Email non consegnata',
      invitation_expired: 'Invito scaduto non usato',
      access_ended: 'Accesso terminato',
      new_mail_device: 'Nuovo dispositivo di posta',
      password_self_reset: 'Password dimenticata cambiata',
      invitation_accepted: 'Invito accettato',
    },
    lines: {
      email_failed: 'Un’email per {collaborator} ({username}) non è stata consegnata e non sarà più ritentata ({at}, {timeZone}). Controlla l’email di riferimento nella pagina del collaboratore.',
      invitation_expired: 'L’invito di {collaborator} ({username}) è scaduto senza essere usato il {at} ({timeZone}). Puoi inviarlo di nuovo dalla pagina del collaboratore.',
      access_ended: 'L’accesso di {collaborator} ({username}) è terminato il {at} ({timeZone}), alla data di fine impostata per l’account.',
      new_mail_device: 'Un programma di posta ha effettuato l’accesso come {collaborator} ({username}) da un dispositivo mai visto prima, il {at} ({timeZone}).',
      password_self_reset: '{collaborator} ({username}) ha scelto una nuova password con “password dimenticata” il {at} ({timeZone}).',
      invitation_accepted: '{collaborator} ({username}) ha accettato l’invito e scelto una password il {at} ({timeZone}): l’account è attivo.',
    },
    detail: 'Dettagli: {detail}',
    settings: 'Puoi scegliere di quali eventi essere avvisato, a quale indirizzo e quando in Collaborazioni → Notifiche.',
  },
} satisfies MailTexts;
