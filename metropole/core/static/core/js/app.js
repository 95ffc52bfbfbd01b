/* Métropole — small progressive enhancements (CSP-safe, no inline JS).
 * - form[data-confirm="Question ?"]: asks for confirmation before submitting
 *   (also a submit button carrying data-confirm).
 * - [data-focus-on-load]: the first such element gets focus on page load
 *   (e.g. an error summary with tabindex="-1"), so screen readers announce it.
 * - .site-nav__toggle: on a narrow screen the main menu folds behind a "Menu" button
 *   (the CSS shows the button only there, and only once this script marks the menu
 *   foldable: without JavaScript the menu stays open).
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

  function foldableMenu() {
    var toggle = document.querySelector('.site-nav__toggle');
    if (!toggle) {
      return;
    }
    toggle.closest('.site-nav').classList.add('site-nav--foldable');
    toggle.addEventListener('click', function () {
      var open = toggle.getAttribute('aria-expanded') === 'true';
      toggle.setAttribute('aria-expanded', open ? 'false' : 'true');
    });
  }

  function ready() {
    foldableMenu();
    focusOnLoad();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
}());
