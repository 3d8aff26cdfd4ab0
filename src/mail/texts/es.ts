import type { MailTexts } from './en';

/** Spanish email texts. */
export const esTexts = {
  dateLocale: 'es-ES',
  timeZoneName: 'hora italiana',
  accessLevels: {
    read: 'lectura',
    write: 'escritura',
    send: 'envío',
    mail_clients: 'programas de correo',
  },
  common: {
    greeting: 'Hola, {name}:',
    fromName: '{owner} (vía Colaboraciones PEC)',
    namedOwner: '{owner}, titular del buzón PEC {mailbox},',
    unnamedOwner: 'El titular del buzón PEC {mailbox}',
    linkFallback: 'Si el botón no funciona, copia y pega esta dirección en el navegador:',
    linkExpiry: 'El enlace solo puede usarse una vez y caduca el {expiresAt} ({timeZone}).',
    signIn: 'Accede al webmail:',
    footer:
      'Recibes este correo porque esta dirección es el correo de referencia de una cuenta de colaborador del buzón PEC {mailbox}. Este es un mensaje automático: por favor, no respondas.',
    ownerFooter: 'Recibes este correo porque se refiere al buzón PEC {mailbox}. Es un mensaje automático: no respondas.',
  },
  mailClients: {
    heading: 'Programas de correo',
    intro:
      'También puedes usar esta cuenta en programas de correo (Outlook, Thunderbird, el móvil). En cada uno de ellos, sustituye la contraseña guardada por la nueva; para configurar un programa nuevo, usa estos datos:',
    address: 'Dirección de correo: {address} (el buzón, así lo que envías sale de él)',
    login: 'Nombre de usuario, para el correo entrante y saliente: {login}',
    password: 'Contraseña: la que acabas de elegir',
    imap: 'Correo entrante (IMAP): servidor {host}, puerto {port}, {security}',
    pop3: 'O correo entrante (POP3): servidor {host}, puerto {port}, {security}',
    smtp: 'Correo saliente (SMTP): servidor {host}, puerto {port}, {security}, autenticación con contraseña normal, mismos nombre de usuario y contraseña',
  },
  invitation: {
    subject: 'Invitación de {owner}: tu cuenta de colaborador',
    intro: '{actor} ha creado para ti una cuenta de colaborador, con nivel de acceso «{accessLevel}».',
    username: 'Tu nombre de usuario es: {username}',
    instruction: 'Para activar la cuenta, establece tu contraseña con el enlace de abajo.',
    action: 'Establecer la contraseña',
    ignore: 'Si no esperabas este correo, puedes ignorarlo: la cuenta seguirá inactiva.',
  },
  owner_reset: {
    subject: 'Contraseña restablecida por {owner}: elige una nueva',
    intro: '{actor} ha restablecido la contraseña de tu cuenta de colaborador {username}.',
    effect:
      'La contraseña anterior ya no funciona en ningún sitio, ni en el webmail ni en los programas de correo. Tu cuenta queda suspendida hasta que crees una nueva contraseña con el enlace de abajo.',
    action: 'Crear una nueva contraseña',
    mailClients: 'Cuando la hayas creado, introduce también la nueva contraseña en los programas de correo (Outlook, Thunderbird, el móvil) en los que uses esta cuenta.',
  },
  self_reset: {
    subject: 'Recuperación de contraseña: buzón de {owner}',
    intro: 'Hemos recibido una solicitud para restablecer la contraseña de tu cuenta de colaborador {username} para el buzón PEC {mailbox}.',
    instruction: 'Para elegir una nueva contraseña, usa el enlace de abajo.',
    action: 'Elegir una nueva contraseña',
    ignore: 'Si no has hecho esta solicitud, ignora este correo: no ha cambiado nada y tu contraseña actual sigue funcionando.',
  },
  password_set: {
    subject: 'Cuenta activa: buzón de {owner}',
    intro: 'Tu contraseña se ha establecido y tu cuenta de colaborador {username} para el buzón PEC {mailbox} está activa.',
    notYou: 'Si no has establecido tú esta contraseña, ponte en contacto cuanto antes con el titular del buzón.',
  },
  password_changed: {
    subject: 'Contraseña cambiada: buzón de {owner}',
    intro: 'Se ha cambiado la contraseña de tu cuenta de colaborador {username} para el buzón PEC {mailbox}.',
    sessions: 'Por seguridad, se han cerrado todas las demás sesiones abiertas con esta cuenta.',
    notYou: 'Si no la has cambiado tú, ponte en contacto cuanto antes con el titular del buzón.',
  },
  deactivated: {
    subject: 'Cuenta desactivada por {owner}',
    intro: '{actor} ha desactivado tu cuenta de colaborador {username}.',
    effect:
      'A partir de ahora, tu contraseña y los enlaces que hayas recibido antes ya no funcionan, ni en el webmail ni en los programas de correo.',
    contact: 'Si tienes cualquier duda, ponte en contacto con el titular del buzón.',
  },
  two_step_enabled: {
    subject: 'Verificación en dos pasos activada: buzón de {owner}',
    intro: 'Se ha activado la verificación en dos pasos para {username}. A partir de ahora, al acceder al webmail se pedirá, después de la contraseña, un código de tu app de autenticación o tu llave de acceso.',
    sessions: 'Se han cerrado todas las demás sesiones web de esta cuenta.',
    mailClients: 'Los programas de correo ya no aceptan tu contraseña del webmail: crea una contraseña de aplicación para cada uno en el webmail, desde la página de tu cuenta.',
    notYou: 'Si no has sido tú, cambia la contraseña de inmediato y avisa al titular del buzón.',
    ownerNotYou: 'Si no has sido tú, cambia la contraseña de inmediato.',
  },
  two_step_disabled: {
    subject: 'Verificación en dos pasos desactivada: buzón de {owner}',
    intro: 'Se ha desactivado la verificación en dos pasos para {username}: ahora el acceso solo pide la contraseña. Sus códigos, llaves de acceso y códigos de recuperación ya no funcionan.',
    notYou: 'Si no has sido tú, cambia la contraseña de inmediato y avisa al titular del buzón.',
    ownerNotYou: 'Si no has sido tú, cambia la contraseña de inmediato y vuelve a activar la verificación en dos pasos.',
  },
  two_step_changed: {
    subject: 'Verificación en dos pasos modificada: buzón de {owner}',
    intro: 'Se acaba de añadir o eliminar un método para el segundo paso (una llave de acceso o una app de autenticación) de {username}.',
    notYou: 'Si no has sido tú, cambia la contraseña de inmediato y avisa al titular del buzón.',
    ownerNotYou: 'Si no has sido tú, cambia la contraseña de inmediato y revisa los ajustes de la verificación en dos pasos.',
  },
  recovery_code_used: {
    subject: 'Código de recuperación usado: buzón de {owner}',
    intro: 'Se acaba de usar uno de los códigos de recuperación de {username}, para acceder al webmail o para cambiar su verificación en dos pasos. Ese código ya no se puede volver a usar.',
    advice: 'Si has perdido tu app de autenticación o tu llave de acceso, configura una nueva y genera nuevos códigos de recuperación en los ajustes de la verificación en dos pasos.',
    notYou: 'Si no has sido tú, cambia la contraseña de inmediato y avisa al titular del buzón.',
    ownerNotYou: 'Si no has sido tú, cambia la contraseña de inmediato y genera nuevos códigos de recuperación.',
  },
  access_ended: {
    subject: 'Acceso terminado: buzón de {owner}',
    intro: 'Tu acceso al buzón PEC {mailbox} con la cuenta de colaborador {username} terminó el {endsAt} ({timeZone}), como había establecido el titular.',
    effect: 'A partir de ahora la contraseña y los enlaces recibidos antes ya no funcionan, ni en el webmail ni en los programas de correo.',
    contact: 'Si todavía necesitas acceso, dirígete al titular del buzón PEC {mailbox}: puede reactivar la cuenta.',
  },
  access_end_reminder: {
    subject: 'Recordatorio de fin de acceso: buzón de {owner}',
    intro: 'El acceso de {collaborator} ({username}) al buzón PEC {mailbox} terminará el {endsAt} ({timeZone}).',
    effect: 'En ese momento la cuenta se desactivará sola: el webmail y los programas de correo dejarán de funcionar para ella.',
    action: 'Prorrogar el acceso',
    nothing: 'Si está bien así, no tienes que hacer nada.',
  },
  app_password_created: {
    subject: 'Nueva contraseña de aplicación: buzón de {owner}',
    intro: 'Se ha creado una contraseña de aplicación llamada «{appPasswordName}» para tu cuenta de colaborador {username} el {createdAt} ({timeZone}).',
    effect: 'A partir de ahora un programa de correo puede acceder con ella al buzón PEC {mailbox}, hasta que se revoque.',
    notYou: 'Si no has sido tú, revócala de inmediato en «Mi cuenta» del webmail y avisa al titular del buzón.',
  },
  identity_linked: {
    subject: 'Acceso con {provider} vinculado: buzón de {owner}',
    intro: 'Una cuenta de {provider} acaba de vincularse a {username}.',
    effect: 'A partir de ahora puede usarse para entrar en el webmail, sin escribir la contraseña.',
    notYou: 'Si no fuiste tú, desvincúlala en “Acceso con Google o Microsoft” en el webmail, cambia la contraseña y avisa al titular del buzón.',
    ownerNotYou: 'Si no fuiste tú, desvincúlala en “Acceso con Google o Microsoft” en el webmail y cambia la contraseña.',
  },
  owner_notice: {
    subject: '{event}: buzón de {owner}',
    action: 'Abrir la página del colaborador',
  },
  owner_digest: {
    subject: 'Resumen diario: buzón de {owner}',
    intro: 'Esto es lo que ha ocurrido a los colaboradores del buzón PEC {mailbox} desde el último resumen.',
    open: 'Abrir',
  },
  notices: {
    events: {
      email_failed: 'Correo no entregado',
      invitation_expired: 'Invitación caducada sin usar',
      access_ended: 'Acceso terminado',
      new_mail_device: 'Nuevo dispositivo de correo',
      password_self_reset: 'Contraseña olvidada cambiada',
      invitation_accepted: 'Invitación aceptada',
    },
    lines: {
      email_failed: 'Un correo para {collaborator} ({username}) no se ha podido entregar y no se volverá a intentar ({at}, {timeZone}). Revisa el correo de referencia en la página del colaborador.',
      invitation_expired: 'La invitación de {collaborator} ({username}) caducó sin usarse el {at} ({timeZone}). Puedes enviarla de nuevo desde la página del colaborador.',
      access_ended: 'El acceso de {collaborator} ({username}) terminó el {at} ({timeZone}), en la fecha de fin fijada para la cuenta.',
      new_mail_device: 'Un programa de correo ha iniciado sesión como {collaborator} ({username}) desde un dispositivo no visto antes, el {at} ({timeZone}).',
      password_self_reset: '{collaborator} ({username}) ha elegido una nueva contraseña con «contraseña olvidada» el {at} ({timeZone}).',
      invitation_accepted: '{collaborator} ({username}) ha aceptado la invitación y elegido una contraseña el {at} ({timeZone}): la cuenta está activa.',
    },
    detail: 'Detalles: {detail}',
    settings: 'Puedes elegir de qué eventos recibir aviso, en qué dirección y cuándo en Colaboraciones → Notificaciones.',
  },
} satisfies MailTexts;
