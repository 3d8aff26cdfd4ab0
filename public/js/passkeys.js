// Passkeys (WebAuthn) on the two-step pages, with @simplewebauthn/browser (SimpleWebAuthnBrowser).
// A form marked data-passkey stays hidden without JavaScript. Here it is shown; on submit the
// options are fetched (JSON, the CSRF token as X-CSRF-Token), the browser creates or uses the
// passkey, and its answer goes to the server in the form's `response` field as a plain POST.
(function () {
  'use strict';

  var webauthn = window.SimpleWebAuthnBrowser;

  function enhance(form) {
    var message = form.querySelector('[data-passkey-message]');
    var button = form.querySelector('[type=submit]');

    function show(text) {
      message.textContent = text;
      message.hidden = false;
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }

    form.hidden = false;
    if (!webauthn || !webauthn.browserSupportsWebAuthn()) {
      show(form.getAttribute('data-unsupported'));
      button.disabled = true;
      return;
    }

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      message.hidden = true;
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
      var token = form.querySelector('input[name=_csrf]').value;
      fetch(form.getAttribute('data-options'), { method: 'POST', headers: { 'X-CSRF-Token': token, Accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (res) {
          // The sign-in is too old to change how one signs in: the password is asked again first.
          if (res.redirected) { window.location.assign(res.url); return new Promise(function () {}); }
          // The time between password and second step ran out: the sign-in starts again.
          if (res.status === 401) { window.location.assign('/login'); return new Promise(function () {}); }
          if (!res.ok) throw new Error('options ' + res.status);
          return res.json();
        })
        .then(function (options) {
          var registering = form.getAttribute('data-passkey') === 'registration';
          return registering ? webauthn.startRegistration({ optionsJSON: options }) : webauthn.startAuthentication({ optionsJSON: options });
        })
        .then(function (credential) {
          form.querySelector('input[name=response]').value = JSON.stringify(credential);
          form.submit();
        })
        .catch(function (error) {
          if (error.name === 'NotAllowedError' || error.name === 'AbortError') show(form.getAttribute('data-cancelled'));
          else if (error.name === 'InvalidStateError' && form.hasAttribute('data-exists')) show(form.getAttribute('data-exists'));
          else show(form.getAttribute('data-failed'));
        });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('form[data-passkey]').forEach(enhance);
  });
})();
