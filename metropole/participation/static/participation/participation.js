/* Participation — progressive enhancements (CSP-safe, no inline JS); every page works
 * without them.
 * - Proposal form: proposals similar to the text being typed are shown as you type
 *   (placing the proposal on the map is the core map's "pick a point" mode).
 * - Proposal page: a marker at the proposal's place.
 * - Budget ballot: the running total against the budget.
 */
(function () {
  'use strict';

  function ready(fn) {
    if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', fn); } else { fn(); }
  }

  // Proposal page: show its place.
  document.addEventListener('metropole:map-ready', function (event) {
    var map = event.detail.map, el = event.target;
    var markerLat = el.getAttribute('data-marker-lat'), markerLon = el.getAttribute('data-marker-lon');
    if (markerLat && markerLon) {
      var here = [parseFloat(markerLat), parseFloat(markerLon)];
      L.circleMarker(here, { radius: 9, color: '#0b0b0b', weight: 3, fillColor: '#ffd43b', fillOpacity: 1 }).addTo(map);
      map.setView(here, 15, { animate: false });
    }
  }, true);

  // Similar proposals while typing.
  ready(function () {
    var form = document.querySelector('form[data-similar-url]');
    if (!form) { return; }
    var box = document.getElementById('similar');
    var title = document.getElementById('id_title'), body = document.getElementById('id_body');
    var timer = null, seq = 0;
    function check() {
      var url = new URL(form.getAttribute('data-similar-url'), window.location.href);
      url.searchParams.set('title', title.value.slice(0, 150));
      url.searchParams.set('body', body.value.slice(0, 2000));
      var mine = ++seq;
      fetch(url.toString(), { credentials: 'same-origin' }).then(function (r) { return r.ok ? r.text() : ''; })
        .then(function (html) {
          if (mine !== seq) { return; }
          // The fragment is rendered by our server with autoescaping; parsed, not evaluated.
          var doc = new DOMParser().parseFromString(html, 'text/html');
          box.replaceChildren.apply(box, Array.prototype.slice.call(doc.body.childNodes));
        }).catch(function () {});
    }
    function later() { clearTimeout(timer); timer = setTimeout(check, 600); }
    title.addEventListener('input', later);
    body.addEventListener('input', later);
  });

  // Budget: running total.
  ready(function () {
    var form = document.querySelector('form[data-budget]');
    var out = document.getElementById('budget-total');
    if (!form || !out) { return; }
    var budget = parseInt(form.getAttribute('data-budget'), 10);
    var knapsack = form.getAttribute('data-rule') === 'knapsack';
    var fmt = new Intl.NumberFormat(document.documentElement.lang || 'fr');
    function update() {
      var total = 0, n = 0;
      form.querySelectorAll('input[name="projects"]:checked').forEach(function (box) {
        total += parseInt(box.getAttribute('data-cost'), 10); n += 1;
      });
      var text = n + ' × — ' + fmt.format(total) + ' € / ' + fmt.format(budget) + ' €';
      out.textContent = text;
      out.classList.toggle('budget-total--over', knapsack && total > budget);
    }
    form.addEventListener('change', update);
    update();
  });
}());
