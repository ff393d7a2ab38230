/* Draw the charts a page declares: <div data-chart="NAME"> plus a JSON block
   with id "chart-NAME" ({title, labels, values}), written by Django's json_script.
   The same numbers are always in a table next to the chart, for screen readers and print. */
(function () {
  "use strict";

  function draw(el) {
    var name = el.getAttribute("data-chart");
    var source = document.getElementById("chart-" + name);
    if (!source || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    el.style.height = Math.max(160, 56 + 34 * data.labels.length) + "px";
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      color: ["#1d4f91"],
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.labels.slice().reverse(), axisLabel: { width: 180, overflow: "truncate" } },
      series: [{ type: "bar", name: data.title, data: data.values.slice().reverse(), barMaxWidth: 22,
                 label: { show: true, position: "right" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function init() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
