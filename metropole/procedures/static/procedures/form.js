/* Procedures: progressive enhancement of the citizen's form (the page works without it).
 * - Fields with data-show-when / data-show-value are hidden while the field they depend on
 *   (on the same page) does not have that value; the server ignores hidden answers anyway.
 * - Address fields: a click on the map fills the hidden latitude/longitude and selects the
 *   commune found by the lookup API.
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

  function initAddress() {
    var select = document.querySelector('[data-address-commune]');
    var mapEl = document.getElementById('map');
    if (!select || !mapEl) { return; }
    var key = select.getAttribute('data-address-commune');
    var lat = document.querySelector('[data-address-lat="' + key + '"]');
    var lon = document.querySelector('[data-address-lon="' + key + '"]');
    mapEl.addEventListener('metropole:map-ready', function (event) {
      var map = event.detail.map;
      function place(latlng) {
        lat.value = latlng.lat.toFixed(6);
        lon.value = latlng.lng.toFixed(6);
        var url = mapEl.getAttribute('data-lookup-url') + '?lat=' + lat.value + '&lon=' + lon.value;
        fetch(url, {headers: {Accept: 'application/json'}}).then(function (r) {
          return r.ok ? r.json() : null;
        }).then(function (commune) {
          if (commune && commune.code) { select.value = commune.code; }
        }).catch(function () { /* the select stays as the person chose */ });
      }
      map.on('click', function (e) { place(e.latlng); });
      // A click on a commune places the address there instead of opening the commune's page.
      event.detail.layer.eachLayer(function (commune) {
        commune.off('click');
        commune.on('click', function (e) {
          window.L.DomEvent.stopPropagation(e);
          map.fire('click', e); // map.js says which commune; place() fills the fields

        });
      });
    });
    select.addEventListener('change', function () { lat.value = ''; lon.value = ''; });
  }

  document.addEventListener('DOMContentLoaded', function () {
    initConditions();
    initAddress();
  });
})();
