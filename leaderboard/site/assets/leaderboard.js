/* Leaderboard tables and charts, rendered in the browser from data written into the page.
 *
 * Data arrives as <script> files that fill window.LB_TABLES / window.LB_SPECS, so pages work
 * from a web server and from local files alike (fetch() of local files is blocked).
 * Tables are rendered in pages of rows: a 10,000-row server-rendered table takes seconds to
 * load; a page of 50 rows is instant and sorting/filtering run on the arrays.
 *
 * window.LB is the small shared toolkit the other scripts (lb-cost.js, lb-choose.js,
 * lb-compare.js) use: URL state, lazy script loading, chart views and table instances.
 */
(function () {
  "use strict";

  var PAGE_SIZE = 50;
  var LABEL_STEP_TOP1 = 2.0; // charts.LABEL_STEP_TOP1
  var LB = (window.LB = window.LB || {});
  LB.tables = LB.tables || [];
  LB.views = LB.views || {};

  function missing(value) {
    return value === null || value === undefined || value === "";
  }

  function fmt(value, col, row) {
    if (col.type === "cost" && LB.cost) {
      return LB.cost.format(row, col);
    }
    if (missing(value)) {
      return col.missing || "—";
    }
    if (col.type === "num") {
      var digits = col.digits === undefined ? 2 : col.digits;
      if (col.sig) {
        return Number(value).toPrecision(col.sig);
      }
      return Number(value).toFixed(digits);
    }
    return String(value);
  }

  function compare(a, b, numeric) {
    var aMissing = missing(a);
    var bMissing = missing(b);
    if (aMissing || bMissing) {
      return aMissing === bMissing ? 0 : aMissing ? 1 : -1; // missing values sort last
    }
    if (numeric) {
      return a - b;
    }
    return String(a).localeCompare(String(b));
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      node.setAttribute(key, attrs[key]);
    });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  // "ResNet-50" and "resnet50" find the same entries: case, dashes, dots and underscores
  // are not what a visitor means when they type a model name.
  function normalise(text) {
    return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "");
  }

  function uniqueValues(rows, index) {
    var seen = {};
    rows.forEach(function (row) {
      var v = row[index];
      if (!missing(v)) {
        seen[v] = true;
      }
    });
    return Object.keys(seen).sort();
  }

  // --- URL state: what a visitor chose lives in the query string, so it can be shared ------

  function params() {
    return new URLSearchParams(window.location.search);
  }

  function setParams(values) {
    var query = params();
    Object.keys(values).forEach(function (key) {
      var value = values[key];
      if (missing(value)) {
        query.delete(key);
      } else {
        query.set(key, value);
      }
    });
    var text = query.toString();
    window.history.replaceState(null, "", window.location.pathname + (text ? "?" + text : "") +
      window.location.hash);
  }

  // Scripts loaded on demand (a board's data when it is chosen); one request per src.
  var loading = {};
  function loadScript(src) {
    if (!loading[src]) {
      loading[src] = new Promise(function (resolve, reject) {
        var script = el("script", { src: src });
        script.onload = resolve;
        script.onerror = function () {
          reject(new Error("could not load " + src));
        };
        document.head.appendChild(script);
      });
    }
    return loading[src];
  }

  /**
   * A link cell's target: ``col.link`` is a template ("../models/{}.html", the cell's value
   * in place of {}) so board rows need not repeat the path; ``col.href`` indexes a row cell.
   */
  function hrefOf(col, row, index) {
    if (col.link) {
      return col.link.replace("{}", row[index]);
    }
    return row[col.href];
  }

  /**
   * Load a table's detail columns (table.details: {name, src}) and join them to its rows,
   * in place, so the table, its chart and the chooser all see them. Resolves to the table.
   */
  function loadDetails(table, prefix) {
    if (!table.details || table._detailsLoaded) {
      return Promise.resolve(table);
    }
    if (!table._details) {
      table._details = loadScript((prefix || "") + table.details.src).then(function () {
        var extra = (window.LB_TABLES || {})[table.details.name];
        if (!extra || extra.rows.length !== table.rows.length) {
          throw new Error("the detail columns of " + table.details.name + " do not match its rows");
        }
        table.columns = table.columns.concat(extra.columns);
        table.rows.forEach(function (row, i) {
          Array.prototype.push.apply(row, extra.rows[i]);
        });
        table._detailsLoaded = true;
        return table;
      });
    }
    return table._details;
  }

  LB.loadDetails = loadDetails;
  LB.fmt = fmt;
  LB.el = el;
  LB.normalise = normalise;
  LB.params = params;
  LB.setParams = setParams;
  LB.loadScript = loadScript;
  LB.missing = missing;

  // --- tables -------------------------------------------------------------------------------

  function LeaderboardTable(root, table) {
    this.root = root;
    this.name = root.getAttribute("data-table");
    this.table = table;
    this.columns = table.columns;
    this.rows = table.rows;
    this.prefix = root.getAttribute("data-prefix") || "";
    this.resolveCost();
    // Only the page's main table keeps its state in the URL (a page has one such table).
    this.urlState = root.hasAttribute("data-url-state");
    this.defaultSort = table.sort || this.columns[0].key;
    this.defaultDescending = !!table.descending;
    this.sortIndex = this.indexOf(this.defaultSort);
    this.sortDescending = this.defaultDescending;
    this.thenIndex = table.then ? this.indexOf(table.then) : -1;
    this.query = "";
    this.filters = {};
    this.constraints = []; // {index, min, max} set by "Choose a model"
    this.page = 0;
    this.readUrl();
    this.build();
    this.refresh();
  }

  LeaderboardTable.prototype.resolveCost = function () {
    var self = this;
    this.columns.forEach(function (col) {
      if (col.type === "cost") {
        col._of = self.indexOf(col.of); // derived from another column of the same row
      }
    });
  };

  /** Show the detail columns: load them, then draw the table again with every column. */
  LeaderboardTable.prototype.showDetails = function () {
    var self = this;
    var sortKey = this.columns[this.sortIndex].key;
    return loadDetails(this.table, this.prefix).then(function () {
      self.columns = self.table.columns;
      self.sortIndex = self.indexOf(sortKey);
      self.thenIndex = self.table.then ? self.indexOf(self.table.then) : -1;
      self.constraints = self.constraintSpec ? self.resolveConstraints(self.constraintSpec) : [];
      self.root.textContent = "";
      self.build();
      self.refresh();
      return self;
    });
  };

  LeaderboardTable.prototype.indexOf = function (key) {
    for (var i = 0; i < this.columns.length; i++) {
      if (this.columns[i].key === key) {
        return i;
      }
    }
    return -1;
  };

  LeaderboardTable.prototype.readUrl = function () {
    var query = params();
    // ?search= and ?family= work on every table (model pages link with ?family=); not ?q=,
    // which Material's header search takes (it opens the site search with that query)
    this.query = (query.get("search") || "").trim();
    if (!this.urlState) {
      return;
    }
    var sort = this.indexOf(query.get("sort") || "");
    if (sort >= 0) {
      this.sortIndex = sort;
      this.sortDescending = query.get("desc") === "1";
    }
    this.wantDetails = query.get("columns") === "all";
    this.page = Math.max(0, (parseInt(query.get("page"), 10) || 1) - 1);
  };

  LeaderboardTable.prototype.writeUrl = function () {
    if (!this.urlState) {
      return;
    }
    var self = this;
    var sortKey = this.columns[this.sortIndex].key;
    var isDefault = sortKey === this.defaultSort && this.sortDescending === this.defaultDescending;
    var values = {
      search: this.query,
      sort: isDefault ? "" : sortKey,
      desc: isDefault ? "" : this.sortDescending ? "1" : "0",
      page: this.page > 0 ? String(this.page + 1) : "",
      columns: this.table._detailsLoaded ? "all" : "",
    };
    (this.table.filters || []).forEach(function (key) {
      if (self.indexOf(key) >= 0) {
        values[key] = self.filters[self.indexOf(key)] || "";
      }
    });
    setParams(values);
  };

  LeaderboardTable.prototype.pager = function (where) {
    var self = this;
    var pager = el("nav", { class: "lb-pager lb-pager-" + where, "aria-label": "Table pages (" + where + ")" });
    var prev = el("button", { type: "button", class: "lb-prev" }, "‹ previous");
    var next = el("button", { type: "button", class: "lb-next" }, "next ›");
    var label = el("span", { class: "lb-page", "aria-live": where === "top" ? "polite" : "off" });
    prev.addEventListener("click", function () {
      self.goTo(self.page - 1);
    });
    next.addEventListener("click", function () {
      self.goTo(self.page + 1);
    });
    pager.appendChild(prev);
    pager.appendChild(label);
    pager.appendChild(next);
    return { root: pager, prev: prev, next: next, label: label };
  };

  LeaderboardTable.prototype.goTo = function (page) {
    this.page = Math.max(0, Math.min(this.pageCount() - 1, page));
    this.render();
    this.writeUrl();
    // the new page starts at the table's top, not wherever the bottom pager was
    var top = this.root.getBoundingClientRect().top;
    if (top < 0) {
      this.root.scrollIntoView({ block: "start" });
    }
  };

  LeaderboardTable.prototype.build = function () {
    var self = this;
    var controls = el("div", { class: "lb-controls" });
    var search = el("input", {
      type: "search",
      class: "lb-search",
      placeholder: "Search models…",
      "aria-label": "Search models",
    });
    search.value = this.query;
    search.addEventListener("input", function () {
      self.query = search.value.trim();
      self.page = 0;
      self.refresh();
    });
    this.search = search;
    controls.appendChild(search);
    var query = params();
    (this.table.filters || []).forEach(function (key) {
      var index = self.indexOf(key);
      if (index < 0) {
        return; // a detail column, not loaded yet
      }
      var select = el("select", { class: "lb-filter", "data-filter": key, "aria-label": "Filter by " + key });
      select.appendChild(el("option", { value: "" }, self.columns[index].all || "all"));
      var values = uniqueValues(self.rows, index);
      values.forEach(function (value) {
        select.appendChild(el("option", { value: value }, value));
      });
      select.addEventListener("change", function () {
        self.filters[index] = select.value;
        self.page = 0;
        self.refresh();
      });
      // ?family=resnet (from a model page's family link) pre-selects the filter
      var wanted = query.get(key);
      if (wanted && values.indexOf(wanted) !== -1) {
        select.value = wanted;
        self.filters[index] = wanted;
      }
      controls.appendChild(select);
    });
    if (this.table.details && !this.table._detailsLoaded) {
      var more = el("button", { type: "button", class: "lb-more" }, "All columns");
      more.setAttribute("title", "Load the confidence interval, throughput, latency, batch, status, weights, parameters and GMACs");
      more.addEventListener("click", function () {
        more.disabled = true;
        self.showDetails();
      });
      controls.appendChild(more);
    }
    this.count = el("span", { class: "lb-count", role: "status" });
    controls.appendChild(this.count);
    this.root.appendChild(controls);

    this.pagers = [this.pager("top")];
    this.root.appendChild(this.pagers[0].root);

    var wrapper = el("div", { class: "lb-table-wrapper" });
    var tableEl = el("table", { class: "lb-table-el" });
    var caption = el("caption", { class: "lb-sr-only" }, this.table.caption || "Entries");
    tableEl.appendChild(caption);
    var thead = el("thead");
    var headRow = el("tr");
    headRow.appendChild(el("th", { scope: "col", class: "lb-rank", title: "rank in the current order" }, "#"));
    this.headers = this.columns.map(function (col, index) {
      var th = el("th", { scope: "col", "data-key": col.key, class: col.narrow ? "" : "lb-wide-only" });
      // the button is the control, the header cell stays a header (axe: nested-interactive)
      var button = el("button", { type: "button", class: "lb-sort", title: col.help || "Sort by " + col.label });
      button.appendChild(el("span", {}, col.label));
      button.addEventListener("click", function () {
        if (self.sortIndex === index) {
          self.sortDescending = !self.sortDescending;
        } else {
          self.sortIndex = index;
          self.sortDescending = !!col.descending;
        }
        self.refresh();
      });
      th.appendChild(button);
      headRow.appendChild(th);
      return th;
    });
    thead.appendChild(headRow);
    tableEl.appendChild(thead);
    this.tbody = el("tbody");
    tableEl.appendChild(this.tbody);
    wrapper.appendChild(tableEl);
    this.root.appendChild(wrapper);

    this.empty = el("div", { class: "lb-empty", hidden: "" });
    this.root.appendChild(this.empty);

    this.pagers.push(this.pager("bottom"));
    this.root.appendChild(this.pagers[1].root);
    document.addEventListener("lb-cost-change", function () {
      self.render();
    });
  };

  LeaderboardTable.prototype.pageCount = function () {
    return Math.max(1, Math.ceil(this.view.length / PAGE_SIZE));
  };

  /** Keep only rows within [min, max] of a column ("Choose a model"); null lifts a bound. */
  LeaderboardTable.prototype.resolveConstraints = function (constraints) {
    var self = this;
    return constraints.map(function (c) {
      return { index: self.indexOf(c.key), min: c.min, max: c.max };
    }).filter(function (c) { return c.index >= 0 && (c.min !== null || c.max !== null); });
  };

  LeaderboardTable.prototype.constrain = function (constraints, sortKey) {
    this.constraintSpec = constraints;
    this.constraints = this.resolveConstraints(constraints);
    if (sortKey && this.indexOf(sortKey) >= 0) {
      this.sortIndex = this.indexOf(sortKey);
      this.sortDescending = false;
    }
    this.page = 0;
    this.refresh();
  };

  LeaderboardTable.prototype.refresh = function () {
    var self = this;
    var query = normalise(this.query);
    var searchIndexes = this.columns
      .map(function (col, i) { return col.searchable ? i : -1; })
      .filter(function (i) { return i >= 0; });
    var filters = Object.keys(this.filters).filter(function (i) { return self.filters[i]; });
    var constraints = this.constraints;
    this.view = this.rows.filter(function (row) {
      for (var f = 0; f < filters.length; f++) {
        if (String(row[filters[f]]) !== self.filters[filters[f]]) {
          return false;
        }
      }
      for (var c = 0; c < constraints.length; c++) {
        var value = row[constraints[c].index];
        if (constraints[c].min !== null && !(value >= constraints[c].min)) {
          return false;
        }
        if (constraints[c].max !== null && !(value <= constraints[c].max)) {
          return false;
        }
      }
      if (!query) {
        return true;
      }
      for (var s = 0; s < searchIndexes.length; s++) {
        var v = row[searchIndexes[s]];
        if (v && normalise(v).indexOf(query) !== -1) {
          return true;
        }
      }
      return false;
    });
    var index = this.sortIndex;
    if (this.columns[index].type === "cost") {
      index = this.columns[index]._of; // cost and carbon rank as the energy they come from
    }
    var numeric = this.columns[index].type === "num";
    var direction = this.sortDescending ? -1 : 1;
    var then = this.thenIndex;
    this.view.sort(function (a, b) {
      if (missing(a[index]) || missing(b[index])) {
        return compare(a[index], b[index], numeric); // missing last in both directions
      }
      var order = direction * compare(a[index], b[index], numeric);
      if (order === 0 && then >= 0) {
        // ties (ninety tier-A entries share score 100) go to the more accurate entry
        order = -compare(a[then], b[then], true);
      }
      return order;
    });
    this.headers.forEach(function (th, i) {
      th.setAttribute("aria-sort", i === self.sortIndex ? (self.sortDescending ? "descending" : "ascending") : "none");
    });
    this.page = Math.min(this.page, this.pageCount() - 1);
    this.render();
    this.writeUrl();
  };

  LeaderboardTable.prototype.render = function () {
    var self = this;
    var start = this.page * PAGE_SIZE;
    var slice = this.view.slice(start, start + PAGE_SIZE);
    var body = document.createDocumentFragment();
    slice.forEach(function (row, offset) {
      var tr = el("tr");
      tr.appendChild(el("td", { class: "lb-rank lb-num" }, String(start + offset + 1)));
      self.columns.forEach(function (col, i) {
        var td = el("td", { "data-key": col.key });
        var text = fmt(row[i], col, row);
        var href = col.type === "link" ? hrefOf(col, row, i) : undefined;
        if (href !== undefined) {
          td.appendChild(el("a", { href: href }, text));
        } else if (col.type === "tier" && row[i]) {
          td.appendChild(el("span", { class: "lb-tier lb-tier-" + row[i] }, text));
        } else {
          td.textContent = text;
          if (missing(row[i]) && col.type !== "cost") {
            td.className = "lb-missing";
          }
        }
        if (col.type === "num" || col.type === "cost") {
          td.className += " lb-num";
        }
        if (!col.narrow) {
          td.className += " lb-wide-only";
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    this.tbody.textContent = "";
    this.tbody.appendChild(body);
    this.renderEmpty();
    this.count.textContent = this.view.length + " of " + this.rows.length + " entries";
    var pages = this.pageCount();
    this.pagers.forEach(function (pager) {
      pager.label.textContent = "page " + (self.page + 1) + " of " + pages;
      pager.prev.disabled = self.page === 0;
      pager.next.disabled = self.page >= pages - 1;
      pager.root.hidden = pages <= 1 && pager.root.classList.contains("lb-pager-top");
    });
    this.root.setAttribute("data-ready", "true");
  };

  LeaderboardTable.prototype.renderEmpty = function () {
    var self = this;
    this.empty.textContent = "";
    if (this.view.length) {
      this.empty.hidden = true;
      return;
    }
    this.empty.hidden = false;
    var what = this.query ? "No entry matches “" + this.query + "”" : "No entry matches";
    if (this.constraints.length) {
      what += this.query ? " and the choice above" : " the choice above";
    }
    this.empty.appendChild(el("p", {}, what + "."));
    var clear = el("button", { type: "button", class: "lb-clear" }, "Clear the search and filters");
    clear.addEventListener("click", function () {
      self.query = "";
      self.search.value = "";
      self.filters = {};
      self.root.querySelectorAll("select.lb-filter").forEach(function (select) {
        select.value = "";
      });
      self.page = 0;
      self.refresh();
    });
    this.empty.appendChild(clear);
  };

  function mountTables() {
    var tables = window.LB_TABLES || {};
    document.querySelectorAll(".lb-table[data-table]").forEach(function (root) {
      var table = tables[root.getAttribute("data-table")];
      if (table && !root.getAttribute("data-ready")) {
        var instance = new LeaderboardTable(root, table);
        LB.tables.push(instance);
        if (instance.wantDetails) {
          instance.showDetails();
        }
      }
    });
  }

  LB.table = function (name) {
    for (var i = 0; i < LB.tables.length; i++) {
      if (LB.tables[i].name === name) {
        return LB.tables[i];
      }
    }
    return null;
  };

  // --- charts -------------------------------------------------------------------------------

  function darkScheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  // Vega config for the page's colour scheme: axis, legend and title text readable on both.
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

  /**
   * Rows of a table as chart data: one object per row, keyed by column key, with ``url`` from
   * the link column. With ``prefix``, links are rewritten relative to the page the data is
   * shown on (a board's rows link from leaderboard/, the home page links from the root).
   */
  function tableRecords(table, prefix) {
    var keys = table.columns.map(function (col) { return col.key; });
    var linkIndex = -1;
    table.columns.forEach(function (col, i) {
      if (col.type === "link") {
        linkIndex = i;
      }
    });
    return table.rows.map(function (row) {
      var record = {};
      keys.forEach(function (key, i) { record[key] = row[i]; });
      if (linkIndex >= 0) {
        record.url = hrefOf(table.columns[linkIndex], row, linkIndex);
        if (record.url && prefix !== undefined && prefix !== null) {
          record.url = prefix + record.url.replace(/^(\.\.\/)+/, "");
        }
      }
      return record;
    });
  }
  LB.tableRecords = tableRecords;

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
      spec = withTableData(spec, table, root.getAttribute("data-prefix") || "");
    }
    spec = JSON.parse(JSON.stringify(spec));
    spec.config = Object.assign({}, spec.config || {}, themeConfig());
    root.removeAttribute("data-ready");
    root.setAttribute("data-scheme", darkScheme() ? "dark" : "light");
    return window
      .vegaEmbed(root, spec, {
        renderer: "canvas",
        actions: { export: true, source: false, compiled: false, editor: false },
        loader: { target: "_self" },
        // an empty layer (no threshold chosen yet) makes vega warn about infinite extents
        logLevel: 1,
      })
      .then(function (result) {
        LB.views[name] = result.view;
        // vega-embed's export menu is a <summary> holding only an icon: give it a name
        root.querySelectorAll("details > summary").forEach(function (summary) {
          summary.setAttribute("aria-label", "Export this chart");
          summary.setAttribute("title", "Export this chart");
        });
        root.setAttribute("data-ready", "true");
        addReset(root);
        document.dispatchEvent(new CustomEvent("lb-chart-ready", { detail: { name: name, view: result.view } }));
        return result.view;
      })
      .catch(function (error) {
        root.setAttribute("data-error", String(error));
        console.error("chart failed:", error);
      });
  }
  LB.embed = embed;

  // Zoom is shift + wheel (the wheel alone scrolls the page); a button puts the axes back.
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
    var hint = el("span", { class: "lb-chart-hint" }, "Shift + wheel zooms, drag pans.");
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
      root.getAttribute("data-spec-src")].filter(function (src) { return src; });
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

  // Material's search dialog has no accessible name (axe: aria-dialog-name).
  function nameSearchDialog() {
    document.querySelectorAll(".md-search[role='dialog']:not([aria-label])").forEach(function (dialog) {
      dialog.setAttribute("aria-label", "Search the site");
    });
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy-target"));
        if (target && navigator.clipboard) {
          navigator.clipboard.writeText(target.textContent);
        }
      });
    });
  }

  function start() {
    mountTables();
    boardPickers();
    mountCharts();
    watchLazyCharts();
    copyButtons();
    nameSearchDialog();
    watchScheme();
    LB.started = true;
    document.dispatchEvent(new CustomEvent("lb-ready"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
