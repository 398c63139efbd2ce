/* Shared helpers for the site's scripts (window.LB): DOM, URL state, on-demand scripts, links
 * and rows of the table data files. Loaded before every other lb-*.js and leaderboard.js.
 */
(function () {
  "use strict";

  var LB = (window.LB = window.LB || {});

  function missing(value) {
    return value === null || value === undefined || value === "";
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

  // How well an id answers a typed name, best first: 0 the id itself, 1 its architecture (the
  // part before the tag: "resnet50" for resnet50.a1_in1k), 2 an id that starts with it, 3 an id
  // that holds it, -1 none. Tables and Compare put the better answers first.
  function matchRank(id, query) {
    var wanted = normalise(query);
    var text = normalise(id);
    if (!wanted || text.indexOf(wanted) === -1) {
      return -1;
    }
    if (text === wanted) {
      return 0;
    }
    if (normalise(String(id).split(".")[0]) === wanted) {
      return 1;
    }
    return text.indexOf(wanted) === 0 ? 2 : 3;
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

  LB.missing = missing;
  LB.el = el;
  LB.normalise = normalise;
  LB.matchRank = matchRank;
  LB.params = params;
  LB.setParams = setParams;
  LB.loadScript = loadScript;
  LB.hrefOf = hrefOf;
  LB.loadDetails = loadDetails;
})();
