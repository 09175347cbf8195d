// Dashboard charts. No inline script: each <canvas data-chart="ID"> names a <script type="application/json" id="ID">
// (Django's json_script) holding {type, title, labels, datasets: [{key, label, unit, data}]}, drawn here with the
// vendored Chart.js (static/vendor/chartjs-*/). The table beside each chart is its accessible alternative, so the
// canvas is only a picture (role=img with a label naming the table).
(function () {
  "use strict";

  // Okabe & Ito's colour-blind-safe palette (blue and vermillion first: the two most often paired), then Paul Tol's
  // muted colours for tables with more series. Each is readable on white.
  var PALETTE = [
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#882255", "#44AA99", "#332288", "#999933",
    "#6f6f6f", "#AA4499"
  ];
  var MANY_LABELS = 6;
  var LONG_LABEL = 18;

  function colour(index) {
    return PALETTE[index % PALETTE.length];
  }

  function rtl() {
    return document.documentElement.getAttribute("dir") === "rtl";
  }

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  // A long category name on several lines (Chart.js draws an array as one line each) rather than cut off.
  function wrap(label) {
    if (label.length <= LONG_LABEL) {
      return label;
    }
    var lines = [];
    var line = "";
    label.split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > LONG_LABEL + 6) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    lines.push(line);
    return lines;
  }

  // Long or many category names read better on horizontal bars.
  function horizontal(spec) {
    var longest = spec.labels.reduce(function (max, label) { return Math.max(max, label.length); }, 0);
    return spec.labels.length > MANY_LABELS || longest > LONG_LABEL;
  }

  function config(spec) {
    var type = spec.type;
    var stacked = type === "stacked";
    var base = {
      responsive: true,
      maintainAspectRatio: false,
      locale: document.documentElement.getAttribute("lang") || undefined,
      animation: reducedMotion() ? false : { duration: 400 },
      plugins: {
        legend: { display: spec.datasets.length > 1 || type === "doughnut", rtl: rtl(), position: "bottom" },
        tooltip: { rtl: rtl() },
        title: { display: false, text: spec.title }
      }
    };
    if (type === "doughnut") {
      var only = spec.datasets[0] || { label: "", data: [] };
      return {
        type: "doughnut",
        data: {
          labels: spec.labels,
          datasets: [{
            label: only.label,
            data: only.data,
            backgroundColor: spec.labels.map(function (_label, index) { return colour(index); }),
            borderColor: "#fff",
            borderWidth: 2
          }]
        },
        options: base
      };
    }
    if (type === "line") {
      base.plugins.legend.labels = { usePointStyle: true };
      base.scales = { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { reverse: rtl() } };
      base.interaction = { mode: "index", intersect: false };
      return {
        type: "line",
        data: {
          labels: spec.labels,
          datasets: spec.datasets.map(function (dataset, index) {
            return {
              label: dataset.label,
              data: dataset.data,
              borderColor: colour(index),
              backgroundColor: colour(index),
              pointStyle: index % 2 ? "rectRot" : "circle",  // not by colour alone
              borderDash: index % 2 ? [6, 4] : [],
              tension: 0.2,
              fill: false
            };
          })
        },
        options: base
      };
    }
    // "bar" and "stacked"
    var sideways = horizontal(spec);
    var valueAxis = { beginAtZero: true, stacked: stacked, ticks: { precision: 0 } };
    var labelAxis = { stacked: stacked, ticks: { autoSkip: false } };
    base.indexAxis = sideways ? "y" : "x";
    base.scales = sideways ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis };
    base.scales.x.reverse = rtl();
    if (stacked) {
      base.interaction = { mode: "index", intersect: false };
    }
    return {
      type: "bar",
      data: {
        labels: spec.labels.map(wrap),
        datasets: spec.datasets.map(function (dataset, index) {
          return {
            label: dataset.label,
            data: dataset.data,
            backgroundColor: colour(index),
            borderColor: colour(index),
            borderWidth: 1,
            maxBarThickness: 56
          };
        })
      },
      options: base
    };
  }

  function draw(root) {
    if (!window.Chart) {
      return;  // the tables still give every number
    }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (window.Chart.getChart(canvas)) {
        return;
      }
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) {
        return;
      }
      new window.Chart(canvas, config(JSON.parse(source.textContent)));
    });
  }

  // Deferred scripts run once the document is parsed; htmx may later bring new content in.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
})();
