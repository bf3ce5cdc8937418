/* Dashboard charts (Apache ECharts from npm, no CDN). Each chart element names its JSON data block.
   Colours are the status badges' own: read from the --status-* variables of static/css/app.css, so a chart and a
   badge can never disagree; labels always carry the status text too. */
(function () {
  "use strict";
  var STATUS_KEYS = ["achieved_early", "achieved", "ahead", "on_track", "watch", "lagging", "regressing", "no_data", "no_plan"];
  var STATUS_COLOURS = {}, STATUS_INK = {}, STATUS_EDGE = "#6b7685";

  function readPalette() {
    var css = window.getComputedStyle(document.documentElement);
    STATUS_KEYS.forEach(function (key) {
      STATUS_COLOURS[key] = css.getPropertyValue("--status-" + key).trim() || "#c8c8c8";
      STATUS_INK[key] = css.getPropertyValue("--status-" + key + "-ink").trim() || "#111";
    });
    STATUS_EDGE = css.getPropertyValue("--status-edge").trim() || STATUS_EDGE;
  }

  // The white of 缺基期或目标 needs an edge to be seen; every other fill gets a thin dark one.
  function statusStyle(key) {
    return key === "no_plan"
      ? { color: STATUS_COLOURS[key], borderColor: STATUS_EDGE, borderWidth: 1, borderType: "dashed" }
      : { color: STATUS_COLOURS[key], borderColor: "rgba(0,0,0,0.25)", borderWidth: 0.5 };
  }

  // Wraps a label into lines of `width` characters (CJK text has no spaces to break at); never cuts it short.
  function wrap(text, width) {
    var lines = [];
    for (var i = 0; i < text.length; i += width) { lines.push(text.slice(i, i + width)); }
    return lines.join("\n");
  }
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif';

  function data(el) {
    var node = document.getElementById(el.getAttribute("data-source"));
    return node ? JSON.parse(node.textContent) : null;
  }

  function statusBar(d) {
    return {
      textStyle: { fontFamily: FONT },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "item", formatter: "{b}：{c}" },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: d.labels, inverse: true },
      series: [{
        name: "数量", type: "bar", barMaxWidth: 22,
        label: { show: true, position: "right", formatter: "{c}" },
        data: d.values.map(function (v, i) { return { value: v, itemStyle: statusStyle(d.keys[i]) }; })
      }]
    };
  }

  function trajectory(d) {
    var styles = {
      expected: { lineStyle: { type: "dashed", color: "#7a8799" }, itemStyle: { color: "#7a8799" }, symbol: "none" },
      actual: { lineStyle: { width: 3, color: "#1d4f91" }, itemStyle: { color: "#1d4f91" }, symbolSize: 8,
                label: { show: true, position: "top", formatter: function (p) { return p.value == null ? "" : p.value; } } },
      forecast: { lineStyle: { type: "dotted", width: 2, color: "#d9641e" }, itemStyle: { color: "#d9641e" }, connectNulls: true },
      target: { lineStyle: { type: "solid", color: "#c0392b" }, itemStyle: { color: "#c0392b" }, symbol: "none" },
      // 公开报道: what published documents said, drawn as separate points (never joined to the approved line).
      // Leshan's own in one colour; each peer city in the palette's next colour (ECharts picks it), as triangles.
      published: { type: "scatter", symbol: "diamond", symbolSize: 11, itemStyle: { color: "#6a3d9a" } },
      peer: { type: "scatter", symbol: "triangle", symbolSize: 10 }
    };
    return {
      textStyle: { fontFamily: FONT },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.years, boundaryGap: false },
      yAxis: { type: "value", name: d.unit, scale: true },
      series: d.series.map(function (s) {
        return Object.assign({ name: s.name, type: "line", data: s.data, connectNulls: s.kind === "expected" || s.kind === "forecast" || s.kind === "target" }, styles[s.kind]);
      })
    };
  }

  // The region matrix sends one status code per cell (d.codes, a row per region; null where the status filter leaves
  // the cell out), the indicator and region ids once, and one link with "{indicator}" and "{region}" to fill in.
  function cellLink(d, x, y) {
    return d.link.replace("{indicator}", d.indicators[x]).replace("{region}", d.regions[y]);
  }

  function heatmap(d, el, chart) {
    chart.on("click", function (params) { if (params.data && params.data.value) { window.location.href = cellLink(d, params.data.value[0], params.data.value[1]); } });
    var many = d.x.length > 30;
    // Column width left for a label once the region names are drawn; a CJK character is about 12px at 11px type.
    var perLine = Math.max(3, Math.floor((el.clientWidth - 90) / Math.max(d.x.length, 1) / 12));
    var showText = d.x.length <= 20;
    var encode = echarts.format.encodeHTML;  // names go into the tooltip's HTML
    var cells = [];
    d.codes.forEach(function (row, y) {
      row.forEach(function (code, x) {
        if (code === null) { return; }
        var key = d.statuses[code];
        var style = statusStyle(key);
        style.borderColor = key === "no_plan" ? STATUS_EDGE : "#fff";
        style.borderWidth = key === "no_plan" ? 1 : 2;
        cells.push({ value: [x, y, code], itemStyle: style, label: { color: STATUS_INK[key] } });
      });
    });
    return {
      textStyle: { fontFamily: FONT },
      tooltip: { confine: true, formatter: function (p) {
        var v = p.data.value;
        return encode(d.y[v[1]]) + "<br>" + encode(d.names[v[0]]) + "<br><strong>" + encode(d.labels[v[2]]) + "</strong>";
      } },
      // No visualMap: each cell carries its status colour, and the legend is the page's own badges under the chart.
      grid: { left: 8, right: 8, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.x, position: "top", splitArea: { show: false },
               axisLabel: { interval: many ? "auto" : 0, rotate: many ? 90 : 0, fontSize: 11, lineHeight: 14, color: "#1f2933",
                            formatter: function (v) { return many ? v : wrap(v, perLine); } } },
      yAxis: { type: "category", data: d.y, inverse: true, axisLabel: { color: "#1f2933" } },
      series: [{ name: "进度", type: "heatmap", data: cells,
                 // Words fit in a cell only when there are few indicators; beyond that the colours and the
                 // tooltip say it (a national plan has dozens of columns).
                 label: { show: showText, fontSize: 10, formatter: function (p) { return d.labels[p.data.value[2]]; } },
                 emphasis: { itemStyle: { borderColor: "#000", borderWidth: 2 } } }]
    };
  }

  // The table under the heat map (rows and columns in the payload's order): each badge becomes a link, titled with
  // its region and indicator. Without JavaScript the badges stay text and the headings link on.
  function linkMatrixTables() {
    document.querySelectorAll("table.matrix-table[data-source]").forEach(function (table) {
      var d = data(table);
      if (!d || !d.link || !table.tBodies.length) { return; }
      var rows = table.tBodies[0].rows;
      for (var y = 0; y < rows.length && y < d.regions.length; y++) {
        for (var x = 0; x < d.indicators.length; x++) {
          var cell = rows[y].cells[x + 1];  // cells[0] is the region's heading
          var badge = cell && cell.firstElementChild;
          if (!badge) { continue; }
          var a = document.createElement("a");
          a.className = badge.className;
          a.textContent = badge.textContent;
          a.href = cellLink(d, x, y);
          a.title = d.y[y] + " · " + d.names[x];
          cell.replaceChild(a, badge);
        }
      }
    });
  }

  var BUILDERS = { "status-bar": statusBar, "trajectory": trajectory, "heatmap": heatmap };

  function draw() {
    if (typeof echarts === "undefined") { return; }
    readPalette();
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var d = data(el);
      var build = BUILDERS[el.getAttribute("data-chart")];
      if (!d || !build) { return; }
      var chart = echarts.init(el, null, { renderer: "svg" });
      // No animation: printed pages and screenshots must show the finished chart.
      chart.setOption(Object.assign({ animation: false }, build(d, el, chart)));
      window.addEventListener("resize", function () { chart.resize(); });
      window.addEventListener("beforeprint", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    linkMatrixTables();
    draw();
    document.querySelectorAll("[data-print]").forEach(function (b) { b.addEventListener("click", function () { window.print(); }); });
  });
})();
