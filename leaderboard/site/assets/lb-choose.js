/* "Choose a model": the cheapest entries that reach a minimum top-1 (and optionally stay under
 * a J/image or latency ceiling) on one board, with what they cost.
 *
 * The answer is computed from the board's table data (window.LB_TABLES[name], the same rows the
 * table and chart draw), so answer, table and chart cannot disagree. It drives the table
 * (LeaderboardTable.constrain) and the chart (vega signals min_top1 and answer_id), and the
 * choice lives in the URL (?top1=&maxj=&maxms=&board=) so an answer can be shared.
 *
 * Mount: <div class="lb-choose" data-boards='[...]' data-board="hw--scenario"
 *        data-mode="board|home" data-chart="spec name"></div>
 */
(function () {
  "use strict";

  var LB = (window.LB = window.LB || {});
  var ANSWERS = 3;

  function number(value) {
    var parsed = parseFloat(value);
    return isFinite(parsed) ? parsed : null;
  }

  function records(tableName, prefix) {
    var table = (window.LB_TABLES || {})[tableName];
    return table ? LB.tableRecords(table, prefix) : null;
  }

  /**
   * The scored entries meeting the choice, cheapest first (ties: the more accurate first).
   * Exposed as LB.choose.answer for the browser tests to compare with the records.
   */
  function answer(rows, choice) {
    var scored = rows.filter(function (r) {
      return !LB.missing(r.energy_j) && !LB.missing(r.tier);
    });
    var meeting = scored.filter(function (r) {
      return (choice.top1 === null || r.top1 >= choice.top1) &&
        (choice.maxj === null || r.energy_j <= choice.maxj) &&
        (choice.maxms === null || (!LB.missing(r.latency_ms) && r.latency_ms <= choice.maxms));
    });
    meeting.sort(function (a, b) {
      return a.energy_j - b.energy_j || b.top1 - a.top1;
    });
    var best = null;
    scored.forEach(function (r) {
      if (!best || r.top1 > best.top1 || (r.top1 === best.top1 && r.energy_j < best.energy_j)) {
        best = r;
      }
    });
    return { entries: meeting, mostAccurate: best, scored: scored.length };
  }

  function field(form, key, label, attrs, value) {
    var id = "lb-choose-" + key;
    var wrap = LB.el("span", { class: "lb-choose-field" });
    wrap.appendChild(LB.el("label", { for: id, title: label }, label));
    var input = LB.el("input", Object.assign({ type: "number", id: id, name: key, inputmode: "decimal" }, attrs));
    if (value !== null) {
      input.value = String(value);
    }
    wrap.appendChild(input);
    form.appendChild(wrap);
    return input;
  }

  function select(form, key, label, options, value) {
    var id = "lb-choose-" + key;
    // a select is as wide as two number fields: hardware names are longer than numbers
    var wrap = LB.el("span", { class: "lb-choose-field lb-choose-field-select" });
    wrap.appendChild(LB.el("label", { for: id }, label));
    var node = LB.el("select", { id: id, name: key });
    options.forEach(function (option) {
      var o = LB.el("option", { value: option.value }, option.label);
      if (option.value === value) {
        o.selected = true;
      }
      node.appendChild(o);
    });
    wrap.appendChild(node);
    form.appendChild(wrap);
    return node;
  }

  function unique(values) {
    return values.filter(function (v, i) { return values.indexOf(v) === i; });
  }

  function Chooser(root) {
    this.root = root;
    this.boards = JSON.parse(root.getAttribute("data-boards"));
    this.mode = root.getAttribute("data-mode") || "board";
    this.chartName = root.getAttribute("data-chart") || "";
    var query = LB.params();
    var wanted = query.get("board");
    this.board = this.find(this.mode === "home" && wanted ? wanted : root.getAttribute("data-board")) ||
      this.find(root.getAttribute("data-board"));
    this.choice = { top1: number(query.get("top1")), maxj: number(query.get("maxj")), maxms: number(query.get("maxms")) };
    this.build();
    this.switchBoard(this.board, true);
  }

  Chooser.prototype.find = function (key) {
    for (var i = 0; i < this.boards.length; i++) {
      if (this.boards[i].board === key) {
        return this.boards[i];
      }
    }
    return null;
  };

  Chooser.prototype.build = function () {
    var self = this;
    var form = LB.el("form", { class: "lb-choose-form", "aria-label": "Choose a model" });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    this.inputs = {
      top1: field(form, "top1", "Min top-1 %", { min: "0", max: "100", step: "0.1", placeholder: "e.g. 80" }, this.choice.top1),
      maxj: field(form, "maxj", "Max J/image", { min: "0", step: "any", placeholder: "any" }, this.choice.maxj),
      maxms: field(form, "maxms", "Max ms/batch", { min: "0", step: "any", placeholder: "any" }, this.choice.maxms),
    };
    var hardware = unique(this.boards.map(function (b) { return b.hardware; }));
    this.hardware = select(form, "hardware", "Hardware", hardware.map(function (h) {
      var board = self.boards.filter(function (b) { return b.hardware === h; })[0];
      return { value: h, label: board.hardware_title };
    }), this.board.hardware);
    this.scenario = select(form, "scenario", "Scenario", [], "");
    this.fillScenarios(this.board.hardware, this.board.scenario);
    Object.keys(this.inputs).forEach(function (key) {
      self.inputs[key].addEventListener("input", function () {
        self.choice[key] = number(self.inputs[key].value);
        self.withLatency().then(function () { self.update(); });
      });
    });
    var pick = function () {
      var board = null;
      self.boards.forEach(function (b) {
        if (b.hardware === self.hardware.value && b.scenario === self.scenario.value) {
          board = b;
        }
      });
      board = board || self.boards.filter(function (b) { return b.hardware === self.hardware.value; })[0];
      self.switchBoard(board, false);
    };
    this.hardware.addEventListener("change", function () {
      self.fillScenarios(self.hardware.value, self.scenario.value);
      pick();
    });
    this.scenario.addEventListener("change", pick);
    this.root.appendChild(form);
    this.output = LB.el("div", { class: "lb-answer", "aria-live": "polite" });
    this.root.appendChild(this.output);
  };

  Chooser.prototype.fillScenarios = function (hardware, wanted) {
    var self = this;
    this.scenario.textContent = "";
    this.boards.filter(function (b) { return b.hardware === hardware; }).forEach(function (b) {
      var option = LB.el("option", { value: b.scenario }, b.scenario);
      if (b.scenario === wanted) {
        option.selected = true;
      }
      self.scenario.appendChild(option);
    });
  };

  /** A latency ceiling needs the board's detail columns (latency is one): load them first. */
  Chooser.prototype.withLatency = function () {
    var data = (window.LB_TABLES || {})[this.board.table];
    if (this.choice.maxms === null || !data || !data.details || data._detailsLoaded) {
      return Promise.resolve();
    }
    var table = LB.table(this.board.table);
    if (table) {
      return table.showDetails(); // the table shows the latency it filters on
    }
    return LB.loadDetails(data, this.root.getAttribute("data-prefix") || "");
  };

  Chooser.prototype.query = function () {
    var c = this.choice;
    var text = (c.top1 === null ? "" : "top1=" + c.top1) + (c.maxj === null ? "" : "&maxj=" + c.maxj) +
      (c.maxms === null ? "" : "&maxms=" + c.maxms);
    return text.replace(/^&/, "");
  };

  Chooser.prototype.switchBoard = function (board, first) {
    var self = this;
    if (this.mode === "board" && !first && board.board !== this.board.board) {
      // every board has its own page: go there with the same choice
      var query = this.query();
      window.location.href = board.page + (query ? "?" + query : "");
      return;
    }
    this.board = board;
    this.root.setAttribute("data-board", board.board);
    this.root.removeAttribute("data-ready");
    var ready = (window.LB_TABLES || {})[board.table] ? Promise.resolve() : LB.loadScript(board.src);
    ready.then(function () {
      return self.withLatency();
    }).then(function () {
      if (self.mode === "home") {
        self.redrawChart();
      }
      self.update();
    }).catch(function (error) {
      self.output.textContent = "The data of " + board.title + " could not be loaded: " + error.message;
      self.root.setAttribute("data-error", String(error));
    });
  };

  Chooser.prototype.redrawChart = function () {
    var mount = document.querySelector(".lb-chart[data-spec='" + this.chartName + "']");
    document.querySelectorAll("[data-board-title]").forEach(function (node) {
      node.textContent = this.board.title;
    }, this);
    if (mount && mount.getAttribute("data-table") !== this.board.table) {
      mount.setAttribute("data-table", this.board.table);
      LB.embed(mount);
    }
  };

  Chooser.prototype.update = function () {
    var rows = records(this.board.table, this.root.getAttribute("data-prefix") || "");
    if (!rows) {
      return;
    }
    var result = answer(rows, this.choice);
    this.result = result;
    var values = { top1: this.choice.top1, maxj: this.choice.maxj, maxms: this.choice.maxms };
    if (this.mode === "home") {
      values.board = this.board.board === this.root.getAttribute("data-default-board") ? "" : this.board.board;
    }
    LB.setParams(values);
    this.render(result);
    this.driveTable();
    this.driveChart(result);
    this.root.setAttribute("data-ready", "true");
  };

  Chooser.prototype.chosen = function () {
    var c = this.choice;
    return c.top1 !== null || c.maxj !== null || c.maxms !== null;
  };

  Chooser.prototype.driveTable = function () {
    var table = LB.table(this.board.table);
    if (!table) {
      return;
    }
    var c = this.choice;
    if (this.chosen()) {
      table.constrain([{ key: "top1", min: c.top1, max: null }, { key: "energy_j", min: null, max: c.maxj },
        { key: "latency_ms", min: null, max: c.maxms }], "energy_j");
    } else if (table.constraints.length) {
      table.constrain([], null);
    }
  };

  Chooser.prototype.driveChart = function (result) {
    var self = this;
    var view = LB.views[this.chartName];
    if (!view) {
      if (!this.waiting) {
        this.waiting = true;
        document.addEventListener("lb-chart-ready", function (event) {
          if (event.detail.name === self.chartName && self.result) {
            self.driveChart(self.result);
          }
        });
      }
      return;
    }
    var top = result.entries[0];
    try {
      view.signal("min_top1", this.choice.top1 === null ? 0 : this.choice.top1);
      view.signal("answer_id", this.chosen() && top ? top.id : "");
      view.runAsync();
    } catch (error) {
      // a chart without the signals (an older spec) still draws; it is just not driven
    }
  };

  function pct(value) {
    return Number(value).toFixed(2) + "\u00a0%";  // no line break before the sign
  }

  Chooser.prototype.render = function (result) {
    var out = this.output;
    out.textContent = "";
    var c = this.choice;
    if (!this.chosen()) {
      out.appendChild(LB.el("p", { class: "lb-answer-hint" },
        "Type the top-1 you need: the cheapest entries on " + this.board.title +
        " that reach it appear here; chart and table follow."));
      return;
    }
    var parts = [];
    if (c.top1 !== null) { parts.push("at least " + c.top1 + " % top-1"); }
    if (c.maxj !== null) { parts.push("at most " + c.maxj + " J/image"); }
    if (c.maxms !== null) { parts.push("at most " + c.maxms + " ms per batch"); }
    var heading = LB.el("p", { class: "lb-answer-title" });
    heading.appendChild(document.createTextNode("For " + parts.join(", ") + " on " + this.board.title + ": "));
    if (!result.entries.length) {
      heading.appendChild(LB.el("strong", {}, "no measured entry qualifies"));
      heading.appendChild(document.createTextNode(
        result.mostAccurate ? " (the most accurate here reaches " + pct(result.mostAccurate.top1) + ")." : "."));
      out.appendChild(heading);
      return;
    }
    heading.appendChild(LB.el("strong", {}, result.entries.length.toLocaleString("en-US") + " of " +
      result.scored.toLocaleString("en-US") + " entries qualify"));
    heading.appendChild(document.createTextNode("; the cheapest:"));
    out.appendChild(heading);
    var list = LB.el("ol", { class: "lb-answer-list" });
    var best = result.mostAccurate;
    result.entries.slice(0, ANSWERS).forEach(function (r, i) {
      var item = LB.el("li", { class: "lb-answer-item", "data-id": r.id });
      var link = LB.el("a", { href: r.url, class: "lb-answer-id" }, r.id);
      item.appendChild(link);
      var facts = LB.el("span", { class: "lb-answer-facts" });
      facts.appendChild(LB.el("span", { class: "lb-answer-energy" }, Number(r.energy_j).toPrecision(3) + " J/image"));
      facts.appendChild(document.createTextNode(" · " + pct(r.top1) + " top-1 · "));
      facts.appendChild(LB.el("span", { class: "lb-tier lb-tier-" + r.tier }, r.tier));
      if (!LB.missing(r.vs_resnet50)) {
        facts.appendChild(document.createTextNode(" · " + Number(r.vs_resnet50).toFixed(2) + "× ResNet-50"));
      }
      item.appendChild(facts);
      if (LB.cost) {
        var money = LB.cost.perMillion(r.energy_j);
        item.appendChild(LB.el("span", { class: "lb-answer-cost" },
          "per million images: " + LB.cost.formatUnit(money, "kwh") + " kWh, " +
          LB.cost.formatUnit(money, "co2") + " kg CO₂e, " + LB.cost.formatUnit(money, "money") + " " +
          LB.cost.currency));
      }
      if (i === 0 && best && best.id !== r.id && best.energy_j > 0) {
        var saving = 1 - r.energy_j / best.energy_j;
        item.appendChild(LB.el("span", { class: "lb-answer-saving" },
          (saving >= 0 ? Math.round(saving * 1000) / 10 + " % less energy than" : "more energy than") +
          " the most accurate entry, " + best.id + " (" + pct(best.top1) + ", " +
          Number(best.energy_j).toPrecision(3) + "\u00a0J/image)"));
      }
      list.appendChild(item);
    });
    out.appendChild(list);
    var ids = result.entries.slice(0, ANSWERS).map(function (r) { return r.id; });
    if (ids.length > 1) {
      var compare = LB.el("a", { class: "lb-answer-compare", href: this.root.getAttribute("data-compare") + "?ids=" + ids.map(encodeURIComponent).join(",") },
        "Compare these " + ids.length + " across every board");
      out.appendChild(compare);
    }
  };

  LB.choose = { answer: answer, instances: [] };

  function start() {
    document.querySelectorAll(".lb-choose[data-boards]").forEach(function (root) {
      LB.choose.instances.push(new Chooser(root));
    });
  }
  if (LB.started) {
    start();
  } else {
    document.addEventListener("lb-ready", start);
  }
})();
