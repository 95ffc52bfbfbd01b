/* Métropole — territory maps (progressive enhancement over Leaflet).
 *
 * Contract (all configuration through data-* attributes, CSP-safe):
 *   <div class="map"
 *        data-geojson-url="/api/v1/..."           FeatureCollection; properties: code, name, url
 *        data-basemap-url=""                      optional tile URL template; empty = no tiles
 *        data-basemap-attribution=""              HTML attribution for the tiles
 *        data-lookup-url="/api/v1/territories/lookup"  GET ?lat=&lon= -> {code,name,url} | problem+json
 *        data-highlight="59350"                   code of the feature to highlight and zoom to
 *        data-result="map-result-id"              id of an aria-live="polite" element
 *        data-label="Carte des communes"          optional, used as aria-label if none is set
 *        data-pick-lat="id" data-pick-lon="id"    "pick a point" mode (forms): a click anywhere,
 *        data-pick-commune="id"></div>            a commune included, fills these inputs (and
 *                                                 selects the commune found) instead of opening
 *                                                 the commune's page; fires metropole:point-picked
 *
 * The map is an enhancement: templates always list the same places as plain links.
 * Once ready, the element fires a "metropole:map-ready" event (detail: {map, layer}).
 */
(function () {
  'use strict';

  // Texts come from the template (data-text-* attributes, translated by Django); the
  // French fallbacks only serve a page that forgot them.
  function text(el, key, fallback) {
    return el.getAttribute('data-text-' + key) || fallback;
  }

  var FALLBACK_BRAND = '#1f3a93';

  function reducedMotion() {
    return !!(window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches);
  }

  function brandColour(el) {
    var value = window.getComputedStyle(el).getPropertyValue('--brand').trim();
    return value || FALLBACK_BRAND;
  }

  function sameCode(a, b) {
    return a !== undefined && a !== null && b !== '' && String(a) === String(b);
  }

  function setResult(box, parts, isError) {
    if (!box) { return; }
    box.textContent = '';
    box.classList.toggle('map-result--error', !!isError);
    parts.forEach(function (part) {
      if (typeof part === 'string') {
        box.appendChild(document.createTextNode(part));
      } else {
        box.appendChild(part);
      }
    });
  }

  function link(text, href) {
    var a = document.createElement('a');
    a.href = href;
    a.textContent = text;
    return a;
  }

  function navigate(url, originalEvent) {
    if (originalEvent && (originalEvent.ctrlKey || originalEvent.metaKey || originalEvent.button === 1)) {
      window.open(url, '_blank', 'noopener');
    } else {
      window.location.href = url;
    }
  }

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  function customEvent(name, detail) {
    try {
      return new CustomEvent(name, { detail: detail });
    } catch (err) { // old browsers
      var evt = document.createEvent('CustomEvent');
      evt.initCustomEvent(name, false, false, detail);
      return evt;
    }
  }

  function initMap(el) {
    if (el.getAttribute('data-map-initialised')) { return; }
    el.setAttribute('data-map-initialised', 'true');

    var geojsonUrl = el.getAttribute('data-geojson-url') || '';
    var basemapUrl = (el.getAttribute('data-basemap-url') || '').trim();
    var basemapAttribution = el.getAttribute('data-basemap-attribution') || '';
    var lookupUrl = el.getAttribute('data-lookup-url') || '';
    var highlight = el.getAttribute('data-highlight') || '';
    var resultId = el.getAttribute('data-result') || '';
    var pickLat = byId(el.getAttribute('data-pick-lat'));
    var pickLon = byId(el.getAttribute('data-pick-lon'));
    var pickCommune = byId(el.getAttribute('data-pick-commune'));
    var picking = !!(pickLat && pickLon);
    var resultBox = resultId ? document.getElementById(resultId) : null;

    if (!el.hasAttribute('role')) { el.setAttribute('role', 'region'); }
    if (!el.hasAttribute('aria-label') && !el.hasAttribute('aria-labelledby')) {
      el.setAttribute('aria-label', el.getAttribute('data-label') || text(el, 'label', 'Carte interactive du territoire'));
    }

    var still = reducedMotion();
    var map = L.map(el, {
      preferCanvas: false,
      attributionControl: !!basemapUrl,
      scrollWheelZoom: false, // do not trap page scrolling; use the +/- buttons
      zoomSnap: 0.25,
      zoomAnimation: !still,
      fadeAnimation: !still,
      markerZoomAnimation: !still,
      inertia: !still
    });
    // Leaflet's zoom control titles are in English; use the page's language.
    if (map.zoomControl) { map.zoomControl.remove(); }
    L.control.zoom({ zoomInTitle: text(el, 'zoom-in', 'Zoomer'), zoomOutTitle: text(el, 'zoom-out', 'Dézoomer') }).addTo(map);

    if (basemapUrl) {
      L.tileLayer(basemapUrl, { attribution: basemapAttribution, maxZoom: 19 }).addTo(map);
    }

    var colour = brandColour(el);
    var baseStyle = { color: colour, weight: 1.5, opacity: 1, fillColor: colour, fillOpacity: 0.12 };
    var hoverStyle = { weight: 3, fillOpacity: 0.3 };
    var highlightStyle = { color: colour, weight: 4, opacity: 1, fillColor: colour, fillOpacity: 0.4 };

    function styleFor(feature) {
      var props = (feature && feature.properties) || {};
      return sameCode(props.code, highlight) ? highlightStyle : baseStyle;
    }

    var pointMarker = null;
    var lookupSeq = 0;

    function mark(latlng) {
      if (pointMarker) { pointMarker.setLatLng(latlng); } else {
        pointMarker = L.circleMarker(latlng, {
          radius: 7, color: '#0b0b0b', weight: 3, fillColor: '#ffd43b', fillOpacity: 1, interactive: false
        }).addTo(map);
      }
    }

    function pick(latlng, commune) {
      pickLat.value = latlng.lat.toFixed(6);
      pickLon.value = latlng.lng.toFixed(6);
      if (commune && pickCommune) { pickCommune.value = commune.code; }
      el.dispatchEvent(customEvent('metropole:point-picked', { latlng: latlng, commune: commune }));
    }

    function lookup(latlng) {
      mark(latlng);
      if (picking) { pick(latlng, null); }
      if (!lookupUrl || !resultBox) { return; }
      var url = new URL(lookupUrl, window.location.href);
      url.searchParams.set('lat', latlng.lat.toFixed(6));
      url.searchParams.set('lon', latlng.lng.toFixed(6));
      var seq = ++lookupSeq;
      fetch(url.toString(), {
        credentials: 'same-origin',
        headers: { Accept: 'application/json, application/problem+json' }
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { ok: response.ok, body: body || {} };
        });
      }).then(function (res) {
        if (seq !== lookupSeq) { return; }
        if (res.ok && res.body.name && picking) { pick(latlng, res.body); }
        if (res.ok && res.body.name) {
          var parts = [text(el, 'found', 'Le point choisi se trouve dans : ')];
          parts.push(res.body.url ? link(res.body.name, res.body.url) : String(res.body.name));
          parts.push('.');
          setResult(resultBox, parts, false);
        } else {
          var msg = res.body.title || text(el, 'none', 'Aucun territoire trouvé à cet endroit.');
          if (res.body.detail) { msg += (/[.!?…]$/.test(msg) ? ' ' : '. ') + res.body.detail; }
          setResult(resultBox, [msg], true);
        }
      }).catch(function () {
        if (seq !== lookupSeq) { return; }
        setResult(resultBox, [text(el, 'failed', 'La recherche n’a pas abouti. Vérifiez votre connexion et réessayez.')], true);
      });
    }

    map.on('click', function (e) { lookup(e.latlng); });

    function onEachFeature(feature, layer) {
      var props = feature.properties || {};
      if (props.name) {
        var label = document.createElement('span');
        label.textContent = props.name; // never HTML
        layer.bindTooltip(label, { sticky: true, direction: 'top' });
      }
      layer.on('mouseover', function () { layer.setStyle(hoverStyle); });
      layer.on('mouseout', function () { layer.setStyle(styleFor(feature)); });
      if (picking) {
        layer.on('click', function (e) {
          L.DomEvent.stopPropagation(e);
          lookup(e.latlng); // the point inside the commune, not the commune's page
        });
      } else if (props.url) {
        layer.on('click', function (e) {
          L.DomEvent.stopPropagation(e); // do not also run the point lookup
          navigate(props.url, e.originalEvent);
        });
      }
    }

    function showDefaultView() {
      map.setView([46.6, 2.4], 5); // metropolitan France
    }

    if (!geojsonUrl) { showDefaultView(); return; }

    fetch(geojsonUrl, {
      credentials: 'same-origin',
      headers: { Accept: 'application/geo+json, application/json' }
    }).then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.json();
    }).then(function (data) {
      var highlighted = null;
      var layer = L.geoJSON(data, {
        style: styleFor,
        onEachFeature: function (feature, lyr) {
          onEachFeature(feature, lyr);
          if (feature.properties && sameCode(feature.properties.code, highlight)) { highlighted = lyr; }
        }
      }).addTo(map);

      var target = highlighted || layer;
      var bounds = target.getBounds ? target.getBounds() : null;
      if (bounds && bounds.isValid()) {
        map.fitBounds(bounds, { padding: [32, 32], animate: false });
      } else {
        showDefaultView();
      }
      if (highlighted && highlighted.bringToFront) { highlighted.bringToFront(); }

      if (picking && pickLat.value && pickLon.value) {
        var chosen = L.latLng(parseFloat(pickLat.value), parseFloat(pickLon.value));
        mark(chosen);
        map.setView(chosen, 15, { animate: false });
      }
      el.dispatchEvent(customEvent('metropole:map-ready', { map: map, layer: layer }));
    }).catch(function () {
      showDefaultView();
      setResult(resultBox, [text(el, 'unavailable', 'La carte n’a pas pu être chargée. La liste des lieux reste disponible sur cette page.')], true);
    });
  }

  function initAll() {
    if (typeof window.L === 'undefined' || !window.fetch) { return; }
    var maps = document.querySelectorAll('.map');
    for (var i = 0; i < maps.length; i++) { initMap(maps[i]); }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', initAll);
  } else {
    initAll();
  }
}());
