// The report's own script (its hash is in the page's Content-Security-Policy). It draws the
// charts from the page's JSON block, applies the filters (channel, group, label; also read from
// the address, e.g. report.html#channel=news&group=tajik&label=hate), and records every script
// error, console error and blocked load into #page-status, with what is shown, so that a
// headless browser (and the tests) can tell the page rendered. Texts reach the page only as
// text nodes (textContent), never as markup.
(function () {
  "use strict";
  var errors = [];
  function record(message) { errors.push(String(message)); }
  window.addEventListener("error", function (event) {
    record(event.message || ("failed to load " + (event.target && event.target.tagName)));
  }, true);
  window.addEventListener("unhandledrejection", function (event) {
    record("unhandled rejection: " + event.reason);
  });
  document.addEventListener("securitypolicyviolation", function (event) {
    record("blocked by the page's policy: " + event.violatedDirective + " " + event.blockedURI);
  });
  var consoleError = console.error;
  console.error = function () {
    record(Array.prototype.join.call(arguments, " "));
    return consoleError.apply(console, arguments);
  };

  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 760, HEIGHT = 230, LEFT = 52, RIGHT = 16, TOP = 30, BOTTOM = 46;
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var words = data.words || {};
  var percent = new Intl.NumberFormat(data.lang, {style: "percent", maximumFractionDigits: 1});
  var whole = new Intl.NumberFormat(data.lang, {maximumFractionDigits: 0});

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, name) {
      return name in values ? String(values[name]) : m;
    });
  }
  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) { node.setAttribute(key, String(attrs[key])); }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function titled(node, text) { node.appendChild(el("title", {}, text)); return node; }

  // the cell's counts per bin: [volume, flagged per label]
  var cells = {};
  (data.cells || []).forEach(function (cell) { cells[cell.c + "\u0000" + cell.t] = cell.d; });
  function series(channel, group) {
    var rows = cells[(channel || data.all) + "\u0000" + (group || data.all)] || [];
    var out = [];
    for (var i = 0; i < (data.days || []).length; i++) {
      out.push([0].concat(data.labels.map(function () { return 0; })));
    }
    rows.forEach(function (row) { out[row[0]] = row.slice(1); });
    return out;
  }
  // bins of seven when the posts are few (a share of two posts says little)
  function binned(rows) {
    var total = rows.reduce(function (s, r) { return s + r[0]; }, 0);
    if (data.step !== 1 || rows.length === 0 || total / rows.length >= 5) {
      return {rows: rows, days: data.days, names: data.bins, step: data.step};
    }
    var out = {rows: [], days: [], names: [], step: 7};
    rows.forEach(function (row, i) {
      var day = new Date(data.days[i] + "T00:00:00Z");
      var monday = (day.getUTCDay() + 6) % 7;
      if (i === 0 || monday === 0) {
        out.rows.push(row.map(function () { return 0; }));
        out.days.push(data.days[i]);
        out.names.push(data.bins[i]);
      }
      var last = out.rows[out.rows.length - 1];
      row.forEach(function (v, j) { last[j] += v; });
    });
    return out;
  }
  function ticks(top) {
    if (top <= 0) { return [0, 1]; }
    var raw = top / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; })
      .filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var i = 0; i <= Math.ceil(top / step - 1e-9); i++) { out.push(i * step); }
    return out;
  }
  function frame(n, top) {
    var width = WIDTH - LEFT - RIGHT, height = HEIGHT - TOP - BOTTOM;
    return {x: function (i, middle) { return LEFT + width * (i + (middle ? 0.5 : 0)) / n; },
            y: function (v) { return TOP + height * (top ? 1 - v / top : 1); },
            width: width, height: height};
  }
  function axes(svg, f, values, asPercent, title, names) {
    svg.appendChild(el("text", {"class": "chart-title", x: LEFT, y: 18}, title));
    values.forEach(function (v) {
      svg.appendChild(el("line", {"class": "grid", x1: LEFT, x2: WIDTH - RIGHT, y1: f.y(v),
                                  y2: f.y(v)}));
      svg.appendChild(el("text", {"class": "tick", x: LEFT - 6, y: f.y(v) + 4,
                                  "text-anchor": "end"},
                         asPercent ? percent.format(v) : whole.format(v)));
    });
    var base = f.y(0);
    svg.appendChild(el("line", {"class": "axis", x1: LEFT, x2: WIDTH - RIGHT, y1: base,
                                y2: base}));
    var every = Math.max(1, Math.ceil(names.length / 10));
    for (var i = 0; i < names.length; i += every) {
      svg.appendChild(el("text", {"class": "tick", x: f.x(i, true), y: base + 16,
                                  "text-anchor": "middle"}, names[i]));
    }
  }
  function chart(title, label) {
    return el("svg", {"class": "chart", role: "img", "aria-label": label || title,
                      viewBox: "0 0 " + WIDTH + " " + HEIGHT, width: WIDTH, height: HEIGHT});
  }
  function lineChart(b, labels, title, bands) {
    var shares = labels.map(function (name) {
      var j = data.labels.indexOf(name) + 1;
      return b.rows.map(function (r) { return r[0] ? r[j] / r[0] : null; });
    });
    var top = 0;
    shares.forEach(function (s) { s.forEach(function (v) { if (v !== null && v > top) { top = v; } }); });
    var values = ticks(top), f = frame(b.rows.length, values[values.length - 1]);
    var svg = chart(title);
    axes(svg, f, values, true, title, b.names);
    bands.forEach(function (alert) {
      var first = -1, last = -1;
      b.days.forEach(function (day, i) {
        var end = new Date(new Date(day + "T00:00:00Z").getTime() + b.step * 864e5)
          .toISOString().slice(0, 10);
        if (end > alert.start && day < alert.end) { if (first < 0) { first = i; } last = i; }
      });
      if (first < 0) { return; }
      var x0 = f.x(first, false), x1 = f.x(last + 1, false), mid = (x0 + x1) / 2;
      var g = titled(el("g", {"class": "alert-band"}), alert.text);
      g.appendChild(el("rect", {x: x0, y: TOP, width: Math.max(x1 - x0, 2), height: f.height,
                                fill: data.colours[alert.label] || "#555", "fill-opacity": 0.12}));
      g.appendChild(el("path", {d: "M" + (mid - 6) + "," + (TOP - 9) + " L" + (mid + 6) + "," +
                                   (TOP - 9) + " L" + mid + "," + (TOP - 1) + " Z",
                                fill: data.colours[alert.label] || "#555"}));
      svg.appendChild(g);
    });
    labels.forEach(function (name, k) {
      var colour = data.colours[name], run = [];
      function flush() {
        if (run.length) { svg.appendChild(el("polyline", {fill: "none", stroke: colour,
                                                          "stroke-width": 1.8, points: run.join(" ")})); }
        run = [];
      }
      shares[k].forEach(function (v, i) {
        if (v === null) { flush(); return; }
        var x = f.x(i, true), y = f.y(v), j = data.labels.indexOf(name) + 1;
        run.push(x.toFixed(1) + "," + y.toFixed(1));
        svg.appendChild(titled(el("circle", {cx: x, cy: y, r: 2.2, fill: colour}),
          data.names[name] + ", " + b.days[i] + ": " + percent.format(v) + " (" +
          fill(words.of, {flagged: whole.format(b.rows[i][j]),
                          volume: whole.format(b.rows[i][0])}) + ")"));
      });
      flush();
    });
    var x = LEFT, y = HEIGHT - 10;
    labels.forEach(function (name) {
      svg.appendChild(el("rect", {x: x, y: y - 8, width: 12, height: 4, fill: data.colours[name]}));
      svg.appendChild(el("text", {"class": "legend", x: x + 16, y: y}, data.names[name]));
      x += 26 + 7 * data.names[name].length;
    });
    if (bands.length) {
      svg.appendChild(el("path", {d: "M" + x + "," + (y - 10) + " L" + (x + 10) + "," +
                                     (y - 10) + " L" + (x + 5) + "," + (y - 3) + " Z", fill: "#555"}));
      svg.appendChild(el("text", {"class": "legend", x: x + 14, y: y}, words.alert));
    }
    return svg;
  }
  function barChart(b, title) {
    var top = 0;
    b.rows.forEach(function (r) { if (r[0] > top) { top = r[0]; } });
    var values = ticks(top), f = frame(b.rows.length, values[values.length - 1]);
    var svg = chart(title);
    axes(svg, f, values, false, title, b.names);
    var width = Math.max(f.width / b.rows.length - 1, 1);
    b.rows.forEach(function (r, i) {
      svg.appendChild(titled(el("rect", {x: f.x(i, false) + 0.5, y: f.y(r[0]), width: width,
                                         height: f.y(0) - f.y(r[0]), fill: "#64748b"}),
                             b.days[i] + ": " + whole.format(r[0])));
    });
    return svg;
  }

  var controls = {channel: document.getElementById("filter-channel"),
                  group: document.getElementById("filter-group"),
                  label: document.getElementById("filter-label")};
  function chosen() {
    return {channel: controls.channel ? controls.channel.value : "",
            group: controls.group ? controls.group.value : "",
            label: controls.label ? controls.label.value : ""};
  }
  function has(list, value) { return (" " + list + " ").indexOf(" " + value + " ") >= 0; }
  // a JSON list of names that may hold spaces (channels): whole names only
  function named(list, value) { return JSON.parse(list || "[]").indexOf(value) >= 0; }
  function alertsOf(channel, group, label) {
    return (data.alerts || []).filter(function (a) {
      return a.c === (channel || data.all) && a.t === (group || data.all) &&
        (!label || a.label === label);
    });
  }
  function unit(step) { return step === 1 ? words.day : words.week; }

  function drawCharts(f) {
    var labels = f.label ? [f.label] : data.labels;
    var trend = document.getElementById("trend-charts");
    var groupBox = document.getElementById("group-charts");
    if (!trend || !groupBox) { return; }
    trend.textContent = "";
    groupBox.textContent = "";
    if (!data.days) { return; }
    var b = binned(series(f.channel, f.group));
    var total = b.rows.reduce(function (s, r) { return s + r[0]; }, 0);
    if (!total) {
      var empty = document.createElement("p");
      empty.textContent = trend.getAttribute("data-empty");
      trend.appendChild(empty);
    } else {
      trend.appendChild(lineChart(b, labels, fill(words.trend, {step: unit(b.step)}),
                                  alertsOf(f.channel, f.group, f.label)));
      trend.appendChild(barChart(b, fill(words.volume, {step: unit(b.step)})));
    }
    var groups = f.group ? [f.group] : Object.keys(data.groups).filter(function (g) {
      var rows = series(f.channel, g);
      return rows.some(function (r) { return r.slice(1).some(function (v) { return v > 0; }); });
    }).slice(0, data.max_groups);
    if (!groups.length) {
      var none = document.createElement("p");
      none.textContent = words.no_groups;
      groupBox.appendChild(none);
    }
    groups.forEach(function (g) {
      var gb = binned(series(f.channel, g));
      var n = gb.rows.reduce(function (s, r) { return s + r[0]; }, 0);
      if (!n) { return; }
      groupBox.appendChild(lineChart(gb, labels, fill(words.group, {
        group: data.groups[g] || g, n: whole.format(n), step: unit(gb.step)}),
        alertsOf(f.channel, g, f.label)));
    });
  }

  function filterRows(f) {
    var shown = {alerts: 0, campaigns: 0, posts: 0};
    document.querySelectorAll("#alert-table tbody tr").forEach(function (row) {
      var ok = (!f.channel || row.getAttribute("data-channel") === f.channel) &&
        (!f.group || row.getAttribute("data-target") === f.group) &&
        (!f.label || row.getAttribute("data-label") === f.label);
      row.hidden = !ok;
      shown.alerts += ok ? 1 : 0;
    });
    document.querySelectorAll("#campaign-table tbody tr").forEach(function (row) {
      var ok = (!f.channel || named(row.getAttribute("data-channels"), f.channel)) &&
        (!f.group || has(row.getAttribute("data-targets"), f.group)) &&
        (!f.label || has(row.getAttribute("data-labels"), f.label));
      row.hidden = !ok;
      shown.campaigns += ok ? 1 : 0;
    });
    var list = document.getElementById("post-list");
    var top = list ? parseInt(list.getAttribute("data-top"), 10) : 0;
    document.querySelectorAll("#post-list article.post").forEach(function (post) {
      // a text posted in several channels is one post, shown for each of them
      var ok = (!f.channel || named(post.getAttribute("data-channels"), f.channel)) &&
        (!f.group || has(post.getAttribute("data-targets"), f.group)) &&
        (!f.label || has(post.getAttribute("data-labels"), f.label)) && shown.posts < top;
      post.hidden = !ok;
      shown.posts += ok ? 1 : 0;
    });
    [["alerts-empty", shown.alerts], ["campaigns-empty", shown.campaigns],
     ["posts-empty", shown.posts]].forEach(function (pair) {
      var note = document.getElementById(pair[0]);
      if (note) { note.hidden = pair[1] > 0; }
    });
    return shown;
  }

  function apply() {
    var f = chosen();
    drawCharts(f);
    var shown = filterRows(f);
    var out = document.getElementById("filter-status");
    if (out) {
      out.textContent = fill(words.shown, {alerts: shown.alerts, campaigns: shown.campaigns,
                                           posts: shown.posts});
    }
    var status = document.getElementById("page-status");
    status.setAttribute("data-filter", [f.channel, f.group, f.label].join("|"));
    status.setAttribute("data-alerts-shown", String(shown.alerts));
    status.setAttribute("data-campaigns-shown", String(shown.campaigns));
    status.setAttribute("data-posts-shown", String(shown.posts));
  }

  function fromAddress() {
    var hash = window.location.hash.replace(/^#/, "");
    hash.split("&").forEach(function (part) {
      var pair = part.split("=");
      var control = controls[decodeURIComponent(pair[0] || "")];
      if (control && pair.length === 2) {
        var value = decodeURIComponent(pair[1]);
        for (var i = 0; i < control.options.length; i++) {
          if (control.options[i].value === value) { control.value = value; }
        }
      }
    });
  }

  function check() {
    var charts = document.querySelectorAll("svg.chart");
    var drawn = 0;
    for (var i = 0; i < charts.length; i++) {
      var box = charts[i].getBoundingClientRect();
      if (box.width > 0 && box.height > 0 && charts[i].querySelector("polyline, rect")) {
        drawn++;
      }
    }
    var status = document.getElementById("page-status");
    status.setAttribute("data-charts", String(charts.length));
    status.setAttribute("data-charts-drawn", String(drawn));
    status.setAttribute("data-errors", String(errors.length));
    status.textContent = errors.join("\n");
    status.setAttribute("data-ready", "true");
  }

  try {
    fromAddress();
    apply();
  } catch (err) {
    record(err && err.stack ? err.stack : err);
  }
  Object.keys(controls).forEach(function (name) {
    if (controls[name]) {
      controls[name].addEventListener("change", function () {
        try { apply(); check(); } catch (err) { record(err); check(); }
      });
    }
  });
  window.addEventListener("load", function () { window.setTimeout(check, 0); });
})();
