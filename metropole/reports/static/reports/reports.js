/* Reports on a map (progressive enhancement over the vendored Leaflet; CSP-safe).
 *
 * <div class="map" data-reports-map="browse|pick|show"
 *      data-communes-url="…communes.geojson"   outlines of the communes
 *      data-reports-url="…map.geojson?…"        browse: the reports to draw
 *      data-nearby-url="…/nearby"               pick: open reports near the point
 *      data-lat="…" data-lon="…"                show: the report's point
 *      data-basemap-url="" data-basemap-attribution=""></div>
 * In "pick" mode a click (or the "use my location" button, #use-location) fills the
 * form's #id_lat / #id_lon inputs; without JavaScript people type an address instead.
 * Once drawn, the element gets a data-map-ready attribute (tests and styles may use it).
 */
(function () {
  'use strict';

  function text(el, key, fallback) { return el.getAttribute('data-text-' + key) || fallback; }

  var COLOURS = { new: '#b3261e', acknowledged: '#9a5b00', in_progress: '#1f3a93', planned: '#5b2a86', fixed: '#1b6e3a', closed: '#4a4a4a' };

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); });
  }

  function link(label, href) {
    var a = document.createElement('a'); a.href = href; a.textContent = label; return a;
  }

  function init(el) {
    var mode = el.getAttribute('data-reports-map');
    var map = L.map(el, { scrollWheelZoom: false, zoomControl: false });
    // Leaflet's zoom buttons are labelled in English; use the page's language (as core map.js).
    L.control.zoom({ zoomInTitle: text(el, 'zoom-in', 'Zoomer'), zoomOutTitle: text(el, 'zoom-out', 'Dézoomer') }).addTo(map);
    map.setView([46.6, 2.4], 5);
    var basemap = (el.getAttribute('data-basemap-url') || '').trim();
    if (basemap) {
      L.tileLayer(basemap, { attribution: el.getAttribute('data-basemap-attribution') || '', maxZoom: 19 }).addTo(map);
    }
    var marker = null;

    function place(latlng) {
      if (marker) { marker.setLatLng(latlng); } else {
        marker = L.circleMarker(latlng, { radius: 9, color: '#0b0b0b', weight: 3, fillColor: '#ffd43b', fillOpacity: 1, interactive: false }).addTo(map);
      }
    }

    var communesUrl = el.getAttribute('data-communes-url');
    var outlines = communesUrl ? getJSON(communesUrl).then(function (data) {
      var layer = L.geoJSON(data, { interactive: false, style: { color: '#1f3a93', weight: 1, fillOpacity: 0.05 } }).addTo(map);
      if (mode !== 'show' && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { animate: false }); }
      if (mode === 'pick') { el.setAttribute('data-map-ready', ''); }
      return layer;
    }).catch(function () { return null; }) : Promise.resolve(null);

    if (mode === 'show') {
      var ll = [parseFloat(el.getAttribute('data-lat')), parseFloat(el.getAttribute('data-lon'))];
      place(ll);
      map.setView(ll, 16);
      return;
    }

    if (mode === 'browse') {
      var url = el.getAttribute('data-reports-url');
      outlines.then(function () { return getJSON(url); }).then(function (data) {
        L.geoJSON(data, {
          pointToLayer: function (feature, latlng) {
            var st = feature.properties.status;
            return L.circleMarker(latlng, { radius: 8, color: '#ffffff', weight: 2, fillColor: COLOURS[st] || '#1f3a93', fillOpacity: 0.95 });
          },
          onEachFeature: function (feature, layer) {
            var p = feature.properties;
            var box = document.createElement('div');
            var title = document.createElement('strong');
            title.textContent = p.category; box.appendChild(title);
            box.appendChild(document.createElement('br'));
            box.appendChild(document.createTextNode(p.status_label + ' — '));
            box.appendChild(link(text(el, 'open', 'Voir le signalement') + ' n° ' + p.id, p.url));
            layer.bindPopup(box);
          }
        }).addTo(map);
        el.setAttribute('data-map-ready', '');
      }).catch(function () {});
      return;
    }

    // "pick": the reporter places the point.
    var latInput = document.getElementById('id_lat');
    var lonInput = document.getElementById('id_lon');
    var status = document.getElementById('pick-status');
    var nearbyBox = document.getElementById('nearby-live');
    var nearbyUrl = el.getAttribute('data-nearby-url');
    var categorySelect = document.getElementById('id_category');

    function say(message) { if (status) { status.textContent = message; } }

    function showNearby(lat, lon) {
      if (!nearbyBox || !nearbyUrl) { return; }
      var u = new URL(nearbyUrl, window.location.href);
      u.searchParams.set('lat', lat); u.searchParams.set('lon', lon);
      if (categorySelect && categorySelect.value) {
        var option = categorySelect.options[categorySelect.selectedIndex];
        if (option && option.getAttribute('data-code')) { u.searchParams.set('category', option.getAttribute('data-code')); }
      }
      getJSON(u.toString()).then(function (items) {
        nearbyBox.textContent = '';
        if (!items.length) { return; }
        var h = document.createElement('h3');
        h.textContent = text(el, 'nearby', 'Des signalements proches sont déjà ouverts : est-ce le même problème ?');
        nearbyBox.appendChild(h);
        var ul = document.createElement('ul'); ul.className = 'list-plain stack--small';
        items.forEach(function (item) {
          var li = document.createElement('li');
          li.appendChild(link(item.category + ' — n° ' + item.id + ' (' + Math.round(item.distance_m) + ' m)', item.url));
          ul.appendChild(li);
        });
        nearbyBox.appendChild(ul);
      }).catch(function () {});
    }

    function choose(latlng) {
      place(latlng);
      var lat = latlng.lat.toFixed(6), lon = latlng.lng.toFixed(6);
      if (latInput) { latInput.value = lat; }
      if (lonInput) { lonInput.value = lon; }
      say(text(el, 'placed', 'Point placé : ') + lat + ', ' + lon);
      showNearby(lat, lon);
    }

    if (latInput && lonInput && latInput.value && lonInput.value) {
      place([parseFloat(latInput.value), parseFloat(lonInput.value)]);
    }
    map.on('click', function (e) { choose(e.latlng); });

    var locate = document.getElementById('use-location');
    if (locate) {
      if (!navigator.geolocation) { locate.hidden = true; } else {
        locate.hidden = false;
        locate.addEventListener('click', function () {
          say(text(el, 'locating', 'Recherche de votre position…'));
          navigator.geolocation.getCurrentPosition(function (pos) {
            var latlng = L.latLng(pos.coords.latitude, pos.coords.longitude);
            map.setView(latlng, 17);
            choose(latlng);
          }, function () {
            say(text(el, 'located-failed', 'Votre position n’est pas disponible : placez le point sur la carte.'));
          }, { enableHighAccuracy: true, timeout: 10000 });
        });
      }
    }
  }

  function initAll() {
    if (typeof window.L === 'undefined' || !window.fetch) { return; }
    var maps = document.querySelectorAll('[data-reports-map]');
    for (var i = 0; i < maps.length; i++) { init(maps[i]); }
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', initAll); } else { initAll(); }
}());
