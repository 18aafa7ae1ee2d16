// NeuroPose monitor, /live page: redraws signals, counters and events from /live.json.
"use strict";
(function () {
  var body = document.body;
  if (body.getAttribute("data-page") !== "live") { return; }
  var session = body.getAttribute("data-session");
  if (!session) { return; }
  var POLL_MS = 500, W = 640, H = 120;
  var params = new URLSearchParams(window.location.search);
  var q = new URLSearchParams();
  q.set("session", session);
  if (params.get("token")) { q.set("token", params.get("token")); }

  function fmt(v, unit) { return v === null || v === undefined ? "\u2013" : v.toFixed(1) + (unit || ""); }

  function points(series) {
    var pts = series.filter(function (p) { return p[1] !== null && isFinite(p[1]); });
    if (!pts.length) { return ""; }
    var t0 = series[0][0], t1 = series[series.length - 1][0];
    var lo = Infinity, hi = -Infinity;
    pts.forEach(function (p) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); });
    var ts = (t1 - t0) || 1, vs = (hi - lo) || 1;
    return pts.map(function (p) {
      return ((p[0] - t0) / ts * W).toFixed(1) + "," + (H - (p[1] - lo) / vs * H).toFixed(1);
    }).join(" ");
  }

  function plot(name, series) {
    var root = document.getElementById("live-plots");
    var card = null;
    Array.prototype.forEach.call(root.querySelectorAll("[data-signal]"), function (c) {
      if (c.getAttribute("data-signal") === name) { card = c; }
    });
    if (!card) {
      var empty = root.querySelector("[data-empty]");
      if (empty) { empty.remove(); }
      card = document.createElement("div");
      card.className = "card";
      card.setAttribute("data-signal", name);
      var h2 = document.createElement("h2");
      h2.textContent = name + " ";
      var last = document.createElement("span");
      last.setAttribute("data-f", "last");
      h2.appendChild(last);
      var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("viewBox", "0 0 " + W + " " + H);
      svg.setAttribute("width", "100%");
      svg.setAttribute("height", String(H));
      svg.setAttribute("preserveAspectRatio", "none");
      var line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", "#2563eb");
      line.setAttribute("stroke-width", "2");
      svg.appendChild(line);
      card.appendChild(h2);
      card.appendChild(svg);
      root.appendChild(card);
    }
    var lastValue = null;
    for (var i = series.length - 1; i >= 0; i--) {
      if (series[i][1] !== null) { lastValue = series[i][1]; break; }
    }
    card.querySelector('[data-f="last"]').textContent =
      lastValue === null ? "\u2013" : lastValue.toFixed(3);
    card.querySelector("polyline").setAttribute("points", points(series));
  }

  function update(d) {
    var set = function (k, v) {
      var el = document.querySelector('#live-counters [data-f="' + k + '"]');
      if (el) { el.textContent = v; }
    };
    set("state", d.state);
    set("frames_predicted", String(d.frames_predicted));
    set("frames_dropped", String(d.frames_dropped));
    set("stale_ticks", String(d.stale_ticks));
    set("predict_fps", fmt(d.predict_fps));
    set("latency_median_ms", fmt(d.latency_median_ms, " ms"));
    set("latency_p95_ms", fmt(d.latency_p95_ms, " ms"));
    Object.keys(d.signals || {}).forEach(function (k) { plot(k, d.signals[k]); });
    var ul = document.getElementById("live-events");
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    (d.events || []).slice().reverse().forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = e.time_s.toFixed(2) + " s \u00b7 " + e.kind + " \u00b7 " + e.detail;
      ul.appendChild(li);
    });
  }

  function poll() {
    fetch("/live.json?" + q.toString(), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) { update(d); } })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, POLL_MS); });
  }
  window.setTimeout(poll, POLL_MS);
})();
