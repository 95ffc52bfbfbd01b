/* Map of a plan's actions by commune: communes shaded by their number of actions.
 * Reuses the core's vendored Leaflet and the communes GeoJSON of the API; the table next
 * to the map gives the same figures without JavaScript. */
(function () {
  'use strict';
  function init(el) {
    if (typeof L === 'undefined' || el.getAttribute('data-ready')) { return; }
    el.setAttribute('data-ready', 'true');
    var counts = {};
    var max = 0;
    (el.getAttribute('data-counts') || '').split(',').forEach(function (pair) {
      var parts = pair.split(':');
      if (parts.length === 2) {
        counts[parts[0]] = parseInt(parts[1], 10) || 0;
        max = Math.max(max, counts[parts[0]]);
      }
    });
    var map = L.map(el, { attributionControl: false, scrollWheelZoom: false });
    fetch(el.getAttribute('data-geojson-url'), { credentials: 'same-origin' })
      .then(function (response) { return response.json(); })
      .then(function (geojson) {
        var involved = [];
        var layer = L.geoJSON(geojson, {
          style: function (feature) {
            var n = counts[(feature.properties || {}).code] || 0;
            return {
              color: n ? '#1f3a93' : '#8a94a3', weight: n ? 2 : 0.8, opacity: 1,
              fillColor: '#1f3a93', fillOpacity: n ? 0.15 + 0.6 * n / (max || 1) : 0.03
            };
          },
          onEachFeature: function (feature, lyr) {
            var props = feature.properties || {};
            var n = counts[props.code] || 0;
            if (n) {
              involved.push(lyr);
              lyr.bindTooltip(props.name + ' : ' + n);
            }
          }
        }).addTo(map);
        var target = involved.length ? L.featureGroup(involved) : layer;
        if (target.getBounds().isValid()) { map.fitBounds(target.getBounds(), { maxZoom: 11, padding: [20, 20] }); }
        el.setAttribute('data-test-map-ready', '');
      })
      .catch(function () { el.hidden = true; });
  }
  function start() {
    var el = document.getElementById('steering-map');
    if (el) { init(el); }
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
