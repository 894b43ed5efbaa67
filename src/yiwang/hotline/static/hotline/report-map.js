/*
 * The 12345 report form, improved when JavaScript runs (the form works without it):
 * - a character counter under the description;
 * - the name and phone fields hide while "匿名反映" is ticked;
 * - the submit button locks after the first click;
 * - a map of the city's streets (ECharts, /hotline/areas.geojson): a tap, or "使用我的
 *   位置", fills the latitude/longitude fields and names the street. The plain
 *   latitude/longitude fields are shown instead when the map cannot load.
 * Texts come from data-* attributes of the page, so they are translated there.
 */
(function () {
  "use strict";

  var MAP_NAME = "yiwang-streets";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : all;
    });
  }

  // ---- description counter (code points, as the server counts)

  function counter() {
    var out = document.querySelector("[data-counter-for]");
    if (!out) return;
    var area = document.getElementById(out.getAttribute("data-counter-for"));
    if (!area) return;
    var limit = parseInt(out.getAttribute("data-limit"), 10) || 5000;
    function update() {
      var n = Array.from(area.value).length;
      var over = n > limit;
      out.textContent = over
        ? fill(out.getAttribute("data-text-over"), { n: n, over: n - limit })
        : fill(out.getAttribute("data-text"), { n: n, left: limit - n });
      out.classList.toggle("is-over", over);
    }
    var described = (area.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    described.push(out.id);
    area.setAttribute("aria-describedby", described.join(" "));
    area.addEventListener("input", update);
    out.hidden = false;
    update();
  }

  // ---- anonymous reporting hides the contact fields

  function anonymous() {
    var box = document.getElementById("id_is_anonymous");
    var contact = document.querySelector("[data-contact]");
    if (!box || !contact) return;
    function update() { contact.hidden = box.checked; }
    box.addEventListener("change", update);
    update();
  }

  // ---- one submission per click

  function submitOnce() {
    var form = document.querySelector("[data-report-form]");
    if (!form) return;
    var button = form.querySelector("[data-submit-once]");
    if (!button) return;
    form.addEventListener("submit", function () {
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
    // Back to the page from the browser's history: the button works again.
    window.addEventListener("pageshow", function () { button.disabled = false; });
  }

  // ---- which street a point lies in (ray casting, as hotline/areas.py does)

  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function contains(geometry, x, y) {
    if (!geometry) return false;
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates]
      : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
    return polygons.some(function (rings) {
      return rings.length && inRing(x, y, rings[0]) &&
        !rings.slice(1).some(function (hole) { return inRing(x, y, hole); });
    });
  }

  function streetAt(features, lng, lat) {
    for (var i = 0; i < features.length; i++) {
      if (contains(features[i].geometry, lng, lat)) return features[i].properties.name || "";
    }
    return null;
  }

  // ---- the map

  function map() {
    var box = document.querySelector("[data-report-map]");
    if (!box || !window.echarts || !window.fetch || !Array.from) return;
    var lat = document.getElementById(box.getAttribute("data-lat"));
    var lng = document.getElementById(box.getAttribute("data-lng"));
    var coords = document.querySelector("[data-coords]");
    var status = box.querySelector("[data-map-status]");
    var canvas = box.querySelector("[data-map-canvas]");
    var locate = box.querySelector("[data-locate]");
    var clear = box.querySelector("[data-clear-location]");
    if (!lat || !lng || !canvas) return;
    function text(name, values) { return fill(box.getAttribute("data-text-" + name), values || {}); }

    fetch(box.getAttribute("data-geojson"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("areas " + response.status);
        return response.json();
      })
      .then(function (geo) {
        var features = (geo && geo.features) || [];
        if (!features.length) return;
        box.hidden = false;
        // Keep the typed fields in view when they carry an error to fix.
        if (coords && !coords.querySelector(".field-has-error")) coords.hidden = true;
        window.echarts.registerMap(MAP_NAME, geo);
        var chart = window.echarts.init(canvas);
        chart.setOption({
          animation: false,
          geo: {
            map: MAP_NAME,
            roam: true,
            scaleLimit: { min: 0.8, max: 20 },
            label: { show: true, fontSize: 11, color: "#1b1f24" },
            itemStyle: { areaColor: "#e8f0fb", borderColor: "#1452a8", borderWidth: 1 },
            emphasis: { label: { show: true }, itemStyle: { areaColor: "#cfe0f7" } },
            select: { disabled: true }
          },
          series: [{
            type: "scatter",
            coordinateSystem: "geo",
            geoIndex: 0,
            symbol: "pin",
            symbolSize: 30,
            silent: true,
            itemStyle: { color: "#b3261e" },
            data: []
          }]
        });

        function show(x, y) {
          chart.setOption({ series: [{ data: x === null ? [] : [[x, y]] }] });
        }

        function choose(x, y) {
          var street = streetAt(features, x, y);
          if (street === null) {
            status.textContent = text("outside");
            return false;
          }
          lat.value = y.toFixed(6);
          lng.value = x.toFixed(6);
          show(x, y);
          status.textContent = text("chosen", {
            street: street || text("street-unknown"), lat: lat.value, lng: lng.value
          });
          if (clear) clear.hidden = false;
          return true;
        }

        var x0 = parseFloat(lng.value), y0 = parseFloat(lat.value);
        if (isFinite(x0) && isFinite(y0)) {
          if (!choose(x0, y0)) status.textContent = text("outside");
        } else {
          status.textContent = text("none");
        }

        chart.getZr().on("click", function (event) {
          var point = chart.convertFromPixel({ geoIndex: 0 }, [event.offsetX, event.offsetY]);
          if (point && isFinite(point[0]) && isFinite(point[1])) choose(point[0], point[1]);
        });
        window.addEventListener("resize", function () { chart.resize(); });

        if (clear) {
          clear.addEventListener("click", function () {
            lat.value = lng.value = "";
            show(null, null);
            status.textContent = text("none");
            clear.hidden = true;
          });
        }
        if (locate) {
          if (!navigator.geolocation) {
            locate.hidden = true;
          } else {
            locate.addEventListener("click", function () {
              status.textContent = text("locating");
              navigator.geolocation.getCurrentPosition(
                function (position) { choose(position.coords.longitude, position.coords.latitude); },
                function () { status.textContent = text("denied"); },
                { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
              );
            });
          }
        }
      })
      .catch(function () {
        box.hidden = true;
        if (coords) coords.hidden = false;
      });
  }

  ready(function () {
    counter();
    anonymous();
    submitOnce();
    map();
  });
})();
