/* Map preview of a data hub resource (progressive enhancement over the vendored Leaflet;
 * CSP-safe: no inline code, no tile server unless one is configured).
 *
 * <div class="map" data-datahub-map data-url="…/carte.geojson?filters"
 *      data-communes-url="…communes.geojson" data-basemap-url="" data-basemap-attribution=""></div>
 * Draws the sample's points as circle markers over the communes' outlines; a click shows the
 * row's values. Without JavaScript the page's table lists the same rows.
 */
(function () {
  'use strict';

  function text(el, key, fallback) { return el.getAttribute('data-text-' + key) || fallback; }

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/geo+json, application/json' } })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); });
  }

  function popup(properties) {
    var list = document.createElement('dl');
    list.className = 'datahub-popup';
    Object.keys(properties).slice(0, 12).forEach(function (key) {
      var value = properties[key];
      if (value === null || value === '' || typeof value === 'object') { return; }
      var dt = document.createElement('dt'); dt.textContent = key;
      var dd = document.createElement('dd'); dd.textContent = String(value);
      list.appendChild(dt); list.appendChild(dd);
    });
    return list;
  }

  function init(el) {
    var status = document.getElementById('map-status');
    var fallback = el.parentNode.querySelector('.datahub-map-fallback');
    if (typeof L === 'undefined') { return; }
    var map = L.map(el, { scrollWheelZoom: false });
    map.setView([46.6, 2.4], 5);
    if (fallback) { fallback.hidden = true; }
    var basemap = (el.getAttribute('data-basemap-url') || '').trim();
    if (basemap) {
      L.tileLayer(basemap, { attribution: el.getAttribute('data-basemap-attribution') || '', maxZoom: 19 }).addTo(map);
    }
    var communesUrl = el.getAttribute('data-communes-url');
    // The communes' outlines give a sense of place without a tile server.
    var outlines = communesUrl ? getJSON(communesUrl).then(function (data) {
      return L.geoJSON(data, { interactive: false, style: { color: '#6b7280', weight: 1, fillOpacity: 0.03 } }).addTo(map);
    }).catch(function () { return null; }) : Promise.resolve(null);

    function draw(data, outlineLayer) {
      var layer = L.geoJSON(data, {
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, { radius: 6, color: '#0b0b0b', weight: 1, fillColor: '#1f3a93', fillOpacity: 0.8 });
        },
        onEachFeature: function (feature, marker) {
          marker.bindPopup(function () { return popup(feature.properties || {}); });
        }
      }).addTo(map);
      // Frame the communes when most points are in them (a few stray coordinates would
      // otherwise shrink the map to a dot); else frame the points.
      var frame = layer.getBounds();
      if (outlineLayer && outlineLayer.getBounds().isValid()) {
        var area = outlineLayer.getBounds(), inside = 0, total = 0;
        layer.eachLayer(function (m) { total += 1; if (area.contains(m.getLatLng())) { inside += 1; } });
        if (total === 0 || inside >= total / 2) { frame = area; }
      }
      if (frame.isValid()) { map.fitBounds(frame, { animate: false, maxZoom: 15 }); }
      if (status) { status.textContent = data.features.length + ' ' + text(el, 'shown', 'points'); }
      el.setAttribute('data-map-points', String(data.features.length));
    }

    Promise.all([getJSON(el.getAttribute('data-url')), outlines])
      .then(function (both) { draw(both[0], both[1]); })
      .catch(function () {
        if (status) { status.textContent = text(el, 'failed', 'The map could not be loaded.'); status.classList.add('map-result--error'); }
      });
  }

  function start() { document.querySelectorAll('[data-datahub-map]').forEach(init); }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
}());
