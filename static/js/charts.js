/* Dashboard charts (Apache ECharts from npm, no CDN). Each chart element names its JSON data block.
   Colours match the status badges; labels always carry the status text too. */
(function () {
  "use strict";
  var STATUS_COLOURS = {
    achieved_early: "#0f7b3f", achieved: "#2e9d57", ahead: "#5cb85c", on_track: "#3b73b9",
    watch: "#e0a100", lagging: "#d9641e", regressing: "#c0392b", no_data: "#b8c0cc", no_plan: "#d5dae1"
  };
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
        data: d.values.map(function (v, i) { return { value: v, itemStyle: { color: STATUS_COLOURS[d.keys[i]] } }; })
      }]
    };
  }

  function trajectory(d) {
    var styles = {
      expected: { lineStyle: { type: "dashed", color: "#7a8799" }, itemStyle: { color: "#7a8799" }, symbol: "none" },
      actual: { lineStyle: { width: 3, color: "#1d4f91" }, itemStyle: { color: "#1d4f91" }, symbolSize: 8,
                label: { show: true, position: "top", formatter: function (p) { return p.value == null ? "" : p.value; } } },
      forecast: { lineStyle: { type: "dotted", width: 2, color: "#d9641e" }, itemStyle: { color: "#d9641e" }, connectNulls: true },
      target: { lineStyle: { type: "solid", color: "#c0392b" }, itemStyle: { color: "#c0392b" }, symbol: "none" }
    };
    return {
      textStyle: { fontFamily: FONT },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.years, boundaryGap: false },
      yAxis: { type: "value", name: d.unit, scale: true },
      series: d.series.map(function (s) {
        return Object.assign({ name: s.name, type: "line", data: s.data, connectNulls: s.kind !== "actual" }, styles[s.kind]);
      })
    };
  }

  function heatmap(d, el, chart) {
    chart.on("click", function (params) { if (params.data && params.data[4]) { window.location.href = params.data[4]; } });
    return {
      textStyle: { fontFamily: FONT },
      tooltip: { formatter: function (p) { return d.y[p.data[1]] + " · " + d.x[p.data[0]] + "：" + p.data[3]; } },
      grid: { left: 8, right: 8, top: 8, bottom: 70, containLabel: true },
      xAxis: { type: "category", data: d.x, axisLabel: { interval: d.x.length <= 30 ? 0 : "auto", rotate: 40, fontSize: 11,
               formatter: function (v) { return v.length > 9 ? v.slice(0, 9) + "…" : v; } }, splitArea: { show: true } },
      yAxis: { type: "category", data: d.y, inverse: true, splitArea: { show: true } },
      visualMap: { type: "piecewise", orient: "horizontal", left: "center", bottom: 0, dimension: 2,
        pieces: d.pieces.map(function (p) { return { value: p.value, label: p.label, color: STATUS_COLOURS[p.key] }; }) },
      series: [{ name: "进度", type: "heatmap", data: d.cells,
                 // Words fit in a cell only when there are few indicators; beyond that the colours and the
                 // tooltip say it (a national plan has dozens of columns).
                 label: { show: d.x.length <= 20, fontSize: 10, formatter: function (p) { return p.data[3]; } },
                 emphasis: { itemStyle: { borderColor: "#000", borderWidth: 1 } } }]
    };
  }

  var BUILDERS = { "status-bar": statusBar, "trajectory": trajectory, "heatmap": heatmap };

  function draw() {
    if (typeof echarts === "undefined") { return; }
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
    draw();
    document.querySelectorAll("[data-print]").forEach(function (b) { b.addEventListener("click", function () { window.print(); }); });
  });
})();
