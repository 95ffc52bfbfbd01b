/* Reports on the core's map (core/js/map.js does the Leaflet part; CSP-safe).
 *
 * Every report map is the core map inside a wrapper <div data-reports-map="browse|pick|show">:
 *   browse  the core draws the reports (data-overlay-url: colour, name, link per point);
 *   show    the core marks the report's point (data-point-lat/lon);
 *   pick    the core's pick mode fills #id_lat / #id_lon / #id_commune; here: "use my
 *           location" (#use-location), the point's echo (#pick-status) and the open reports
 *           nearby (#nearby-live, from the wrapper's data-nearby-url).
 * Once the core map is drawn the wrapper gets data-map-ready (tests and styles use it).
 * The report form's questions (fieldsets data-questions-for="<category id>") show only for
 * the chosen category; without JavaScript every block shows, each saying what it is for.
 */
(function () {
  'use strict';

  function text(el, key, fallback) { return el.getAttribute('data-text-' + key) || fallback; }

  function wrapperOf(node) {
    return node && node.closest ? node.closest('[data-reports-map]') : null;
  }

  function link(label, href) {
    var a = document.createElement('a'); a.href = href; a.textContent = label; return a;
  }

  function showNearby(wrapper, latlng) {
    var box = document.getElementById('nearby-live');
    var url = wrapper.getAttribute('data-nearby-url');
    if (!box || !url) { return; }
    var u = new URL(url, window.location.href);
    u.searchParams.set('lat', latlng.lat.toFixed(6));
    u.searchParams.set('lon', latlng.lng.toFixed(6));
    var select = document.getElementById('id_category');
    var option = select && select.selectedIndex > 0 ? select.options[select.selectedIndex] : null;
    if (option && option.getAttribute('data-code')) { u.searchParams.set('category', option.getAttribute('data-code')); }
    fetch(u.toString(), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
      .then(function (items) {
        box.textContent = '';
        if (!items.length) { return; }
        var h = document.createElement('h3');
        h.textContent = text(wrapper, 'nearby', 'Des signalements proches sont déjà ouverts : est-ce le même problème ?');
        box.appendChild(h);
        var ul = document.createElement('ul'); ul.className = 'list-plain stack--small';
        items.forEach(function (item) {
          var li = document.createElement('li');
          li.appendChild(link(item.category + ' — n° ' + item.id + ' (' + Math.round(item.distance_m) + ' m)', item.url));
          ul.appendChild(li);
        });
        box.appendChild(ul);
      }).catch(function () {});
  }

  // The core's events do not bubble: listen in the capture phase.
  document.addEventListener('metropole:map-ready', function (event) {
    var wrapper = wrapperOf(event.target);
    if (!wrapper) { return; }
    wrapper.setAttribute('data-map-ready', '');
    if (wrapper.getAttribute('data-reports-map') !== 'pick') { return; }
    var locate = document.getElementById('use-location');
    if (!locate || !navigator.geolocation) { return; }
    var status = document.getElementById('pick-status');
    locate.hidden = false;
    locate.addEventListener('click', function () {
      if (status) { status.textContent = text(wrapper, 'locating', 'Recherche de votre position…'); }
      navigator.geolocation.getCurrentPosition(function (pos) {
        var latlng = L.latLng(pos.coords.latitude, pos.coords.longitude);
        event.detail.map.setView(latlng, 17);
        event.detail.place(latlng);
      }, function () {
        if (status) { status.textContent = text(wrapper, 'located-failed', 'Votre position n’est pas disponible : placez le point sur la carte.'); }
      }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }, true);

  document.addEventListener('metropole:point-picked', function (event) {
    var wrapper = wrapperOf(event.target);
    if (!wrapper || wrapper.getAttribute('data-reports-map') !== 'pick') { return; }
    var latlng = event.detail.latlng;
    var status = document.getElementById('pick-status');
    if (status) {
      status.textContent = text(wrapper, 'placed', 'Point placé : ') + latlng.lat.toFixed(6) + ', ' + latlng.lng.toFixed(6);
    }
    if (!event.detail.commune) { showNearby(wrapper, latlng); } // once per click, not again after the lookup
  }, true);

  function showQuestionsOf(select) {
    var blocks = document.querySelectorAll('[data-questions-for]');
    for (var i = 0; i < blocks.length; i++) {
      var mine = blocks[i].getAttribute('data-questions-for') === select.value;
      blocks[i].hidden = !mine;
      var intro = blocks[i].querySelector('[data-questions-intro]');
      if (intro) { intro.hidden = mine; } // "only if the problem is…" is obvious once chosen
    }
  }

  function init() {
    var select = document.getElementById('id_category');
    if (select && document.querySelector('[data-questions-for]')) {
      showQuestionsOf(select);
      select.addEventListener('change', function () { showQuestionsOf(select); });
    }
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', init); } else { init(); }
}());
