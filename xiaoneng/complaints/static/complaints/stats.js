/* Complaint statistics charts. Each chart is <div data-complaint-chart="ID"> with its data in a
   JSON block id="ID" written by Django's json_script (the CSP forbids inline scripts).
   Data: {title, labels, values}; the same numbers are in the table below each chart. */
(function () {
  "use strict";

  function draw() {
    if (typeof echarts === "undefined") return;
    document.querySelectorAll("[data-complaint-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-complaint-chart"));
      if (!source || el.getAttribute("data-drawn")) return;
      var data = JSON.parse(source.textContent);
      el.style.height = Math.max(140, 48 + 26 * data.labels.length) + "px";
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption({
        color: ["#1d4f91"],
        grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: data.labels.slice().reverse(), axisLabel: { width: 200, overflow: "truncate" } },
        series: [{ type: "bar", name: data.title, data: data.values.slice().reverse(), barMaxWidth: 18,
                   label: { show: true, position: "right" } }]
      });
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-drawn", "1");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
