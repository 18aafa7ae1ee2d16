// NeuroPose monitor: live updates by polling /status.json (no page reloads).
// Text is only ever written with textContent, never parsed as HTML.
(function () {
  "use strict";
  var POLL_MS = 2000;
  var body = document.body;
  var page = body.getAttribute("data-page");
  if (page !== "dashboard" && page !== "job" && page !== "unavailable") { return; }
  var token = new URLSearchParams(window.location.search).get("token");
  var tokenQuery = token ? "?token=" + encodeURIComponent(token) : "";

  function statusUrl() {
    var params = new URLSearchParams();
    if (page === "job") { params.set("job", body.getAttribute("data-job")); }
    // A filtered study view polls the same filters (the server spells them), so its rows
    // stay the filtered ones.
    var study = body.getAttribute("data-status-query");
    if (page === "dashboard" && study) { params = new URLSearchParams(study); }
    if (token) { params.set("token", token); }
    var q = params.toString();
    return "/status.json" + (q ? "?" + q : "");
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function field(root, name) { return root.querySelector('[data-f="' + name + '"]'); }

  function setText(root, name, text) {
    var e = field(root, name);
    if (e && e.textContent !== text) { e.textContent = text; }
    return e;
  }

  function setBar(bar, percent, indeterminate) {
    if (!bar) { return; }
    if (indeterminate) { bar.removeAttribute("value"); }
    else { bar.value = percent === null ? 0 : percent; }
  }

  function setBadge(root, state) {
    var b = field(root, "state");
    if (b) { b.textContent = state; b.className = "badge badge-" + state; }
  }

  function fillCommon(root, job) {
    var d = job.display;
    root.setAttribute("data-state", job.state);
    setBadge(root, job.state);
    var stale = field(root, "stale");
    if (stale) { stale.hidden = !job.stale; }
    setBar(field(root, "bar"), job.percent, d.indeterminate);
    setText(root, "percent", d.percent);
    setText(root, "frames", d.frames);
    setText(root, "fps", d.fps);
    setText(root, "eta", d.eta);
    var up = setText(root, "updated", d.updated);
    if (up) { up.title = d.updated_title; }
    var err = setText(root, "error", d.error);
    if (err) { err.hidden = !d.error; }
  }

  function buildRow(job) {
    var tr = el("tr", "job");
    tr.setAttribute("data-job", job.name);
    var name = el("td", "c-name");
    var pick = el("input"); pick.type = "checkbox"; pick.name = "jobs"; pick.value = job.name;
    pick.setAttribute("form", "compare");
    pick.setAttribute("aria-label", "select " + job.name + " for comparison");
    name.appendChild(pick); name.appendChild(document.createTextNode(" "));
    var a = el("a", "", job.name);
    a.href = "/jobs/" + encodeURIComponent(job.name) + tokenQuery;
    var err = el("div", "err");
    err.setAttribute("data-f", "error");
    name.appendChild(a); name.appendChild(err); tr.appendChild(name);
    var st = el("td", "c-state");
    var badge = el("span", "badge"); badge.setAttribute("data-f", "state");
    var stale = el("span", "badge badge-stale", "stale"); stale.setAttribute("data-f", "stale");
    stale.title = "no heartbeat for more than the stale threshold";
    st.appendChild(badge); st.appendChild(stale); tr.appendChild(st);
    var pr = el("td", "c-progress");
    var bar = el("progress"); bar.max = 100; bar.setAttribute("data-f", "bar");
    bar.setAttribute("aria-label", "progress of " + job.name);
    var pct = el("span", "pct"); pct.setAttribute("data-f", "percent");
    pr.appendChild(bar); pr.appendChild(pct); tr.appendChild(pr);
    [["frames", "num"], ["fps", "num"], ["eta", "num"], ["video", "c-video"],
     ["attempts", "num"], ["started", "c-time"], ["updated", "c-time"]].forEach(function (c) {
      var td = el("td", c[1]); td.setAttribute("data-f", c[0]); tr.appendChild(td);
    });
    return tr;
  }

  function updateDashboard(data) {
    var tbody = document.querySelector("#jobs tbody");
    if (!tbody) { return; }
    var existing = {};
    Array.prototype.forEach.call(tbody.querySelectorAll("tr.job"), function (tr) {
      existing[tr.getAttribute("data-job")] = tr;
    });
    var seen = {};
    var prev = null;
    (data.jobs || []).forEach(function (job) {
      var tr = Object.prototype.hasOwnProperty.call(existing, job.name) ? existing[job.name] : buildRow(job);
      seen[job.name] = true;
      fillCommon(tr, job);
      setText(tr, "video", job.display.video);
      setText(tr, "attempts", job.display.attempts);
      setText(tr, "started", job.display.started);
      var next = prev ? prev.nextSibling : tbody.firstChild;
      if (next !== tr) { tbody.insertBefore(tr, next); }
      prev = tr;
    });
    Object.keys(existing).forEach(function (name) {
      if (!seen[name]) { tbody.removeChild(existing[name]); }
    });
    Object.keys(data.counts || {}).forEach(function (state) {
      var c = document.querySelector('[data-count="' + state + '"]');
      if (c) { c.textContent = String(data.counts[state]); }
    });
    var su = document.getElementById("status-updated");
    if (su) { su.textContent = data.status_updated_at || "–"; }
  }

  function updateJob(data) {
    var job = data.job;
    var root = document.querySelector(".job-summary");
    if (!job || !root) { return; }
    fillCommon(root, job);
    var rows = document.querySelectorAll("#videos tbody tr");
    Array.prototype.forEach.call(rows, function (tr) {
      var name = tr.getAttribute("data-video");
      (job.videos || []).forEach(function (v) {
        if (v.name !== name) { return; }
        tr.setAttribute("data-state", v.state);
        setBadge(tr, v.state);
        setBar(field(tr, "bar"), v.percent, false);
        setText(tr, "percent", v.display.percent);
        setText(tr, "frames", v.display.frames);
      });
    });
  }

  function showNotices(list) {
    var box = document.getElementById("notices");
    if (!box) { return; }
    var key = JSON.stringify(list);
    if (box.getAttribute("data-key") === key) { return; }
    box.setAttribute("data-key", key);
    while (box.firstChild) { box.removeChild(box.firstChild); }
    list.forEach(function (n) {
      var div = el("div", "notice notice-" + n.level, n.text);
      div.setAttribute("role", "status");
      box.appendChild(div);
    });
  }

  function showDaemon(d) {
    var pill = document.getElementById("daemon");
    if (!pill || !d) { return; }
    pill.textContent = d.running ? "daemon running" : "daemon not running";
    pill.className = "pill " + (d.running ? "pill-ok" : "pill-down");
    pill.title = d.running ? "pid " + d.pid + " on " + d.host + " since " + d.started_at : "";
  }

  function poll() {
    fetch(statusUrl(), { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (data) { return { status: r.status, data: data }; });
      })
      .then(function (res) {
        var data = res.data;
        if (page === "unavailable") {
          if (res.status === 200) { window.location.reload(); }
          return;
        }
        body.classList.toggle("status-unavailable", res.status === 503);
        showDaemon(data.daemon);
        var notices = (data.notices || []).slice();
        if (res.status === 404 && page === "job") {
          notices.unshift({ level: "error", text: "This job is no longer in the status file." });
        } else if (res.status === 401) {
          notices.unshift({ level: "error", text: "The monitor asks for a token: reload with ?token=…" });
        }
        showNotices(notices);
        if (res.status === 200) {
          if (page === "dashboard") { updateDashboard(data); } else { updateJob(data); }
        }
        body.setAttribute("data-last-poll", data.generated_at || "");
      })
      .catch(function () {
        showNotices([{ level: "error", text: "The monitor server cannot be reached; retrying…" }]);
      })
      .then(function () { window.setTimeout(poll, POLL_MS); });
  }

  window.setTimeout(poll, POLL_MS);
})();
