/*
 * The staff dashboard's own charts, on top of stats.js (loaded first):
 * - the ranking of lead departments by 按时办结率;
 * - a click on an open ticket's dot on the map opens that ticket in the console.
 */
(function () {
  "use strict";

  var charts = window.HotlineCharts;
  if (!charts) return;

  charts.drawers.ranking = function (data, words, c) {
    var rows = (data.ranking || []).slice(0, 15).reverse();
    return {
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: function (v) { return v === null ? "—" : v + "%"; },
      },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.department.name; }) },
      series: [{
        type: "bar",
        name: words.handled,
        data: rows.map(function (r) { return charts.percent(r.handled_on_time); }),
        itemStyle: { color: c.green },
        label: { show: true, position: "right", formatter: "{c}%" },
      }],
    };
  };

  charts.hooks.push(function (name, chart, root) {
    var base = root.dataset.ticketUrl;
    if (name !== "map" || !base) return;
    chart.on("click", function (event) {
      if (event.seriesType === "scatter" && event.data && event.data.id) {
        window.location.href = base + event.data.id + "/";
      }
    });
  });
})();
