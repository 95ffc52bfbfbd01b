/* Map of a plan's actions by commune: the core's map (core/js/map.js: Leaflet, communes
 * GeoJSON, zoom labels, links to the communes) shaded through its per-commune style hook
 * (setFeatureStyle) by each commune's number of actions
 * (data-counts="code:n,..."). The table next to the map gives the same figures without JavaScript. */
(function () {
  'use strict';
  document.addEventListener('metropole:map-ready', function (event) {
    var el = event.target;
    if (!el.hasAttribute('data-counts')) { return; }
    var map = event.detail.map;
    var counts = {};
    var max = 0;
    el.getAttribute('data-counts').split(',').forEach(function (pair) {
      var parts = pair.split(':');
      if (parts.length === 2) {
        counts[parts[0]] = parseInt(parts[1], 10) || 0;
        max = Math.max(max, counts[parts[0]]);
      }
    });
    function shade(feature) {
      var n = counts[((feature && feature.properties) || {}).code] || 0;
      return {
        color: n ? '#1f3a93' : '#8a94a3', weight: n ? 2 : 0.8, opacity: 1,
        fillColor: '#1f3a93', fillOpacity: n ? 0.15 + 0.6 * n / (max || 1) : 0.03
      };
    }
    // The core keeps this style after a hover (its per-commune style hook).
    event.detail.setFeatureStyle(shade);
    var involved = [];
    event.detail.layer.eachLayer(function (lyr) {
      var props = (lyr.feature && lyr.feature.properties) || {};
      var n = counts[props.code] || 0;
      if (n) {
        involved.push(lyr);
        var label = document.createElement('span');
        label.textContent = props.name + ' : ' + n; // never HTML
        lyr.setTooltipContent(label);
      }
    });
    if (involved.length) {
      map.fitBounds(L.featureGroup(involved).getBounds(), { maxZoom: 11, padding: [20, 20], animate: false });
    }
    el.setAttribute('data-test-map-ready', '');
  }, true); // capture: the core's event does not bubble
})();
