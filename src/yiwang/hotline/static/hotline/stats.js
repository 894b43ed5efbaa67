/*
 * 12345 figures as charts (Apache ECharts): the public statistics page, and the drawing
 * code the staff dashboard builds on (dashboard.js adds its own charts to `drawers`).
 *
 * Each [data-hotline-charts] box names its JSON (data-source) and the streets' GeoJSON
 * (data-geojson); each [data-chart] inside it is drawn by the drawer of that name. The
 * same figures are in tables on the page: a chart only appears once it has drawn, its
 * table then folds away, and if anything fails the tables stay as they are.
 * Words come from data-label-* attributes of the box, so they are translated there.
 */
(function () {
  "use strict";

  var MAP_NAME = "yiwang-streets";
  var instances = [];

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (value || "").trim() || fallback;
  }

  function colours() {
    return {
      primary: cssVar("--c-primary", "#1452a8"),
      soft: cssVar("--c-primary-soft", "#e8f0fb"),
      red: cssVar("--c-error", "#b3261e"),
      yellow: "#b07a00",
      green: cssVar("--c-success", "#0f6b33"),
      text: cssVar("--c-text", "#1b1f24"),
      muted: cssVar("--c-muted", "#4a5360"),
    };
  }

  // A rate object {numerator, denominator, rate} as a percentage with one decimal, or null.
  function percent(rate) {
    return rate && rate.rate !== null ? Math.round(rate.rate * 1000) / 10 : null;
  }

  function labels(root) {
    var out = {};
    Object.keys(root.dataset).forEach(function (key) {
      if (key.indexOf("label") === 0 && key.length > 5) {
        out[key.charAt(5).toLowerCase() + key.slice(6)] = root.dataset[key];
      }
    });
    return out;
  }

  function bars(rows, name, colour) {
    var shown = rows.slice(0, 12).reverse();
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: shown.map(function (r) { return r.name; }) },
      series: [{ type: "bar", name: name, data: shown.map(function (r) { return r.count; }),
                 itemStyle: { color: colour }, label: { show: true, position: "right" } }],
    };
  }

  function pie(rows, name, centre) {
    return {
      type: "pie",
      name: name,
      radius: ["30%", "55%"],
      center: centre,
      avoidLabelOverlap: true,
      label: { formatter: "{b} {d}%", overflow: "break", width: 96 },
      data: rows.map(function (r) { return { name: r.name, value: r.count }; }),
    };
  }

  var drawers = {
    trend: function (data, words, c) {
      var months = data.trend || [];
      return {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v; } },
        legend: { top: 0 },
        grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: months.map(function (m) { return m.label; }) },
        yAxis: [
          { type: "value", minInterval: 1 },
          { type: "value", min: 0, max: 100, splitLine: { show: false }, axisLabel: { formatter: "{value}%" } },
        ],
        series: [
          { type: "bar", name: words.tickets, itemStyle: { color: c.primary },
            data: months.map(function (m) { return m.tickets; }) },
          { type: "line", name: words.handled, yAxisIndex: 1, connectNulls: true, itemStyle: { color: c.green },
            data: months.map(function (m) { return percent(m.handled_on_time); }) },
          { type: "line", name: words.satisfied, yAxisIndex: 1, connectNulls: true, itemStyle: { color: c.yellow },
            data: months.map(function (m) { return percent(m.satisfied); }) },
        ],
      };
    },

    category: function (data, words, c) {
      return bars(data.by_category || [], words.count, c.primary);
    },

    channel: function (data, words) {
      return {
        tooltip: { trigger: "item", formatter: "{a}<br>{b}:{c}({d}%)" },
        title: [
          { text: words.channel, left: "25%", top: 0, textAlign: "center", textStyle: { fontSize: 14 } },
          { text: words.kind, left: "75%", top: 0, textAlign: "center", textStyle: { fontSize: 14 } },
        ],
        series: [pie(data.by_channel || [], words.channel, ["25%", "55%"]),
                 pie(data.by_kind || [], words.kind, ["75%", "55%"])],
      };
    },

    // Streets shaded by the period's tickets; the dashboard's data also has open tickets
    // (points), drawn as dots in their deadline colour.
    map: function (data, words, c) {
      var areas = (data.by_area || []).filter(function (a) { return a.key; });
      var most = areas.reduce(function (m, a) { return Math.max(m, a.count); }, 0);
      var series = [{
        type: "map", geoIndex: 0, name: words.tickets,
        data: areas.map(function (a) { return { name: a.name, value: a.count }; }),
      }];
      var legend = [];
      if (data.points) {
        ["red", "yellow", "green"].forEach(function (colour) {
          legend.push(words[colour]);
          series.push({
            type: "scatter", coordinateSystem: "geo", name: words[colour], symbolSize: 8,
            itemStyle: { color: c[colour], borderColor: "#fff", borderWidth: 1 },
            data: data.points.filter(function (p) { return p.colour === colour; }).map(function (p) {
              return { name: p.number, value: [p.lng, p.lat], id: p.id, status: p.status };
            }),
          });
        });
      }
      return {
        tooltip: {
          trigger: "item",
          formatter: function (p) {
            if (p.seriesType === "scatter") return p.name + "<br>" + p.data.status;
            return p.name + ":" + (isNaN(p.value) ? 0 : p.value);
          },
        },
        legend: legend.length ? { data: legend, top: 0 } : undefined,
        visualMap: {
          min: 0, max: Math.max(most, 1), seriesIndex: 0, left: 0, bottom: 0,
          text: [words.more, words.less], calculable: false,
          inRange: { color: [c.soft, c.primary] },
        },
        geo: {
          map: MAP_NAME, roam: true, top: legend.length ? 36 : 8, bottom: 8,
          label: { show: true, fontSize: 11, color: c.text },
          itemStyle: { areaColor: "#f3f5f8", borderColor: "#ffffff" },
          emphasis: { label: { show: true }, itemStyle: { areaColor: c.soft } },
        },
        series: series,
      };
    },
  };

  // Functions called with (chart name, ECharts instance, root) after a chart draws.
  var hooks = [];

  function draw(root, data, geojson) {
    var words = labels(root);
    var c = colours();
    root.querySelectorAll("[data-chart]").forEach(function (box) {
      var name = box.getAttribute("data-chart");
      var drawer = drawers[name];
      if (!drawer || (name === "map" && !geojson)) return;
      box.hidden = false;
      var chart = window.echarts.init(box);
      chart.setOption(Object.assign({ aria: { enabled: true }, animation: false }, drawer(data, words, c)));
      instances.push(chart);
      var table = box.parentNode.querySelector("[data-chart-table]");
      if (table) table.open = false;
      hooks.forEach(function (hook) { hook(name, chart, root); });
    });
  }

  function failed(root) {
    var status = root.querySelector("[data-chart-status]");
    if (status) {
      status.textContent = root.dataset.labelFailed || "";
      status.hidden = false;
    }
  }

  function json(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      });
  }

  function start(root) {
    var wantsMap = !!root.querySelector('[data-chart="map"]') && root.dataset.geojson;
    Promise.all([
      json(root.dataset.source),
      wantsMap ? json(root.dataset.geojson).catch(function () { return null; }) : null,
    ]).then(function (results) {
      var geojson = results[1];
      if (geojson) window.echarts.registerMap(MAP_NAME, geojson);
      draw(root, results[0], geojson);
    }).catch(function () { failed(root); });
  }

  // The filter form: only the fields of the chosen kind of period are shown.
  function periodFields(form) {
    var radios = form.querySelectorAll('input[name="period"]');
    function show() {
      var checked = form.querySelector('input[name="period"]:checked');
      var kind = checked ? checked.value : "month";
      form.querySelectorAll("[data-period]").forEach(function (box) {
        box.hidden = box.getAttribute("data-period") !== kind;
      });
    }
    radios.forEach(function (radio) { radio.addEventListener("change", show); });
    if (radios.length) show();
  }

  window.HotlineCharts = { drawers: drawers, hooks: hooks, percent: percent };

  ready(function () {
    document.querySelectorAll(".hotline-filters").forEach(periodFields);
    if (!window.echarts || !window.fetch) return;
    document.querySelectorAll("[data-hotline-charts]").forEach(start);
    var resizing;
    window.addEventListener("resize", function () {
      clearTimeout(resizing);
      resizing = setTimeout(function () { instances.forEach(function (i) { i.resize(); }); }, 150);
    });
    // Printed pages carry the tables, not the charts.
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("[data-chart-table]").forEach(function (t) { t.open = true; });
    });
  });
})();
