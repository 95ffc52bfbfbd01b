/* Procedures: progressive enhancement of the citizen's form (the page works without it).
 * - Fields with data-show-when / data-show-value are hidden while the field they depend on
 *   (on the same page) does not have that value; the server ignores hidden answers anyway.
 * - Address fields: the core map (pick mode) fills the point and the commune; choosing another
 *   commune by hand clears the point.
 */
(function () {
  'use strict';

  function currentValues(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    var values = [];
    inputs.forEach(function (input) {
      if ((input.type === 'checkbox' || input.type === 'radio') && !input.checked) { return; }
      values.push(input.value);
    });
    return values;
  }

  function refresh(form) {
    form.querySelectorAll('[data-show-when]').forEach(function (field) {
      var shown = currentValues(form, field.getAttribute('data-show-when'))
        .indexOf(field.getAttribute('data-show-value')) !== -1;
      field.hidden = !shown;
    });
  }

  function initConditions() {
    document.querySelectorAll('form').forEach(function (form) {
      if (!form.querySelector('[data-show-when]')) { return; }
      form.addEventListener('change', function () { refresh(form); });
      refresh(form);
    });
  }

  // Address fields: the core map's "pick a point" mode (core/_map.html with pick_lat,
  // pick_lon, pick_commune) fills the hidden latitude/longitude and the commune; a commune
  // chosen by hand afterwards drops the point, which may no longer be in it.
  function initAddress() {
    document.querySelectorAll('[data-address-commune]').forEach(function (select) {
      var key = select.getAttribute('data-address-commune');
      var lat = document.querySelector('[data-address-lat="' + key + '"]');
      var lon = document.querySelector('[data-address-lon="' + key + '"]');
      select.addEventListener('change', function () { lat.value = ''; lon.value = ''; });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    initConditions();
    initAddress();
  });
})();
