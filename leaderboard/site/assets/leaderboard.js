/* Leaderboard tables and charts, rendered in the browser from data written into the page.
 *
 * Data arrives as <script> files that fill window.LB_TABLES / window.LB_SPECS, so pages work
 * from a web server and from local files alike (fetch() of local files is blocked).
 * Tables are rendered in pages of rows: a 10,000-row server-rendered table takes seconds to
 * load; a page of 50 rows is instant and sorting/filtering run on the arrays.
 *
 * window.LB is the small shared toolkit the other scripts (lb-cost.js, lb-plots.js,
 * lb-choose.js, lb-compare.js) use: URL state, lazy script loading and table instances.
 */
(function () {
  "use strict";

  var PAGE_SIZE = 50;
  var LB = (window.LB = window.LB || {});
  LB.tables = LB.tables || [];
  // from lb-util.js
  var missing = LB.missing;
  var el = LB.el;
  var normalise = LB.normalise;
  var params = LB.params;
  var setParams = LB.setParams;
  var hrefOf = LB.hrefOf;
  var loadDetails = LB.loadDetails;

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

  LB.fmt = fmt;

  /** A filter's options: in the column's own order (size classes smallest first) where it
   * gives one, else sorted; only values some row has. */
  function filterValues(col, values) {
    if (!col.values) {
      return values;
    }
    return col.values.filter(function (value) { return values.indexOf(value) !== -1; });
  }

  // --- "Download this view": the filtered, sorted rows as CSV --------------------------------

  /** A CSV cell: quoted where needed; text that a spreadsheet would run as a formula is
   * prefixed with ' (names and families come from contributors). */
  function csvCell(value) {
    if (missing(value)) {
      return "";
    }
    var text = String(value);
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) {
      text = "'" + text;
    }
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  /** The data version the page is stamped with (its footer), or "unknown". */
  function dataVersion() {
    var stamp = document.querySelector(".lb-data-version");
    var match = stamp && /Data version (\S+)/.exec(stamp.textContent);
    return match ? match[1] : "unknown";
  }

  /** The table's current view (search, filters, sort) as CSV text; every loaded column, raw
   * numbers (costs as shown, at the page's settings), with what the view is in its header. */
  function viewCsv(table) {
    var cols = table.columns;
    var sortCol = cols[table.sortIndex];
    var chosen = Object.keys(table.filters).filter(function (i) { return table.filters[i]; })
      .map(function (i) { return cols[i].key + "=" + table.filters[i]; });
    if (table.query) {
      chosen.unshift('search "' + table.query + '"');
    }
    var lines = [
      "# " + (table.table.caption || "Entries") + "; data version " + dataVersion(),
      "# " + table.view.length + " of " + table.rows.length + " rows; " +
        (chosen.length ? "filtered by " + chosen.join(", ") : "no filter") + "; sorted by " +
        sortCol.key + (table.sortDescending ? " (descending)" : " (ascending)") + "; " +
        location.href.split("#")[0],
      cols.map(function (col) { return csvCell(col.key); }).join(","),
    ];
    table.view.forEach(function (row) {
      lines.push(cols.map(function (col, i) {
        return csvCell(col.type === "cost" ? fmt(row[i], col, row) : row[i]);
      }).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }
  LB.viewCsv = viewCsv;

  function downloadButton(table) {
    var button = el("button", { type: "button", class: "lb-download" }, "Download this view");
    button.setAttribute("title", "The rows as filtered and sorted now, as CSV, with the data version");
    button.addEventListener("click", function () {
      var blob = new Blob([viewCsv(table)], { type: "text/csv;charset=utf-8" });
      var link = el("a", { href: URL.createObjectURL(blob), download: (table.name || "entries") + "-view.csv" });
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
    });
    return button;
  }

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
      var values = filterValues(self.columns[index], uniqueValues(self.rows, index));
      var labels = self.columns[index].value_labels || {}; // e.g. a size class's edges
      values.forEach(function (value) {
        select.appendChild(el("option", { value: value }, labels[value] || value));
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
    controls.appendChild(downloadButton(this));
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
    // a search puts the entry named exactly first, then its architecture's entries, then the
    // ids that start with the words typed, each group in the chosen order
    var idIndex = this.indexOf("id");
    var rank = function (row) {
      var r = idIndex >= 0 ? LB.matchRank(row[idIndex], query) : -1;
      return r < 0 ? 4 : r;
    };
    var ranks = query ? new Map(this.view.map(function (row) { return [row, rank(row)]; })) : null;
    this.view.sort(function (a, b) {
      if (ranks && ranks.get(a) !== ranks.get(b)) {
        return ranks.get(a) - ranks.get(b);
      }
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

  // Material's search dialog has no accessible name (axe: aria-dialog-name).
  function nameSearchDialog() {
    document.querySelectorAll(".md-search[role='dialog']:not([aria-label])").forEach(function (dialog) {
      dialog.setAttribute("aria-label", "Search the site");
    });
  }

  // A box that scrolls sideways (a wide table on a phone) must be reachable by keyboard to be
  // scrolled without a pointer (axe: scrollable-region-focusable); it is named after its table.
  function focusableScrollBoxes() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var caption = box.querySelector("caption");
        var heading = box.previousElementSibling;
        while (heading && !/^H[1-6]$/.test(heading.tagName)) {
          heading = heading.previousElementSibling;
        }
        var name = caption ? caption.textContent : heading ? heading.textContent.replace(/¶$/, "") : "Table";
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", name.trim() + " (scrolls)");
      }
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
    if (LB.startCharts) {
      LB.startCharts(); // lb-plots.js: before "lb-ready", so the chooser finds them mounting
    }
    copyButtons();
    nameSearchDialog();
    focusableScrollBoxes();
    window.addEventListener("resize", focusableScrollBoxes);
    LB.started = true;
    document.dispatchEvent(new CustomEvent("lb-ready"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
