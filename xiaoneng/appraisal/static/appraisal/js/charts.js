/* Draw the appraisal charts a page declares: <div data-appraisal-chart="NAME"> plus a JSON block with id
   "chart-NAME" written by Django's json_script ({kind: "radar" | "bar" | "line", title, …}, see
   xiaoneng/appraisal/charts.py). The same numbers are always in a table next to the chart. */
(function () {
  "use strict";
  var COLORS = ["#1d4f91", "#c0392b", "#2e8b57", "#8e44ad"];

  function radar(data) {
    return {
      color: COLORS, tooltip: {}, legend: { bottom: 0 },
      radar: { indicator: data.indicators, radius: "62%" },
      series: [{ type: "radar", data: data.series.map(function (s) { return { name: s.name, value: s.values }; }) }]
    };
  }

  function bar(data) {
    return {
      color: COLORS, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 40, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: 100 },
      yAxis: { type: "category", data: data.labels.slice().reverse(), axisLabel: { width: 200, overflow: "truncate" } },
      series: [{ type: "bar", name: data.title, data: data.values.slice().reverse(), barMaxWidth: 22,
                 label: { show: true, position: "right" } }]
    };
  }

  function line(data) {
    return {
      color: COLORS, tooltip: { trigger: "axis" }, legend: { bottom: 0 },
      grid: { left: 8, right: 24, top: 16, bottom: 32, containLabel: true },
      xAxis: { type: "category", data: data.labels }, yAxis: { type: "value", max: 100 },
      series: data.series.map(function (s) {
        return { type: "line", name: s.name, data: s.values, connectNulls: false, label: { show: true } };
      })
    };
  }

  var KINDS = { radar: radar, bar: bar, line: line };

  function draw(el) {
    var source = document.getElementById("chart-" + el.getAttribute("data-appraisal-chart"));
    if (!source || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    if (!KINDS[data.kind]) return;
    el.style.height = (data.kind === "bar" ? Math.max(160, 56 + 30 * data.labels.length) : 320) + "px";
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(KINDS[data.kind](data));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function init() { document.querySelectorAll("[data-appraisal-chart]").forEach(draw); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
