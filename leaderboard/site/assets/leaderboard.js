/* Leaderboard tables and charts, rendered in the browser from data written into the page.
 *
 * Data arrives as <script> files that fill window.LB_TABLES / window.LB_SPECS, so pages work
 * from a web server and from local files alike (fetch() of local files is blocked).
 * Tables are rendered in pages of rows: a 10,000-row server-rendered table takes seconds to
 * load; a page of 50 rows is instant and sorting/filtering run on the arrays.
 */
(function () {
  "use strict";

  var PAGE_SIZE = 50;

  function fmt(value, col) {
    if (value === null || value === undefined || value === "") {
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
    var aMissing = a === null || a === undefined || a === "";
    var bMissing = b === null || b === undefined || b === "";
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

  function uniqueValues(rows, index) {
    var seen = {};
    rows.forEach(function (row) {
      var v = row[index];
      if (v !== null && v !== undefined && v !== "") {
        seen[v] = true;
      }
    });
    return Object.keys(seen).sort();
  }

  function LeaderboardTable(root, table) {
    this.root = root;
    this.table = table;
    this.columns = table.columns;
    this.rows = table.rows;
    this.sortIndex = this.indexOf(table.sort || this.columns[0].key);
    this.sortDescending = !!table.descending;
    this.query = "";
    this.filters = {};
    this.page = 0;
    this.build();
    this.refresh();
  }

  LeaderboardTable.prototype.indexOf = function (key) {
    for (var i = 0; i < this.columns.length; i++) {
      if (this.columns[i].key === key) {
        return i;
      }
    }
    return 0;
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
    search.addEventListener("input", function () {
      self.query = search.value.trim().toLowerCase();
      self.page = 0;
      self.refresh();
    });
    controls.appendChild(search);
    (this.table.filters || []).forEach(function (key) {
      var index = self.indexOf(key);
      var select = el("select", { class: "lb-filter", "data-filter": key, "aria-label": "Filter by " + key });
      select.appendChild(el("option", { value: "" }, self.columns[index].all || "all"));
      uniqueValues(self.rows, index).forEach(function (value) {
        select.appendChild(el("option", { value: value }, value));
      });
      select.addEventListener("change", function () {
        self.filters[index] = select.value;
        self.page = 0;
        self.refresh();
      });
      // ?family=resnet (from a model page's family link) pre-selects the filter
      var wanted = new URLSearchParams(window.location.search).get(key);
      if (wanted && uniqueValues(self.rows, index).indexOf(wanted) !== -1) {
        select.value = wanted;
        self.filters[index] = wanted;
      }
      controls.appendChild(select);
    });
    this.count = el("span", { class: "lb-count" });
    controls.appendChild(this.count);
    this.root.appendChild(controls);

    var wrapper = el("div", { class: "lb-table-wrapper" });
    var tableEl = el("table", { class: "lb-table-el" });
    var thead = el("thead");
    var headRow = el("tr");
    this.headers = this.columns.map(function (col, index) {
      var th = el("th", { scope: "col", "data-key": col.key, tabindex: "0", title: col.help || "" });
      th.appendChild(el("span", {}, col.label));
      var activate = function () {
        if (self.sortIndex === index) {
          self.sortDescending = !self.sortDescending;
        } else {
          self.sortIndex = index;
          self.sortDescending = !!col.descending;
        }
        self.refresh();
      };
      th.addEventListener("click", activate);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          activate();
        }
      });
      headRow.appendChild(th);
      return th;
    });
    thead.appendChild(headRow);
    tableEl.appendChild(thead);
    this.tbody = el("tbody");
    tableEl.appendChild(this.tbody);
    wrapper.appendChild(tableEl);
    this.root.appendChild(wrapper);

    var pager = el("div", { class: "lb-pager" });
    this.prev = el("button", { type: "button", class: "lb-prev" }, "‹ previous");
    this.next = el("button", { type: "button", class: "lb-next" }, "next ›");
    this.pageLabel = el("span", { class: "lb-page" });
    this.prev.addEventListener("click", function () {
      self.page = Math.max(0, self.page - 1);
      self.render();
    });
    this.next.addEventListener("click", function () {
      self.page = Math.min(self.pageCount() - 1, self.page + 1);
      self.render();
    });
    pager.appendChild(this.prev);
    pager.appendChild(this.pageLabel);
    pager.appendChild(this.next);
    this.root.appendChild(pager);
  };

  LeaderboardTable.prototype.pageCount = function () {
    return Math.max(1, Math.ceil(this.view.length / PAGE_SIZE));
  };

  LeaderboardTable.prototype.refresh = function () {
    var self = this;
    var query = this.query;
    var searchIndexes = this.columns
      .map(function (col, i) { return col.searchable ? i : -1; })
      .filter(function (i) { return i >= 0; });
    var filters = Object.keys(this.filters).filter(function (i) { return self.filters[i]; });
    this.view = this.rows.filter(function (row) {
      for (var f = 0; f < filters.length; f++) {
        if (String(row[filters[f]]) !== self.filters[filters[f]]) {
          return false;
        }
      }
      if (!query) {
        return true;
      }
      for (var s = 0; s < searchIndexes.length; s++) {
        var v = row[searchIndexes[s]];
        if (v && String(v).toLowerCase().indexOf(query) !== -1) {
          return true;
        }
      }
      return false;
    });
    var index = this.sortIndex;
    var numeric = this.columns[index].type === "num";
    var direction = this.sortDescending ? -1 : 1;
    this.view.sort(function (a, b) {
      var aMissing = a[index] === null || a[index] === undefined || a[index] === "";
      var bMissing = b[index] === null || b[index] === undefined || b[index] === "";
      if (aMissing || bMissing) {
        return compare(a[index], b[index], numeric); // missing last in both directions
      }
      return direction * compare(a[index], b[index], numeric);
    });
    this.headers.forEach(function (th, i) {
      th.setAttribute("aria-sort", i === index ? (self.sortDescending ? "descending" : "ascending") : "none");
    });
    this.page = Math.min(this.page, this.pageCount() - 1);
    this.render();
  };

  LeaderboardTable.prototype.render = function () {
    var self = this;
    var start = this.page * PAGE_SIZE;
    var slice = this.view.slice(start, start + PAGE_SIZE);
    var body = document.createDocumentFragment();
    slice.forEach(function (row) {
      var tr = el("tr");
      self.columns.forEach(function (col, i) {
        var td = el("td", { "data-key": col.key });
        var text = fmt(row[i], col);
        if (col.type === "link" && row[col.href] !== undefined) {
          var a = el("a", { href: row[col.href] }, text);
          td.appendChild(a);
        } else if (col.type === "tier" && row[i]) {
          td.appendChild(el("span", { class: "lb-tier lb-tier-" + row[i] }, text));
        } else {
          td.textContent = text;
          if (row[i] === null || row[i] === undefined) {
            td.className = "lb-missing";
          }
        }
        if (col.type === "num") {
          td.className += " lb-num";
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    this.tbody.textContent = "";
    this.tbody.appendChild(body);
    this.count.textContent = this.view.length + " of " + this.rows.length + " entries";
    this.pageLabel.textContent = "page " + (this.page + 1) + " of " + this.pageCount();
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= this.pageCount() - 1;
    this.root.setAttribute("data-ready", "true");
  };

  function mountTables() {
    var tables = window.LB_TABLES || {};
    document.querySelectorAll(".lb-table[data-table]").forEach(function (root) {
      var table = tables[root.getAttribute("data-table")];
      if (table && !root.getAttribute("data-ready")) {
        new LeaderboardTable(root, table);
      }
    });
  }

  function mountCharts() {
    var specs = window.LB_SPECS || {};
    document.querySelectorAll(".lb-chart[data-spec]").forEach(function (root) {
      var spec = specs[root.getAttribute("data-spec")];
      if (!spec || typeof window.vegaEmbed !== "function" || root.getAttribute("data-ready")) {
        return;
      }
      window
        .vegaEmbed(root, spec, {
          renderer: "canvas",
          actions: { export: true, source: false, compiled: false, editor: false },
          loader: { target: "_self" },
        })
        .then(function () {
          root.setAttribute("data-ready", "true");
        })
        .catch(function (error) {
          root.setAttribute("data-error", String(error));
          console.error("chart failed:", error);
        });
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
    mountCharts();
    copyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
