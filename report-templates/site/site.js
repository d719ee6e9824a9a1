// cimon web explorer: sorting and filtering the ranking, and the county comparison. No library,
// no request: everything the pages need is in them.
(function () {
  "use strict";

  // Sorting: a button in every column heading; numbers from data-v, text by locale.
  function sortable(table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = button.getAttribute("data-type") === "num";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (row) {
          var cell = row.cells[col];
          if (numeric) {
            var v = cell.getAttribute("data-v");
            return v === null || v === "" ? null : parseFloat(v);
          }
          return cell.textContent.trim();
        };
        var collator = new Intl.Collator(document.documentElement.lang, { numeric: true });
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (x === null && y === null) return 0;
          if (x === null) return 1; // missing values last, either way
          if (y === null) return -1;
          var c = numeric ? x - y : collator.compare(x, y);
          return ascending ? c : -c;
        });
        var fragment = document.createDocumentFragment();
        rows.forEach(function (r) { fragment.appendChild(r); });
        body.appendChild(fragment);
      });
    });
  }

  // Filtering the ranking by the selects of its form.
  function filters(form) {
    var table = document.getElementById(form.getAttribute("data-filters"));
    var output = form.querySelector("output");
    var apply = function () {
      var want = {};
      Array.prototype.forEach.call(form.querySelectorAll("select"), function (s) { want[s.name] = s.value; });
      var shown = 0, rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(rows, function (r) {
        var ok = (!want.pref || r.getAttribute("data-pref") === want.pref) &&
          (!want.tier || r.getAttribute("data-tier") === want.tier) &&
          (!want.peer || r.getAttribute("data-peer") === want.peer);
        r.hidden = !ok;
        if (ok) shown += 1;
      });
      if (output) {
        output.textContent = output.getAttribute("data-pattern").replace("{n}", shown).replace("{total}", rows.length);
      }
    };
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    apply(); // a reload or Back restores the selects: show what they say

  }

  function fmt(v, digits) {
    return v === null || v === undefined ? "—" : v.toFixed(digits);
  }

  function text(tag, content, attrs) {
    var el = document.createElement(tag);
    el.textContent = content;
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  // The comparison: up to four counties from ?c=code,code,… (default: the first four ranked).
  function compare() {
    var source = document.getElementById("compare-data");
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var table = document.getElementById("compare-table");
    var labels = JSON.parse(table.getAttribute("data-labels"));
    var tiers = JSON.parse(table.getAttribute("data-tiers"));
    var picks = Array.prototype.slice.call(document.querySelectorAll("select.pick"));
    var byCode = {};
    data.rows.forEach(function (r) { byCode[r.code] = r; });
    var fromUrl = (new URLSearchParams(window.location.search).get("c") || "").split(",").filter(function (c) { return byCode[c]; });
    var initial = fromUrl.length ? fromUrl : data.rows.slice(0, 4).map(function (r) { return r.code; });
    picks.forEach(function (select, i) {
      select.appendChild(text("option", select.getAttribute("data-none"), { value: "" }));
      data.rows.forEach(function (r) {
        select.appendChild(text("option", r.name + " · " + r.prefecture, { value: r.code }));
      });
      select.value = initial[i] || "";
    });
    var draw = function () {
      var chosen = picks.map(function (s) { return byCode[s.value]; }).filter(Boolean);
      var head = table.tHead, body = table.tBodies[0];
      head.textContent = ""; body.textContent = "";
      var hr = head.insertRow();
      hr.appendChild(text("th", "", { scope: "col" }));
      chosen.forEach(function (r) {
        var th = document.createElement("th");
        th.setAttribute("scope", "col");
        var a = text("a", r.name, { href: "county/" + r.code + ".html" });
        th.appendChild(a);
        hr.appendChild(th);
      });
      var line = function (label, values) {
        var tr = body.insertRow();
        tr.appendChild(text("th", label, { scope: "row" }));
        values.forEach(function (v) { tr.appendChild(text("td", v, { "class": "n" })); });
      };
      line(labels[1], chosen.map(function (r) { return r.prefecture; }));
      line(labels[2], chosen.map(function (r) { return fmt(r.index, 1); }));
      line(labels[3], chosen.map(function (r) { return r.rank === null ? "—" : String(r.rank); }));
      line(labels[4], chosen.map(function (r) { return r.tier === null ? "—" : tiers[String(r.tier)]; }));
      line(labels[5], chosen.map(function (r) { return r.p05 === null ? "—" : r.p05 + "–" + r.p95; }));
      data.dimensions.forEach(function (d, k) {
        line(d, chosen.map(function (r) { return fmt(r.scores[k], 1); }));
      });
      chart(chosen);
      var url = new URL(window.location.href);
      url.searchParams.set("c", chosen.map(function (r) { return r.code; }).join(","));
      try { window.history.replaceState(null, "", url); } catch (e) { /* file:// in some browsers */ }
    };
    // Grouped bars: one group per dimension, one bar per county.
    var chart = function (chosen) {
      var box = document.getElementById("compare-chart");
      box.textContent = "";
      var ns = "http://www.w3.org/2000/svg", colours = ["#1f4e79", "#c0504d", "#6f9ac4", "#9a5b00"];
      var dims = data.dimensions, w = 720, rowH = 18 * Math.max(chosen.length, 1) + 14, left = 160;
      var h = rowH * dims.length + 40;
      var max = 100;
      chosen.forEach(function (r) { r.scores.forEach(function (v) { if (v !== null && v > max) max = v; }); });
      var svg = document.createElementNS(ns, "svg");
      svg.setAttribute("viewBox", "0 0 " + w + " " + h);
      svg.setAttribute("class", "chart");
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", box.getAttribute("data-title"));
      var el = function (name, attrs, content) {
        var e = document.createElementNS(ns, name);
        Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
        if (content !== undefined) e.textContent = content;
        svg.appendChild(e);
        return e;
      };
      dims.forEach(function (d, k) {
        var top = 6 + rowH * k;
        el("text", { x: left - 8, y: top + rowH / 2, "text-anchor": "end", "class": "label" }, d);
        chosen.forEach(function (r, i) {
          var v = r.scores[k];
          if (v === null) return;
          var width = Math.max(0, (w - left - 60) * v / max);
          el("rect", { x: left, y: top + i * 18, width: width.toFixed(1), height: 14, fill: colours[i] });
          el("text", { x: (left + width + 4).toFixed(1), y: top + i * 18 + 11, "class": "value" }, v.toFixed(1));
        });
      });
      var lx = left;
      chosen.forEach(function (r, i) {
        el("rect", { x: lx, y: h - 22, width: 12, height: 12, fill: colours[i] });
        el("text", { x: lx + 16, y: h - 12, "class": "legend" }, r.name);
        lx += 40 + Array.prototype.reduce.call(r.name, function (w, ch) { return w + (ch.charCodeAt(0) < 128 ? 6.6 : 12.5); }, 0);
      });
      box.appendChild(svg);
    };
    picks.forEach(function (s) { s.addEventListener("change", draw); });
    draw();
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
  Array.prototype.forEach.call(document.querySelectorAll("form[data-filters]"), filters);
  compare();
})();
