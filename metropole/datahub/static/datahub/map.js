/* Map preview of a data hub resource (progressive enhancement over the vendored Leaflet;
 * CSP-safe: no inline code, no tile server unless one is configured).
 *
 * <div class="map" data-datahub-map data-url="…/carte.geojson?filters"
 *      data-basemap-url="" data-basemap-attribution=""></div>
 * Draws the sample's points as circle markers; a click shows the row's values. Without
 * JavaScript the page's table lists the same rows.
 */
(function () {
  'use strict';

  function text(el, key, fallback) { return el.getAttribute('data-text-' + key) || fallback; }

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
    var communes = el.getAttribute('data-communes-url');
    if (communes) {  // the communes' outlines, for a sense of place without a tile server
      fetch(communes, { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data) { L.geoJSON(data, { interactive: false, style: { color: '#6b7280', weight: 1, fillOpacity: 0.03 } }).addTo(map).bringToBack(); }
        })
        .catch(function () {});
    }
    fetch(el.getAttribute('data-url'), { credentials: 'same-origin', headers: { Accept: 'application/geo+json' } })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          pointToLayer: function (feature, latlng) {
            return L.circleMarker(latlng, { radius: 6, color: '#0b0b0b', weight: 1, fillColor: '#1f3a93', fillOpacity: 0.8 });
          },
          onEachFeature: function (feature, marker) {
            marker.bindPopup(function () { return popup(feature.properties || {}); });
          }
        }).addTo(map);
        if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { animate: false, maxZoom: 15 }); }
        if (status) { status.textContent = data.features.length + ' ' + text(el, 'shown', 'points'); }
        el.setAttribute('data-map-points', String(data.features.length));
      })
      .catch(function () {
        if (status) { status.textContent = text(el, 'failed', 'The map could not be loaded.'); status.classList.add('map-result--error'); }
      });
  }

  function start() { document.querySelectorAll('[data-datahub-map]').forEach(init); }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
}());
