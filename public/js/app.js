// Progressive enhancement only: every flow works without this file.
(function () {
  'use strict';

  // Three-dot menus: <details> without JavaScript, the WAI-ARIA menu button pattern with it.
  function enhanceMenu(details) {
    if (details.dataset.enhanced) return;
    details.dataset.enhanced = '1';
    var summary = details.querySelector('summary');
    var list = details.querySelector('.menu-list');
    var items = Array.prototype.slice.call(list.querySelectorAll('a'));
    var id = 'menu-' + Math.random().toString(36).slice(2);
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'menu-button';
    button.id = id + '-button';
    button.setAttribute('aria-haspopup', 'menu');
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-controls', id);
    button.setAttribute('aria-label', summary.getAttribute('aria-label'));
    button.innerHTML = summary.innerHTML;
    list.id = id;
    list.setAttribute('role', 'menu');
    list.setAttribute('aria-labelledby', button.id);
    list.hidden = true;
    list.querySelectorAll('li').forEach(function (li) { li.setAttribute('role', 'none'); });
    items.forEach(function (a) { a.setAttribute('role', 'menuitem'); a.tabIndex = -1; });
    var wrapper = document.createElement('div');
    wrapper.className = 'menu';
    wrapper.appendChild(button);
    wrapper.appendChild(list);
    details.replaceWith(wrapper);

    function open(focusIndex) {
      closeAll();
      list.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      items[(focusIndex + items.length) % items.length].focus();
      // The whole menu on screen, not only the item with focus (a row at the bottom of a phone's screen).
      list.scrollIntoView({ block: 'nearest' });
    }
    function close(returnFocus) {
      list.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      if (returnFocus) button.focus();
    }
    wrapper.closeMenu = close;
    button.addEventListener('click', function () { list.hidden ? open(0) : close(true); });
    button.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown' || e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(0); }
      if (e.key === 'ArrowUp') { e.preventDefault(); open(items.length - 1); }
    });
    list.addEventListener('keydown', function (e) {
      var i = items.indexOf(document.activeElement);
      if (e.key === 'ArrowDown') { e.preventDefault(); items[(i + 1) % items.length].focus(); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); items[(i - 1 + items.length) % items.length].focus(); }
      else if (e.key === 'Home') { e.preventDefault(); items[0].focus(); }
      else if (e.key === 'End') { e.preventDefault(); items[items.length - 1].focus(); }
      else if (e.key === 'Escape') { e.preventDefault(); close(true); }
      else if (e.key === 'Tab') { close(false); }
      else if (e.key === ' ') { e.preventDefault(); document.activeElement.click(); }
    });
    items.forEach(function (a) {
      a.addEventListener('click', function () {
        returnTo(button);
        close(false);
      });
    });
  }

  function closeAll() {
    document.querySelectorAll('.menu').forEach(function (m) { if (m.closeMenu) m.closeMenu(false); });
  }

  // Confirmation dialogs: the menu loads the same fragment as the no-JavaScript page into
  // #dialog-slot (hx-get); here it becomes a modal <dialog>, and focus returns to the menu button.
  var returnFocusTo = null;
  function controlsOf(row) { return Array.prototype.slice.call(row.querySelectorAll('a[href], summary, button')); }

  /** Where focus goes back to: `control`, or the same control of its row once a poll has replaced that row. */
  function returnTo(control) {
    var row = control && control.closest ? control.closest('tr[id]') : null;
    returnFocusTo = control ? { control: control, row: row && row.id, at: row ? controlsOf(row).indexOf(control) : -1 } : null;
  }
  function takeReturn() {
    var r = returnFocusTo;
    returnFocusTo = null;
    if (!r) return null;
    if (document.contains(r.control)) return r.control;
    var row = r.row && document.getElementById(r.row);
    return (row && r.at >= 0 && controlsOf(row)[r.at]) || null;
  }

  // Closed by its form's answer, its Cancel or Escape: gone from the page and focus back in the same
  // task, so that nothing (a poll of the row, a screen reader) ever finds focus on a closed dialog.
  function finishDialog(dialog) {
    if (dialog.dataset.finished) return;
    dialog.dataset.finished = '1';
    if (dialog.open) dialog.close();
    dialog.remove();
    var opener = takeReturn();
    // Back to the menu that opened it, else to our part of the page (a host's layout has no #main).
    var fallback = document.getElementById('main') || document.querySelector('.pec-page');
    if (opener || fallback) (opener || fallback).focus();
  }

  function openDialog(dialog) {
    // Escape closes it by itself: finish then (the close event comes a task later).
    dialog.addEventListener('close', function () { finishDialog(dialog); });
    dialog.querySelectorAll('[data-close]').forEach(function (a) {
      a.addEventListener('click', function (ev) { ev.preventDefault(); finishDialog(dialog); });
    });
    dialog.showModal();
    // Its autofocus control is at the bottom: on a phone a long question scrolls above it. Then the
    // dialog opens at its top with focus on the question (WAI-ARIA APG); Tab goes on to its controls.
    if (dialog.scrollHeight > dialog.clientHeight) {
      var title = dialog.querySelector('h1, h2');
      if (title) {
        title.tabIndex = -1;
        title.focus({ preventScroll: true });
      }
      dialog.scrollTop = 0;
    }
  }

  document.addEventListener('htmx:after:swap', function () {
    init(document);
    var slot = document.getElementById('dialog-slot');
    var dialog = slot && slot.querySelector('dialog');
    if (dialog && !dialog.open) openDialog(dialog);
  });

  // A removal takes its row away: note now which row's menu gets the focus afterwards.
  document.addEventListener('htmx:before:request', function (e) {
    var form = e.target && e.target.closest ? e.target.closest('dialog form[hx-delete]') : null;
    var row = form && document.querySelector(form.getAttribute('hx-target'));
    if (row) form.dataset.focusAfter = (row.nextElementSibling || row.previousElementSibling || {}).id || '';
  });

  // Once a dialog's form was answered and the row swapped, the dialog closes and focus goes to
  // the row's (new) menu button; after a removal to the next row's (or the list's heading).
  document.addEventListener('htmx:finally:request', function (e) {
    var form = e.target && e.target.closest ? e.target.closest('dialog form') : null;
    if (!form) return;
    var dialog = form.closest('dialog');
    var row = document.querySelector(form.getAttribute('hx-target'));
    var next = form.dataset.focusAfter && document.getElementById(form.dataset.focusAfter);
    returnTo(row ? row.querySelector('.menu-button') : next ? next.querySelector('.menu-button') : document.getElementById('collaborations-heading'));
    finishDialog(dialog);
  });

  // A row whose email is on its way asks for itself again (hx-trigger="every …"), but not while its
  // menu or a dialog is open (the new row would close them). Focus in the row (on its ⋮ after an
  // action) moves to the same control of the new row.
  var refocus = null;
  document.addEventListener('htmx:before:request', function (e) {
    var row = e.target;
    if (!row || !row.matches || !row.matches('tr[data-polling]')) return;
    if (row.querySelector('[role=menu]:not([hidden]), details[open]') || document.querySelector('dialog[open]')) return e.preventDefault();
    var at = controlsOf(row).indexOf(document.activeElement);
    refocus = at >= 0 ? { id: row.id, at: at } : null;
  });
  document.addEventListener('htmx:after:swap', function () {
    var row = refocus && document.getElementById(refocus.id);
    var control = row && controlsOf(row)[refocus.at];
    refocus = null;
    if (control) control.focus();
  });

  // The resend button of a row opens the same dialog as its menu; focus comes back to the row.
  document.addEventListener('click', function (e) {
    var opener = e.target.closest ? e.target.closest('a.row-resend') : null;
    if (opener) returnTo(opener);
  });

  document.addEventListener('click', function (e) {
    if (!e.target.closest || !e.target.closest('.menu')) closeAll();
  });

  // Password fields: show/hide, and a live length hint.
  function enhancePasswords(root) {
    root.querySelectorAll('[data-show-password]').forEach(function (box) {
      box.addEventListener('change', function () {
        box.form.querySelectorAll('[data-password]').forEach(function (f) { f.type = box.checked ? 'text' : 'password'; });
      });
    });
    root.querySelectorAll('input[data-password][minlength]').forEach(function (field) {
      var hint = field.form.querySelector('[data-length-hint]');
      if (!hint || field.name !== 'password') return;
      field.addEventListener('input', function () {
        // Characters as the server counts them: code points of exactly what was typed.
        var n = Array.from(field.value).length;
        var min = Number(field.getAttribute('minlength'));
        hint.textContent = n + ' / ' + min + (n >= min ? ' ✓' : '');
      });
    });
  }

  // Copy buttons of the mail-program settings: shown only where the page can copy; without
  // JavaScript the values stay plain selectable text.
  function enhanceCopyButtons(root) {
    root.querySelectorAll('button[data-copy]').forEach(function (button) {
      var value = document.getElementById(button.getAttribute('data-copy'));
      if (!value || button.dataset.enhanced) return;
      button.dataset.enhanced = '1';
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener('click', function () {
        var text = value.getAttribute('data-value');
        var done = function () {
          button.textContent = button.getAttribute('data-copied');
          setTimeout(function () { button.textContent = label; }, 2000);
        };
        // The Clipboard API needs a secure context (https or localhost); elsewhere the value is selected for Ctrl+C.
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { select(value); });
        } else {
          select(value);
        }
      });
    });
  }

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function init(root) {
    enhanceCopyButtons(root);
    root.querySelectorAll('details[data-menu]').forEach(enhanceMenu);
  }

  document.addEventListener('DOMContentLoaded', function () {
    init(document);
    enhancePasswords(document);
  });
})();
