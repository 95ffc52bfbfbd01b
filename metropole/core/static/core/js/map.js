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
 *        data-pick-commune="id"                   a commune included, fills these inputs (and
 *                                                 selects the commune found) instead of opening
 *                                                 the commune's page; fires metropole:point-picked
 *        data-outlines="display"                  the communes are drawn for orientation only:
 *                                                 no tooltip, hover or click (a click on the map
 *                                                 only picks a point in pick mode)
 *        data-point-lat="" data-point-lon=""      a fixed point, marked and zoomed to
 *        data-overlay-url="…geojson"              points drawn above the communes; properties:
 *                                                 name, detail, url, colour (a popup names the
 *                                                 point and links to url, text data-text-open)
 *   ></div>
 *
 * The map is an enhancement: templates always list the same places as plain links.
 * Once ready (outlines and overlay drawn), the element gets a data-map-ready attribute and
 * fires "metropole:map-ready" (it does not bubble: listen in the capture phase) with
 * detail: {
 *   map, layer,                 the Leaflet map and the communes' GeoJSON layer
 *   overlay,                    an L.featureGroup above the communes for a module's markers
 *   setFeatureStyle(fn),        per-commune style: fn(feature) -> Leaflet path options, merged
 *                               over the base style; hover and mouse-out keep it
 *   place(latlng)               put the point as a click would (pick mode: fills the inputs)
 * }.
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
    var displayOnly = el.getAttribute('data-outlines') === 'display';
    var overlayUrl = el.getAttribute('data-overlay-url') || '';
    var fixedLat = parseFloat(el.getAttribute('data-point-lat'));
    var fixedLon = parseFloat(el.getAttribute('data-point-lon'));
    var fixedPoint = isFinite(fixedLat) && isFinite(fixedLon) ? L.latLng(fixedLat, fixedLon) : null;
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

    var featureStyle = null; // a module's per-commune style (setFeatureStyle)

    function merged(base, extra) {
      var out = {};
      var key;
      for (key in base) { if (Object.prototype.hasOwnProperty.call(base, key)) { out[key] = base[key]; } }
      for (key in extra || {}) { if (Object.prototype.hasOwnProperty.call(extra, key)) { out[key] = extra[key]; } }
      return out;
    }

    function styleFor(feature) {
      var props = (feature && feature.properties) || {};
      if (sameCode(props.code, highlight)) { return highlightStyle; }
      return featureStyle ? merged(baseStyle, featureStyle(feature)) : baseStyle;
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

    map.on('click', function (e) {
      if (!displayOnly || picking) { lookup(e.latlng); }
    });

    function onEachFeature(feature, layer) {
      if (displayOnly) { return; }
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

    var overlay = L.featureGroup();

    function drawOverlay(data) {
      L.geoJSON(data, {
        pointToLayer: function (feature, latlng) {
          var props = feature.properties || {};
          return L.circleMarker(latlng, {
            radius: 8, color: '#ffffff', weight: 2, fillColor: props.colour || colour, fillOpacity: 0.95
          });
        },
        onEachFeature: function (feature, lyr) {
          var props = feature.properties || {};
          var box = document.createElement('div'); // text nodes only, never HTML
          if (props.name) {
            var title = document.createElement('strong');
            title.textContent = props.name;
            box.appendChild(title);
          }
          if (props.detail) {
            box.appendChild(document.createElement('br'));
            box.appendChild(document.createTextNode(props.detail));
          }
          if (props.url) {
            box.appendChild(document.createElement('br'));
            box.appendChild(link(text(el, 'open', 'Ouvrir') + (props.label ? ' ' + props.label : ''), props.url));
          }
          if (box.childNodes.length) { lyr.bindPopup(box); }
        }
      }).eachLayer(function (lyr) { overlay.addLayer(lyr); });
    }

    function getJSON(url, accept) {
      return fetch(url, { credentials: 'same-origin', headers: { Accept: accept } }).then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      });
    }

    function showFixedPoint() {
      if (!fixedPoint) { return false; }
      map.setView(fixedPoint, basemapUrl ? 16 : 13, { animate: false }); // no tiles: show the commune around
      mark(fixedPoint);
      return true;
    }

    if (!geojsonUrl) { if (!showFixedPoint()) { showDefaultView(); } return; }

    var overlayLoaded = overlayUrl
      ? getJSON(overlayUrl, 'application/geo+json, application/json').then(drawOverlay).catch(function () {
        setResult(resultBox, [text(el, 'overlay-failed', 'Les points n’ont pas pu être chargés. La liste reste disponible sur cette page.')], true);
      })
      : Promise.resolve();

    getJSON(geojsonUrl, 'application/geo+json, application/json').then(function (data) {
      var highlighted = null;
      var layer = L.geoJSON(data, {
        interactive: !displayOnly,
        style: styleFor,
        onEachFeature: function (feature, lyr) {
          onEachFeature(feature, lyr);
          if (feature.properties && sameCode(feature.properties.code, highlight)) { highlighted = lyr; }
        }
      });

      var target = highlighted || layer;
      var bounds = target.getBounds ? target.getBounds() : null;
      // The view first, then the layers (Leaflet draws paths against a set view).
      if (showFixedPoint()) {
        // the fixed point decides the view
      } else if (bounds && bounds.isValid()) {
        map.fitBounds(bounds, { padding: [32, 32], animate: false });
      } else {
        showDefaultView();
      }
      layer.addTo(map);
      if (highlighted && highlighted.bringToFront) { highlighted.bringToFront(); }
      if (pointMarker) { pointMarker.bringToFront(); }

      if (picking && pickLat.value && pickLon.value) {
        var chosen = L.latLng(parseFloat(pickLat.value), parseFloat(pickLon.value));
        mark(chosen);
        map.setView(chosen, 15, { animate: false });
      }
      overlay.addTo(map);
      return overlayLoaded.then(function () {
        el.setAttribute('data-map-ready', '');
        el.dispatchEvent(customEvent('metropole:map-ready', {
          map: map,
          layer: layer,
          overlay: overlay,
          setFeatureStyle: function (fn) {
            featureStyle = typeof fn === 'function' ? fn : null;
            layer.eachLayer(function (lyr) { lyr.setStyle(styleFor(lyr.feature)); });
          },
          place: function (latlng) { lookup(L.latLng(latlng)); }
        }));
      });
    }).catch(function () {
      if (!showFixedPoint()) { showDefaultView(); }
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
