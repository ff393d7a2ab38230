/* Supervision dashboard charts. Each chart is <div data-dash-chart="NAME"> with its data in a
   JSON block id="dash-NAME" written by Django's json_script (the CSP forbids inline scripts).
   The same numbers are always in a table on the page (and in its Excel export).
   - "trend": {labels, series: [{name, type: "bar"|"line", values, axis: 0|1}]}
   - anything else: a horizontal bar chart {title, labels, values, unit} */
(function () {
  "use strict";

  var COLORS = ["#1d4f91", "#6c8ebf", "#c8102e", "#1a7f37", "#e9b949"];

  function trend(el, data) {
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      color: COLORS,
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.labels },
      yAxis: [
        { type: "value", minInterval: 1 },
        { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }
      ],
      series: data.series.map(function (s) {
        return {
          name: s.name, type: s.type, yAxisIndex: s.axis || 0, data: s.values,
          barMaxWidth: 18, smooth: s.type === "line", connectNulls: true,
          label: { show: s.type === "line", formatter: "{c}%" }
        };
      })
    });
    return chart;
  }

  function bars(el, data) {
    el.style.height = Math.max(160, 56 + 28 * data.labels.length) + "px";
    var chart = echarts.init(el, null, { renderer: "svg" });
    var unit = data.unit || "";
    chart.setOption({
      color: [COLORS[0]],
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", max: unit === "%" ? 100 : null, axisLabel: { formatter: "{value}" + unit } },
      yAxis: { type: "category", data: data.labels.slice().reverse(), axisLabel: { width: 200, overflow: "truncate" } },
      series: [{ type: "bar", name: data.title, data: data.values.slice().reverse(), barMaxWidth: 18,
                 label: { show: true, position: "right", formatter: "{c}" + unit } }]
    });
    return chart;
  }

  var charts = [];

  function draw(root) {
    if (typeof echarts === "undefined") return;
    (root || document).querySelectorAll("[data-dash-chart]").forEach(function (el) {
      if (el.getAttribute("data-drawn")) return;
      var name = el.getAttribute("data-dash-chart");
      var source = document.getElementById("dash-" + name);
      if (!source) return;
      var data = JSON.parse(source.textContent);
      charts.push(name === "trend" ? trend(el, data) : bars(el, data));
      el.setAttribute("data-drawn", "1");
    });
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  // A swapped-in fragment may bring charts of its own (htmx 4 and htmx 2 event names).
  ["htmx:after:swap", "htmx:afterSwap"].forEach(function (name) {
    document.addEventListener(name, function (evt) { draw(evt.target && evt.target.parentNode || document); });
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { draw(); });
  else draw();
})();
