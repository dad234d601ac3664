// Draw every chart spec on the page with Chart.js (window.Chart, from the npm package).
// Each <canvas data-chart="ID"> reads its spec from <script id="ID-spec" type="application/json">.
(function () {
  "use strict";
  var palette = ["#1f5fbf", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b", "#16a085"];

  function draw(canvas) {
    if (canvas.dataset.drawn === "1" || !window.Chart) return;
    var spec = JSON.parse(document.getElementById(canvas.dataset.chart + "-spec").textContent);
    var datasets = spec.datasets.map(function (set, n) {
      var colour = palette[n % palette.length];
      return {
        label: set.label,
        data: set.data,
        borderColor: colour,
        backgroundColor: spec.type === "line" ? colour + "33" : colour,
        tension: 0.25,
        pointRadius: spec.labels.length > 60 ? 0 : 2,
        fill: false,
      };
    });
    var rtl = getComputedStyle(canvas).direction === "rtl";
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        // The page's language: ticks and tooltips grouped as the table beside the chart is (12.345 in German).
        locale: spec.locale || document.documentElement.lang || "en",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: spec.stacked, ticks: { maxTicksLimit: 12 } },
          y: { stacked: spec.stacked, beginAtZero: true },
        },
        plugins: { legend: { position: "bottom", rtl: rtl }, tooltip: { rtl: rtl } },
      },
    });
    canvas.dataset.drawn = "1";
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
