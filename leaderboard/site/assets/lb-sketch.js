/* A board chart's first draw, made before vega has loaded: a still picture of the same chart.
 *
 * Why: vega (about 900 KB of script) is most of a chart page's start-up work. At 10,000
 * entries the interactive chart came 0.8 s after navigation on a desktop and 2.4 s on a phone
 * with a slow CPU, while the page itself had painted long before. This script runs right after
 * a table-drawn chart's mount is parsed (render.py places it there, before the vega bundle) and
 * draws, on a plain canvas, every entry of the page's table (coloured by tier), the frontier,
 * both axes, the title and the tier legend. The fields, scales, colours and title come from the
 * chart's own spec (the "points" layer), so the picture cannot drift from the chart's encoding.
 *
 * The picture is marked data-sketched="true" and holds no interaction: lb-plots.js draws the
 * interactive chart into the same mount, which replaces it (vega-embed empties its element).
 * Nothing is drawn when the visitor chose another colouring (?colour=), a colouring this
 * picture does not know: the mount then waits for vega, as before.
 */
(function () {
  "use strict";

  var TEXT_FONT = "11px sans-serif";
  var TITLE_FONT = "bold 13px sans-serif";
  var POINT_AREA_PX2 = 60; // the points layer's default size, when its mark does not say

  /** Whether the page will be dark. The theme applies a visitor's stored choice before this
   * runs, but their system's setting only later, from its bundle: a fresh visitor's scheme is
   * the palette option whose media query matches. */
  function dark() {
    var stored = null;
    try {
      stored = typeof window.__md_get === "function" ? window.__md_get("__palette") : null;
    } catch (error) {
      stored = null; // storage may be blocked: then the system's setting decides
    }
    if (!(stored && stored.color)) {
      var options = document.querySelectorAll("input[name='__palette'][data-md-color-media]");
      for (var i = 0; i < options.length; i++) {
        var media = options[i].getAttribute("data-md-color-media");
        if (media !== "(prefers-color-scheme)" && window.matchMedia(media).matches) {
          return options[i].getAttribute("data-md-color-scheme") === "slate";
        }
      }
    }
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  function titleText(title) {
    if (!title) {
      return "";
    }
    var text = typeof title === "string" ? title : title.text;
    return Array.isArray(text) ? text.join(" ") : String(text || "");
  }

  /** The layer that draws the points: its data is "points" and it is coloured by a field. */
  function pointsLayer(spec) {
    var layers = spec.layer || [spec];
    for (var i = 0; i < layers.length; i++) {
      var layer = layers[i];
      var enc = layer.encoding || {};
      if (layer.data && layer.data.name === "points" && enc.x && enc.y && enc.color && enc.color.field) {
        return layer;
      }
    }
    return null;
  }

  /** The spec's trend lines over the points: their fit method, colour and opacity. */
  function trendLayers(spec, enc) {
    return (spec.layer || []).filter(function (layer) {
      var t = (layer.transform || [])[0] || {};
      return layer.data && layer.data.name === "points" && t.regression === enc.y.field && t.on === enc.x.field
        && (t.method === "log" || t.method === "linear" || !t.method);
    }).map(function (layer) {
      var mark = typeof layer.mark === "object" ? layer.mark : {};
      return { method: layer.transform[0].method || "linear", colour: mark.color || "#4c78a8",
        opacity: typeof mark.opacity === "number" ? mark.opacity : 1 };
    });
  }

  /** Least-squares y = a + b * x (x as ln x when `logX`) over the rows; null with < 2 rows. */
  function leastSquares(rows, xi, yi, logX) {
    var n = rows.length;
    if (n < 2) {
      return null;
    }
    var sx = 0, sy = 0, sxx = 0, sxy = 0;
    rows.forEach(function (row) {
      var x = logX ? Math.log(row[xi]) : row[xi];
      sx += x; sy += row[yi]; sxx += x * x; sxy += x * row[yi];
    });
    var den = n * sxx - sx * sx;
    if (!den) {
      return null;
    }
    var b = (n * sxy - sx * sy) / den;
    return { a: (sy - b * sx) / n, b: b };
  }

  /** Round tick values over [lo, hi] for a linear axis, about `count` of them. */
  function linearTicks(lo, hi, count) {
    var raw = (hi - lo) / Math.max(count, 1);
    var magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * magnitude; })
      .filter(function (s) { return s >= raw; })[0];
    var ticks = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      ticks.push(Number(v.toFixed(10)));
    }
    return { ticks: ticks, lo: Math.floor(lo / step) * step, hi: Math.ceil(hi / step) * step };
  }

  /** Tick values for a log axis over [lo, hi]: the decades, with 2 and 5 when there are few. */
  function logTicks(lo, hi) {
    var first = Math.floor(Math.log10(lo));
    var last = Math.ceil(Math.log10(hi));
    var ticks = [];
    var steps = last - first <= 2 ? [1, 2, 5] : [1];
    for (var e = first; e <= last; e++) {
      steps.forEach(function (m) {
        var v = m * Math.pow(10, e);
        if (v >= lo * 0.999 && v <= hi * 1.001) {
          ticks.push(v);
        }
      });
    }
    return { ticks: ticks, lo: Math.pow(10, first), hi: Math.pow(10, last) };
  }

  function tickLabel(value) {
    return Math.abs(value) >= 1 || value === 0 ? String(Number(value.toPrecision(6))) : String(Number(value.toPrecision(3)));
  }

  /** Cut `text` with an ellipsis to fit `widthPx` in the context's current font. */
  function fitted(ctx, text, widthPx) {
    if (ctx.measureText(text).width <= widthPx) {
      return text;
    }
    while (text.length > 1 && ctx.measureText(text + "…").width > widthPx) {
      text = text.slice(0, -1);
    }
    return text + "…";
  }

  function sketch(root) {
    var spec = (window.LB_SPECS || {})[root.getAttribute("data-spec")];
    var table = (window.LB_TABLES || {})[root.getAttribute("data-table")];
    var layer = spec && pointsLayer(spec);
    var wantedColour = new URLSearchParams(window.location.search).get("colour");
    if (!layer || !table || !table.rows || (wantedColour && wantedColour !== "tier")) {
      return false;
    }
    var enc = layer.encoding;
    var keys = (table.columns || []).map(function (c) { return c.key; });
    var xi = keys.indexOf(enc.x.field);
    var yi = keys.indexOf(enc.y.field);
    var ci = keys.indexOf(enc.color.field);
    var idi = keys.indexOf("id");
    if (xi < 0 || yi < 0 || ci < 0) {
      return false;
    }
    var logX = ((enc.x.scale || {}).type) === "log";
    var points = table.rows.filter(function (row) {
      var x = row[xi];
      return typeof x === "number" && typeof row[yi] === "number" && row[ci] !== null && row[ci] !== undefined && (!logX || x > 0);
    });
    if (!points.length) {
      return false;
    }

    // lb-plots.js's themeConfig: the chart's text and grid colours on each scheme
    var isDark = dark();
    var fg = isDark ? "#e2e4e9" : "#222";
    var grid = isDark ? "#3b3f4a" : "#e6e6e6";
    var colourScale = enc.color.scale || {};
    var domain = colourScale.domain || [];
    var range = colourScale.range || [];
    var colourOf = {};
    domain.forEach(function (value, i) { colourOf[value] = range[i % range.length] || "#4c78a8"; });

    var widthPx = root.clientWidth || 600;
    var plotHeightPx = typeof spec.height === "number" ? spec.height : 300;
    var title = titleText(spec.title);
    var top = title ? 30 : 8;
    var left = 48;
    var legend = domain.length ? 56 : 0;
    var right = 38 + legend; // vega-embed keeps 38 px right of the chart for its export menu
    var bottom = 40;
    var heightPx = top + plotHeightPx + bottom;
    var plotWidthPx = Math.max(widthPx - left - right, 50);

    var canvas = document.createElement("canvas");
    canvas.className = "lb-chart-sketch";
    canvas.setAttribute("aria-hidden", "true");
    canvas.setAttribute("data-dark", String(isDark));
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(widthPx * ratio);
    canvas.height = Math.round(heightPx * ratio);
    canvas.style.width = widthPx + "px";
    canvas.style.height = heightPx + "px";
    var ctx = canvas.getContext("2d");
    if (!ctx) {
      return false;
    }
    ctx.scale(ratio, ratio);

    var xLo = Infinity, xHi = -Infinity, yLo = Infinity, yHi = -Infinity;
    points.forEach(function (row) {
      xLo = Math.min(xLo, row[xi]); xHi = Math.max(xHi, row[xi]);
      yLo = Math.min(yLo, row[yi]); yHi = Math.max(yHi, row[yi]);
    });
    var xAxis = logX ? logTicks(xLo, xHi) : linearTicks(xLo, xHi, 8);
    // about one tick per 40 px of height, as vega's axes place them
    var yAxis = linearTicks(yLo, yHi, Math.round(plotHeightPx / 40));
    var fx = logX
      ? function (v) { return left + (Math.log(v) - Math.log(xAxis.lo)) / (Math.log(xAxis.hi) - Math.log(xAxis.lo)) * plotWidthPx; }
      : function (v) { return left + (v - xAxis.lo) / ((xAxis.hi - xAxis.lo) || 1) * plotWidthPx; };
    var fy = function (v) { return top + plotHeightPx - (v - yAxis.lo) / ((yAxis.hi - yAxis.lo) || 1) * plotHeightPx; };

    // grid and axes
    ctx.font = TEXT_FONT;
    ctx.lineWidth = 1;
    ctx.strokeStyle = grid;
    ctx.fillStyle = fg;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    xAxis.ticks.forEach(function (v) {
      var x = Math.round(fx(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + plotHeightPx); ctx.stroke();
      ctx.fillText(tickLabel(v), x, top + plotHeightPx + 4);
    });
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    yAxis.ticks.forEach(function (v) {
      var y = Math.round(fy(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + plotWidthPx, y); ctx.stroke();
      ctx.fillText(tickLabel(v), left - 4, y);
    });
    ctx.strokeStyle = fg;
    ctx.beginPath();
    ctx.moveTo(left, top); ctx.lineTo(left, top + plotHeightPx); ctx.lineTo(left + plotWidthPx, top + plotHeightPx);
    ctx.stroke();
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.font = "bold " + TEXT_FONT;
    ctx.fillText(fitted(ctx, titleText(enc.x.title) || enc.x.field, plotWidthPx), left + plotWidthPx / 2, heightPx - 2);
    ctx.save();
    ctx.translate(12, top + plotHeightPx / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(fitted(ctx, titleText(enc.y.title) || enc.y.field, plotHeightPx), 0, 0);
    ctx.restore();
    if (title) {
      ctx.font = TITLE_FONT;
      ctx.textBaseline = "top";
      ctx.fillText(fitted(ctx, title, widthPx - 16), widthPx / 2, 4);
    }

    // points in the table's order, each filled then outlined, as vega draws them (a point
    // drawn later covers the outline of one under it)
    var mark = layer.mark || {};
    var radiusPx = Math.sqrt((mark.size || POINT_AREA_PX2) / Math.PI);
    ctx.lineWidth = mark.strokeWidth || 0.3;
    ctx.strokeStyle = mark.stroke || "#333";
    var last = null;
    points.forEach(function (row) {
      var colour = colourOf[row[ci]] || "#4c78a8";
      if (colour !== last) {
        ctx.fillStyle = colour;
        last = colour;
      }
      ctx.beginPath();
      ctx.arc(fx(row[xi]), fy(row[yi]), radiusPx, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    });

    // the frontier: a step line through the table's frontier entries, cheapest first
    var onFrontier = {};
    (table.frontier || []).forEach(function (id) { onFrontier[id] = true; });
    var frontier = idi < 0 ? [] : points.filter(function (row) { return onFrontier[row[idi]]; })
      .sort(function (a, b) { return a[xi] - b[xi]; });
    if (frontier.length > 1) {
      ctx.strokeStyle = "#888";
      ctx.lineWidth = 1.5;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      frontier.forEach(function (row, i) {
        var x = fx(row[xi]);
        var y = fy(row[yi]);
        if (i === 0) {
          ctx.moveTo(x, y);
        } else {
          ctx.lineTo(x, fy(frontier[i - 1][yi]));
          ctx.lineTo(x, y);
        }
      });
      ctx.stroke();
      ctx.setLineDash([]);
    }

    // a fitted trend (a "points" layer with a regression transform), as vega fits it
    trendLayers(spec, enc).forEach(function (trend) {
      var fit = leastSquares(points, xi, yi, trend.method === "log");
      if (!fit) {
        return;
      }
      var lo = xLo;
      var hi = xHi;
      ctx.strokeStyle = trend.colour;
      ctx.globalAlpha = trend.opacity;
      ctx.lineWidth = 2;
      ctx.beginPath();
      for (var i = 0; i <= 50; i++) {
        var x = logX ? lo * Math.pow(hi / lo, i / 50) : lo + (hi - lo) * i / 50;
        var y = fit.a + fit.b * (trend.method === "log" ? Math.log(x) : x);
        if (i === 0) {
          ctx.moveTo(fx(x), fy(y));
        } else {
          ctx.lineTo(fx(x), fy(y));
        }
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
    });

    // the colour legend, as vega places it: right of the plot, from its top
    if (legend) {
      var lx = left + plotWidthPx + 16;
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      ctx.font = "bold " + TEXT_FONT;
      ctx.fillStyle = fg;
      ctx.fillText(titleText(enc.color.title) || enc.color.field, lx, top + 6);
      ctx.font = TEXT_FONT;
      domain.forEach(function (value, i) {
        var y = top + 24 + i * 16;
        ctx.fillStyle = colourOf[value];
        ctx.beginPath(); ctx.arc(lx + 5, y, 5, 0, 2 * Math.PI); ctx.fill();
        ctx.fillStyle = fg;
        ctx.fillText(String(value), lx + 16, y);
      });
    }

    root.appendChild(canvas);
    root.setAttribute("data-sketched", "true");
    return true;
  }

  // Sketch every shown table-drawn chart mount parsed so far that vega has not drawn yet (a
  // hidden board section waits for vega when it is chosen).
  function sketchCharts() {
    document.querySelectorAll(".lb-chart[data-table][data-spec]:not([data-lazy]):not([data-sketched]):not([data-ready])")
      .forEach(function (root) {
        if (root.offsetParent === null) {
          return;
        }
        try {
          sketch(root);
        } catch (error) {
          console.error("chart sketch failed:", error); // the interactive chart still comes
        }
      });
  }

  // A scheme switch before vega has drawn re-draws the picture in the new colours.
  function watchScheme() {
    new MutationObserver(function () {
      document.querySelectorAll(".lb-chart[data-sketched]:not([data-ready])").forEach(function (root) {
        var old = root.querySelector(".lb-chart-sketch");
        if (old && old.getAttribute("data-dark") !== String(dark())) {
          old.remove();
          root.removeAttribute("data-sketched");
        }
      });
      sketchCharts();
    }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
  }

  sketchCharts();
  watchScheme();
})();
