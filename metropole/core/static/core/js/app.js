/* Métropole — small progressive enhancements (CSP-safe, no inline JS).
 * - form[data-confirm="Question ?"]: asks for confirmation before submitting
 *   (also a submit button carrying data-confirm).
 * - [data-focus-on-load]: the first such element gets focus on page load
 *   (e.g. an error summary with tabindex="-1"), so screen readers announce it.
 * - .fold-toggle (the main menu's "Menu" button, the back-office's side menu): on a narrow
 *   screen the list after the button folds behind it (the CSS shows the button only there,
 *   and only once this script marks its container .foldable: without JavaScript the list
 *   stays open).
 */
(function () {
  'use strict';

  document.addEventListener('submit', function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute('data-confirm')) ||
      (form && form.getAttribute && form.getAttribute('data-confirm'));
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  function focusOnLoad() {
    var el = document.querySelector('[data-focus-on-load]');
    if (el) {
      if (!el.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
        el.setAttribute('tabindex', '-1');
      }
      el.focus();
    }
  }

  function foldableMenus() {
    document.querySelectorAll('.fold-toggle').forEach(function (toggle) {
      toggle.parentElement.classList.add('foldable');
      toggle.addEventListener('click', function () {
        var open = toggle.getAttribute('aria-expanded') === 'true';
        toggle.setAttribute('aria-expanded', open ? 'false' : 'true');
      });
    });
  }

  function ready() {
    foldableMenus();
    focusOnLoad();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
}());
