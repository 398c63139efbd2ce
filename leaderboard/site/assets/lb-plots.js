/* Charts: vega-embed mounts for the specs in window.LB_SPECS, themed for light and dark.
 *
 * A mount with data-table draws that table's rows (LB.tableRecords), so a board's rows are
 * sent once for table, chart and "Choose a model". Lazy mounts (data-lazy) load vega, their
 * table and spec only when they come near the screen. Started by leaderboard.js
 * (LB.startCharts) once the tables are mounted. A table-drawn chart of more than 1,000
 * points draws a stated sample first and every point right after (splitFirstDraw):
 * data-ready / "lb-chart-ready" mark the first draw, data-complete / "lb-chart-complete"
 * every point.
 */
(function () {
  "use strict";

  var LB = (window.LB = window.LB || {});
  var LABEL_STEP_TOP1 = 2.0; // charts.LABEL_STEP_TOP1
  var el = LB.el;
  var missing = LB.missing;
  var params = LB.params;
  var setParams = LB.setParams;
  var loadScript = LB.loadScript;
  var tableRecords = LB.tableRecords;
  LB.views = LB.views || {};


  function darkScheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  // Vega config for the page's colour scheme: axis, legend and title text readable on both.
  // lb-sketch.js draws its still picture in the same two colours (it runs before this file).
  function themeConfig() {
    var fg = darkScheme() ? "#e2e4e9" : "#222";
    var grid = darkScheme() ? "#3b3f4a" : "#e6e6e6";
    return {
      background: null,
      axis: { labelColor: fg, titleColor: fg, gridColor: grid, domainColor: fg, tickColor: fg },
      legend: { labelColor: fg, titleColor: fg },
      title: { color: fg },
      text: { color: fg },
    };
  }


  /** A spec with data from its table: the board's rows are sent once, for chart and table. */
  function withTableData(spec, table, prefix) {
    var copy = JSON.parse(JSON.stringify(spec));
    // chart links are relative to the page the chart is on, like the table's
    var records = tableRecords(table, prefix).filter(function (r) { return !missing(r.energy_j) && !missing(r.tier); });
    var frontier = {};
    (table.frontier || []).forEach(function (id) { frontier[id] = true; });
    copy.datasets = copy.datasets || {};
    copy.datasets.points = records;
    copy.datasets.frontier = records
      .filter(function (r) { return frontier[r.id]; })
      .sort(function (a, b) { return a.energy_j - b.energy_j; });
    // names only where they do not overlap: as charts.frontier_labels_rows (2 points of top-1)
    var labels = [];
    copy.datasets.frontier.slice().sort(function (a, b) { return b.top1 - a.top1; }).forEach(function (r) {
      if (!labels.length || labels[labels.length - 1].top1 - r.top1 >= LABEL_STEP_TOP1) {
        labels.push(r);
      }
    });
    copy.datasets.frontier_labels = labels;
    return copy;
  }

  /** Fill the spec's shared datasets (data-shared: spec dataset -> LB_DATA name) from the
   * data files the page loaded once for all its charts; false when one is not loaded yet. */
  function withSharedData(spec, root) {
    var wanted = root.getAttribute("data-shared");
    if (!wanted) {
      return true;
    }
    var data = window.LB_DATA || {};
    var names = JSON.parse(wanted);
    spec.datasets = spec.datasets || {};
    return Object.keys(names).every(function (dataset) {
      var rows = data[names[dataset]];
      if (!rows) {
        return false;
      }
      // each view gets its own row objects: vega marks (and may extend) the objects it ingests
      spec.datasets[dataset] = rows.map(function (row) { return Object.assign({}, row); });
      return true;
    });
  }

  /** Table records with the fields they lack taken from the page's shared data
   * (data-join: an LB_DATA name), matched by id; null when that data is not loaded yet. */
  function joinedRecords(spec, root) {
    var rows = (window.LB_DATA || {})[root.getAttribute("data-join")];
    if (!rows) {
      return null;
    }
    var byId = {};
    rows.forEach(function (row) { byId[row.id] = row; });
    ["points", "frontier", "frontier_labels"].forEach(function (name) {
      (spec.datasets[name] || []).forEach(function (record) {
        var extra = byId[record.id] || {};
        Object.keys(extra).forEach(function (key) {
          if (!(key in record) && key !== "url") {
            record[key] = extra[key];
          }
        });
      });
    });
    return spec;
  }

  // --- colour by size class (a chart drawn from a board table that has a "size" column) ------

  function sizeColumn(root) {
    var table = (window.LB_TABLES || {})[root.getAttribute("data-table")];
    var cols = (table && table.columns) || [];
    for (var i = 0; i < cols.length; i++) {
      if (cols[i].key === "size") {
        return cols[i];
      }
    }
    return null;
  }

  /** The spec coloured by size class instead of tier when the visitor chose so: the legend
   * then picks a size class, and the tooltip names it. */
  function withColour(spec, root) {
    var column = sizeColumn(root);
    if (root.getAttribute("data-colour") !== "size" || !column) {
      return spec;
    }
    (spec.layer || [spec]).forEach(function (layer) {
      var enc = layer.encoding || {};
      if (enc.color && enc.color.field === "tier") {
        // the legend names each class with its edges (column.value_labels)
        enc.color = { field: "size", type: "ordinal", title: "size class",
          scale: { domain: column.values, scheme: "viridis" },
          legend: { labelExpr: JSON.stringify(column.value_labels || {}) + "[datum.label] || datum.label",
            labelLimit: 240 } };
        if (Array.isArray(enc.tooltip)) {
          enc.tooltip.push({ field: "size", type: "nominal", title: "size class" });
        }
      }
    });
    (spec.params || []).forEach(function (param) {
      if (param.name === "tier_pick" && param.select) {
        param.select.fields = ["size"];
      }
    });
    return spec;
  }

  /** "Colour by: tier / size class" beside a board chart's tools. */
  function addColourChoice(root) {
    var column = sizeColumn(root);
    var bar = root.parentNode && root.parentNode.querySelector(".lb-chart-tools");
    if (!column || !bar || bar.querySelector(".lb-colour")) {
      return;
    }
    var select = el("select", { class: "lb-colour", "aria-label": "Colour the points by" });
    select.appendChild(el("option", { value: "tier" }, "tier"));
    select.appendChild(el("option", { value: "size" }, "size class (" + column.values.length + ", by parameters)"));
    select.value = root.getAttribute("data-colour") === "size" ? "size" : "tier";
    select.addEventListener("change", function () {
      root.setAttribute("data-colour", select.value);
      setParams({ colour: select.value === "tier" ? "" : select.value });
      embed(root);
    });
    var label = el("label", { class: "lb-colour-label" }, "Colour by ");
    label.appendChild(select);
    bar.insertBefore(label, bar.firstChild);
  }

  // A tooltip lists only what is known: a field the page has not loaded yet (parameters and
  // GMACs of a board's table until its detail columns come) read "NaN".
  function formatTooltip(value, valueToHtml) {
    if (!value || typeof value !== "object") {
      return valueToHtml(value);
    }
    var rows = Object.keys(value).filter(function (key) {
      var v = value[key];
      return v !== undefined && v !== null && String(v) !== "NaN" && String(v) !== "undefined";
    }).map(function (key) {
      return "<tr><td class=\"key\">" + valueToHtml(key) + "</td><td class=\"value\">" +
        valueToHtml(value[key]) + "</td></tr>";
    });
    return "<table>" + rows.join("") + "</table>";
  }
  LB.formatTooltip = formatTooltip;

  // Parameters and GMACs of a board's entries are in its detail file, loaded when the visitor
  // first points at or focuses the chart; the drawn points then get them in place (no redraw,
  // so a zoom is kept).
  var DETAIL_FIELDS = ["params_m", "gmacs"];
  function completeOnDemand(root, view, table, prefix) {
    if (!table || !table.details || root._lbCompleting) {
      return;
    }
    var fill = function () {
      root._lbCompleting = LB.loadDetails(table, prefix).then(function () {
        var byId = {};
        tableRecords(table, prefix).forEach(function (r) { byId[r.id] = r; });
        var view = LB.views[root.getAttribute("data-spec")];
        var changes = view.changeset();
        var changed = false;
        view.data("points").forEach(function (tuple) {
          var full = byId[tuple.id];
          DETAIL_FIELDS.forEach(function (field) {
            if (full && tuple[field] === undefined && !missing(full[field])) {
              changes.modify(tuple, field, full[field]);
              changed = true;
            }
          });
        });
        return changed ? view.change("points", changes).runAsync() : view;
      }).catch(function (error) {
        console.error("chart details failed:", error);
      });
    };
    if (table._detailsLoaded) {
      fill();
      return;
    }
    root.addEventListener("pointerenter", fill, { once: true });
    root.addEventListener("focusin", fill, { once: true });
  }

  // --- a big chart draws a stated sample first, then every point (issue 22) --------------
  //
  // Drawing 10,000 points took ~300 ms of a fast desktop's time (over 1 s with the CPU
  // slowed 4x); 1,000 take ~50 ms. So a table-drawn chart with more points than this draws
  // the frontier, the extremes of both axes (so the axes do not move) and every k-th row of
  // the table first, says so beside the chart, and adds the rest right after that frame.
  var FIRST_DRAW_POINTS = 1000;

  /** Split spec.datasets.points in place into the first draw; return {rest, step, total},
   * or null when every point is drawn at once. LB.firstDrawPoints overrides the budget. */
  function splitFirstDraw(spec) {
    var points = spec.datasets && spec.datasets.points;
    var budget = LB.firstDrawPoints || FIRST_DRAW_POINTS;
    if (!points || points.length <= budget) {
      return null;
    }
    var step = Math.ceil(points.length / budget);
    var keep = {};
    (spec.datasets.frontier || []).forEach(function (r) { keep[r.id] = true; });
    ["energy_j", "top1"].forEach(function (field) {
      var low = null;
      var high = null;
      points.forEach(function (r) {
        if (low === null || r[field] < low[field]) { low = r; }
        if (high === null || r[field] > high[field]) { high = r; }
      });
      keep[low.id] = keep[high.id] = true;
    });
    var first = [];
    var rest = [];
    points.forEach(function (r, i) {
      (i % step === 0 || keep[r.id] ? first : rest).push(r);
    });
    spec.datasets.points = first;
    return { rest: rest, step: step, total: points.length };
  }

  /** The chart holds every point: data-complete="true" and "lb-chart-complete" (whoever
   * reads the view's points, not only its signals, waits for this, not "lb-chart-ready"). */
  function markComplete(root, name, view) {
    if (root._lbAccess && root._lbAccess.view === view) {
      root._lbAccess.attach(view, root._lbAccess.spec); // its summary counts every point now
    }
    root.setAttribute("data-complete", "true");
    document.dispatchEvent(new CustomEvent("lb-chart-complete", { detail: { name: name, view: view } }));
  }

  /** Add the points left out of the first draw, after the browser has shown that draw. With
   * `picture` (lb-sketch.js's, over the chart) every point is in view already: no note, and
   * the picture goes when the chart holds them all. */
  function drawRest(root, name, view, later, picture) {
    if (!later) {
      markComplete(root, name, view);
      return;
    }
    var note = picture ? null : el("p", { class: "lb-chart-progress", role: "status", "data-for": name },
      "Drawing " + (later.total - later.rest.length).toLocaleString("en") + " of " +
      later.total.toLocaleString("en") + " points first (the frontier and every " +
      ordinal(later.step) + " entry); the rest follow in a moment.");
    if (note) {
      root.parentNode.insertBefore(note, root.nextSibling);
    }
    // a frame, then a task: the first draw is on screen before the rest is added
    window.requestAnimationFrame(function () {
      window.setTimeout(function () {
        if (LB.views[name] !== view) {
          return; // drawn again meanwhile (zoom reset, colour, scheme): that draw goes on
        }
        view.change("points", view.changeset().insert(later.rest)).runAsync().then(function () {
          if (LB.views[name] === view) {
            if (note) {
              note.remove();
            }
            if (picture) {
              picture.remove();
            }
            markComplete(root, name, view);
          }
        });
      }, 0);
    });
  }

  function ordinal(n) {
    var tens = n % 100;
    var suffix = tens > 10 && tens < 14 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" })[n % 10] || "th";
    return n + suffix;
  }

  function embed(root) {
    var specs = window.LB_SPECS || {};
    var name = root.getAttribute("data-spec");
    var spec = specs[name];
    if (!spec || typeof window.vegaEmbed !== "function") {
      return Promise.resolve(null);
    }
    var tableName = root.getAttribute("data-table");
    if (tableName) {
      var table = (window.LB_TABLES || {})[tableName];
      if (!table) {
        return Promise.resolve(null);
      }
      if (root.hasAttribute("data-details") && !table._detailsLoaded) {
        // the chart draws detail columns (GMACs, parameters): join them first
        return LB.loadDetails(table, root.getAttribute("data-prefix") || "").then(function () {
          return embed(root);
        });
      }
      spec = withTableData(spec, table, root.getAttribute("data-prefix") || "");
      if (root.hasAttribute("data-join") && !joinedRecords(spec, root)) {
        return Promise.resolve(null);
      }
    }
    // withTableData returned a copy already: copying its thousands of records again cost
    // a fifth of the first chart's script time at 10,000 entries
    spec = tableName ? spec : JSON.parse(JSON.stringify(spec));
    if (!withSharedData(spec, root)) {
      return Promise.resolve(null);
    }
    if (!root.hasAttribute("data-colour") && params().get("colour") === "size") {
      root.setAttribute("data-colour", "size"); // a shared link keeps the colouring it was made with
    }
    spec = withColour(spec, root);
    // lb-sketch.js's still picture of every point, when the mount has one in this scheme: it
    // stays over vega's first draw (a sample) until every point is drawn, so no point goes
    // missing for a moment (vega-embed empties the mount; the picture is put back after)
    var picture = root.querySelector(".lb-chart-sketch");
    if (picture && picture.getAttribute("data-dark") !== String(darkScheme())) {
      picture = null;
    }
    var later = tableName ? splitFirstDraw(spec) : null;
    spec.config = Object.assign({}, spec.config || {}, themeConfig());
    wrapTitle(spec, root.clientWidth);
    narrowLabels(spec, root.clientWidth);
    root.removeAttribute("data-ready");
    root.removeAttribute("data-complete");
    if (root.parentNode) {
      root.parentNode.querySelectorAll(".lb-chart-progress[data-for='" + name + "']").forEach(function (old) { old.remove(); });
    }
    root.setAttribute("data-scheme", darkScheme() ? "dark" : "light");
    return window
      .vegaEmbed(root, spec, {
        renderer: "canvas",
        actions: { export: true, source: false, compiled: false, editor: false },
        tooltip: { formatTooltip: formatTooltip },
        loader: { target: "_self" },
        // an empty layer (no threshold chosen yet) makes vega warn about infinite extents
        logLevel: 1,
      })
      .then(function (result) {
        LB.views[name] = result.view;
        if (picture && later) {
          picture.classList.add("lb-chart-sketch-over");
          root.appendChild(picture);
        } else {
          picture = null;
        }
        if (tableName) {
          completeOnDemand(root, result.view, window.LB_TABLES[tableName], root.getAttribute("data-prefix") || "");
        }
        // vega-embed's export menu is a <summary> holding only an icon: give it a name
        root.querySelectorAll("details > summary").forEach(function (summary) {
          summary.setAttribute("aria-label", "Export this chart");
          summary.setAttribute("title", "Export this chart");
        });
        if (zoomable(spec)) {
          addReset(root);
        }
        if (LB.chartAccess) {
          LB.chartAccess(root, result.view, spec); // lb-access.js: keys, pinch, summary
        }
        root.setAttribute("data-ready", "true");
        addColourChoice(root);
        document.dispatchEvent(new CustomEvent("lb-chart-ready", { detail: { name: name, view: result.view } }));
        drawRest(root, name, result.view, later, picture);
        return result.view;
      })
      .catch(function (error) {
        root.setAttribute("data-error", String(error));
        console.error("chart failed:", error);
      });
  }
  LB.embed = embed;

  // A title wider than a phone is cut by the canvas ("Energy against compute - Synthetic GPU,
  // offl"): vega-lite draws an array of strings as lines, so the words are wrapped to fit.
  var TITLE_PX_PER_CHAR = 7.5; // 13 px bold sans-serif, vega's default title font
  function wrapTitle(spec, widthPx) {
    var title = spec.title;
    var text = title && typeof title === "object" && !Array.isArray(title) ? title.text : title;
    if (typeof text !== "string" || !widthPx) {
      return;
    }
    var perLine = Math.max(16, Math.floor((widthPx - 40) / TITLE_PX_PER_CHAR));
    if (text.length <= perLine) {
      return;
    }
    var lines = [""];
    text.split(" ").forEach(function (word) {
      var line = lines[lines.length - 1];
      if (line && (line + " " + word).length > perLine) {
        lines.push(word);
      } else {
        lines[lines.length - 1] = line ? line + " " + word : word;
      }
    });
    if (title && typeof title === "object" && !Array.isArray(title)) {
      title.text = lines;
    } else {
      spec.title = lines;
    }
  }

  // Whether a chart zooms (a selection bound to its scales): bars and heatmaps do not, and get
  // no zoom hint or reset button.
  function zoomable(spec) {
    var found = false;
    (function walk(node) {
      if (!node || typeof node !== "object" || found) {
        return;
      }
      (node.params || []).forEach(function (param) {
        if (param.bind === "scales") {
          found = true;
        }
      });
      (node.layer || []).forEach(walk);
    })(spec);
    return found;
  }
  LB.zoomable = zoomable;

  // A legend of four columns is wider than a phone ("normalisat"): two there.
  function narrowLegends(node) {
    if (!node || typeof node !== "object") {
      return;
    }
    Object.keys(node).forEach(function (key) {
      var value = node[key];
      if (key === "legend" && value && typeof value === "object" && value.columns > 2) {
        value.columns = 2;
      } else if (value && typeof value === "object") {
        narrowLegends(value);
      }
    });
  }

  // Frontier names on a phone: every other one, without the tag (".a1_in1k"), and most of them
  // to the right of their point (charts.tradeoff_chart's label_split), so none is cut at the
  // plot's edges. The keyboard and the tooltips still give every full id.
  var NARROW_PX = 600;
  function narrowLabels(spec, widthPx) {
    if (!widthPx || widthPx >= NARROW_PX) {
      return;
    }
    narrowLegends({ layer: spec.layer, encoding: spec.encoding }); // not the datasets: large
    var labels = spec.datasets && spec.datasets.frontier_labels;
    if (!labels) {
      return;
    }
    spec.datasets.frontier_labels = labels.filter(function (row, i) { return i % 2 === 0; })
      .map(function (row) { return Object.assign({}, row, { id: String(row.id).split(".")[0] }); });
    (spec.params || []).forEach(function (param) {
      if (param.name === "label_split") {
        param.value = 0.7;
      }
    });
  }

  // Zoom is shift + wheel (the wheel alone scrolls the page), + and - on a focused chart, or a
  // pinch on a touch screen (lb-access.js); a button puts the axes back.
  function addReset(root) {
    var holder = root.parentNode;
    if (!holder || holder.querySelector(".lb-reset[data-for='" + root.getAttribute("data-spec") + "']")) {
      return;
    }
    var button = el("button", { type: "button", class: "lb-reset", "data-for": root.getAttribute("data-spec") },
      "Reset zoom");
    button.addEventListener("click", function () {
      embed(root);
    });
    var touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    var hint = el("span", { class: "lb-chart-hint" }, touch ? "Pinch zooms, drag pans." :
      "Shift + wheel or + / − zoom, drag pans; on the chart, arrow keys step through points.");
    var bar = el("div", { class: "lb-chart-tools" });
    bar.appendChild(hint);
    bar.appendChild(button);
    holder.insertBefore(bar, root.nextSibling);
  }

  function mountCharts() {
    document.querySelectorAll(".lb-chart[data-spec]").forEach(function (root) {
      if (!root.getAttribute("data-ready") && !root.hasAttribute("data-lazy")) {
        embed(root);
      }
    });
  }

  // Lazy charts (trade-offs: 10,000 points a chart) load vega, their data and spec only when
  // they come near the screen; a board section that is hidden never does until it is chosen.
  function loadLazy(root) {
    if (root.getAttribute("data-loading")) {
      return;
    }
    root.setAttribute("data-loading", "true");
    var sources = [root.getAttribute("data-vega-src"), root.getAttribute("data-table-src"),
      root.getAttribute("data-spec-src")]
      .concat((root.getAttribute("data-shared-src") || "").split(" "))
      .filter(function (src) { return src; });
    Promise.all(sources.map(loadScript)).then(function () {
      return embed(root);
    }).catch(function (error) {
      root.setAttribute("data-error", String(error));
      console.error("chart failed:", error);
    });
  }

  function watchLazyCharts() {
    var lazy = document.querySelectorAll(".lb-chart[data-lazy]");
    if (!lazy.length) {
      return;
    }
    if (!("IntersectionObserver" in window)) {
      lazy.forEach(loadLazy);
      return;
    }
    var observer = new IntersectionObserver(function (seen) {
      seen.forEach(function (item) {
        if (item.isIntersecting) {
          observer.unobserve(item.target);
          loadLazy(item.target);
        }
      });
    }, { rootMargin: "300px 0px" });
    lazy.forEach(function (root) { observer.observe(root); });
  }

  // A board picker shows one board's section (?board= keeps the choice in the URL).
  function boardPickers() {
    document.querySelectorAll("select.lb-board-pick").forEach(function (select) {
      var sections = document.querySelectorAll("[data-board-section]");
      var show = function (board) {
        sections.forEach(function (section) {
          section.hidden = section.getAttribute("data-board-section") !== board;
        });
      };
      var wanted = params().get("board");
      if (wanted && select.querySelector("option[value='" + wanted.replace(/'/g, "") + "']")) {
        select.value = wanted;
      }
      show(select.value);
      select.addEventListener("change", function () {
        show(select.value);
        setParams({ board: select.value === select.getAttribute("data-default") ? "" : select.value });
      });
      // a link to a board (#<board>, or a heading inside its section: the table of contents)
      // chooses that board first, so the browser has something shown to scroll to
      var follow = function (hash) {
        var target = hash && hash.length > 1 ? document.getElementById(decodeURIComponent(hash.slice(1))) : null;
        var section = target && target.closest("[data-board-section]");
        if (!section) {
          return;
        }
        var board = section.getAttribute("data-board-section");
        if (select.value !== board) {
          select.value = board;
          show(board);
          setParams({ board: board === select.getAttribute("data-default") ? "" : board });
        }
        target.scrollIntoView({ block: "start" });
      };
      window.addEventListener("hashchange", function () { follow(window.location.hash); });
      document.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest("a[href^='#']");
        if (link && link.getAttribute("href") === window.location.hash) {
          follow(link.getAttribute("href")); // the same hash again fires no hashchange
        }
      });
      follow(window.location.hash);
    });
  }

  // Re-draw charts when the visitor switches between light and dark.
  function watchScheme() {
    var last = darkScheme();
    new MutationObserver(function () {
      var now = darkScheme();
      if (now !== last) {
        last = now;
        document.querySelectorAll(".lb-chart[data-ready='true']").forEach(embed);
      }
    }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
  }

  LB.startCharts = function () {
    boardPickers();
    mountCharts();
    watchLazyCharts();
    watchScheme();
  };
})();
