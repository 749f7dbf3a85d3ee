// The dashboard's one chart: events per second per minute over the last hour.
// The panels (re-fetched by htmx every 5 s) carry the series as JSON; the chart
// itself lives outside them and is updated in place.
(function () {
  "use strict";
  var chart = null;

  function series() {
    var node = document.getElementById("eps-series");
    if (!node) return null;
    var s = JSON.parse(node.textContent);
    return [s.x, s.y];
  }

  function draw() {
    var data = series();
    var box = document.getElementById("eps-chart");
    if (!data || !box || typeof uPlot === "undefined") return;
    if (chart) {
      chart.setData(data);
    } else {
      chart = new uPlot(
        {
          width: Math.max(300, box.clientWidth - 8),
          height: 180,
          scales: { x: { time: true } },
          series: [{}, { label: "events/s", stroke: "#2563eb", fill: "rgba(37,99,235,0.12)", width: 2 }],
          axes: [{}, { size: 60 }],
        },
        data,
        box
      );
    }
    window.muttChart = chart; // the browser test reads the plotted series
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () {
    var box = document.getElementById("eps-chart");
    if (chart && box) chart.setSize({ width: Math.max(300, box.clientWidth - 8), height: 180 });
  });
})();
