/* Compare: two to four entries side by side across every board (compare.html?ids=a,b,c).
 *
 * Data: window.LB_COMPARE.data from assets/data/compare.js (written by
 * leaderboard/site/compare.py): entries[id] = [family, top1, accuracy, params_m, gmacs,
 * {board index: [energy_j, tier, score, vs_resnet50, throughput, latency_ms, status]}].
 */
(function () {
  "use strict";

  var LB = (window.LB = window.LB || {});

  function Compare(root, data) {
    this.root = root;
    this.data = data;
    this.max = parseInt(root.getAttribute("data-max"), 10) || 4;
    var wanted = (LB.params().get("ids") || "").split(",").map(function (id) { return id.trim(); });
    this.ids = wanted.filter(function (id, i) {
      return id && data.entries[id] && wanted.indexOf(id) === i;
    }).slice(0, this.max);
    this.build();
    this.render();
  }

  Compare.prototype.build = function () {
    var self = this;
    var form = LB.el("form", { class: "lb-compare-pick" });
    var label = LB.el("label", { for: "lb-compare-add" }, "Add an entry");
    var input = LB.el("input", { id: "lb-compare-add", type: "search", list: "lb-compare-ids", placeholder: "model id or name, e.g. " + (this.root.getAttribute("data-example") || "resnet50").split(",")[0], autocomplete: "off" });
    var list = LB.el("datalist", { id: "lb-compare-ids" });
    Object.keys(this.data.entries).sort().forEach(function (id) {
      list.appendChild(LB.el("option", { value: id }));
    });
    var add = LB.el("button", { type: "submit" }, "Add");
    this.message = LB.el("p", { class: "lb-compare-message", role: "status" });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // the box is emptied only once an entry was added: a name that matched several stays
      // there to be narrowed down
      if (self.add(input.value.trim())) {
        input.value = "";
      }
    });
    this.input = input;
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(add);
    form.appendChild(list);
    this.root.appendChild(form);
    this.root.appendChild(this.message);
    this.output = LB.el("div", { class: "lb-compare-out" });
    this.root.appendChild(this.output);
    document.addEventListener("lb-cost-change", function () { self.render(); });
  };

  /** Adds an entry by id or typed name; returns whether one was added. */
  Compare.prototype.add = function (id) {
    var self = this;
    var entries = this.data.entries;
    this.message.textContent = "";
    if (!id) {
      return false;
    }
    if (!entries[id]) {
      // a visitor may type "ResNet-50": the entry named so, else the one entry of that
      // architecture or whose id starts so; several are offered best first
      var ranked = Object.keys(entries).map(function (key) { return [LB.matchRank(key, id), key]; })
        .filter(function (pair) { return pair[0] >= 0; })
        .sort(function (a, b) { return a[0] - b[0] || (a[1] < b[1] ? -1 : 1); });
      var best = ranked.filter(function (pair) { return pair[0] === (ranked.length ? ranked[0][0] : -1); });
      if (best.length !== 1 || best[0][0] > 2) {
        if (!ranked.length) {
          this.message.textContent = "No entry is called “" + id + "”.";
          return false;
        }
        this.message.textContent = "“" + id + "” matches " + ranked.length +
          (ranked.length === 1 ? " entry" : " entries") + "; add one: ";
        ranked.slice(0, 6).forEach(function (pair) {
          var pick = LB.el("button", { type: "button", class: "lb-compare-choice" }, pair[1]);
          pick.addEventListener("click", function () {
            if (self.add(pair[1])) {
              self.input.value = "";
            }
          });
          self.message.appendChild(pick);
          self.message.appendChild(document.createTextNode(" "));
        });
        return false;
      }
      id = best[0][1];
    }
    if (this.ids.indexOf(id) !== -1) {
      this.message.textContent = id + " is already compared.";
      return false;
    }
    if (this.ids.length >= this.max) {
      this.message.textContent = "At most " + this.max + " entries; remove one first.";
      return false;
    }
    this.ids.push(id);
    this.render();
    return true;
  };

  Compare.prototype.remove = function (id) {
    this.ids = this.ids.filter(function (x) { return x !== id; });
    this.render();
  };

  function cell(tr, text, attrs) {
    var td = LB.el("td", attrs || {}, text);
    tr.appendChild(td);
    return td;
  }

  Compare.prototype.render = function () {
    var self = this;
    var data = this.data;
    LB.setParams({ ids: this.ids.join(",") });
    this.output.textContent = "";
    if (this.ids.length < 2) {
      var example = this.root.getAttribute("data-example");
      var hint = LB.el("p", { class: "lb-compare-hint" }, this.ids.length ?
        "Add at least one more entry." : "Add two to " + this.max + " entries.");
      if (example) {
        var link = LB.el("a", { href: "?ids=" + example }, " Example: " + example.split(",").join(" and ") + ".");
        hint.appendChild(link);
      }
      this.output.appendChild(hint);
    }
    if (!this.ids.length) {
      this.root.setAttribute("data-ready", "true");
      return;
    }
    // a scroll box on a phone: reachable by keyboard and named for screen readers
    var wrapper = LB.el("div", { class: "lb-compare-table", tabindex: "0", role: "region", "aria-label": "Compared entries (scrolls sideways)" });
    var table = LB.el("table");
    table.appendChild(LB.el("caption", { class: "lb-sr-only" }, "Compared entries"));
    var head = LB.el("tr");
    head.appendChild(LB.el("th", { scope: "col" }, "Entry"));
    this.ids.forEach(function (id) {
      var th = LB.el("th", { scope: "col", "data-id": id });
      th.appendChild(LB.el("a", { href: "models/" + id + ".html" }, id));
      var remove = LB.el("button", { type: "button", class: "lb-compare-remove", "aria-label": "Remove " + id }, "×");
      remove.addEventListener("click", function () { self.remove(id); });
      th.appendChild(remove);
      head.appendChild(th);
    });
    var thead = LB.el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = LB.el("tbody");
    var entries = this.ids.map(function (id) { return data.entries[id]; });
    var row = function (label, values, best) {
      var tr = LB.el("tr");
      tr.appendChild(LB.el("th", { scope: "row" }, label));
      values.forEach(function (value, i) {
        var td = cell(tr, value === null || value === undefined ? "—" : String(value), { class: "lb-num" });
        if (best !== undefined && best === i) {
          td.className += " lb-best";
          td.setAttribute("title", "lowest on this board");
        }
      });
      body.appendChild(tr);
      return tr;
    };
    row("Family", entries.map(function (e) { return e[0]; }));
    row("Top-1 %", entries.map(function (e) { return e[1].toFixed(2) + " (" + e[2] + ")"; }));
    row("Params (M)", entries.map(function (e) { return e[3] === null ? null : Number(e[3]).toFixed(1); }));
    row("GMACs", entries.map(function (e) { return e[4] === null ? null : Number(e[4]).toFixed(2); }));
    data.boards.forEach(function (board, b) {
      var results = entries.map(function (e) { return e[5][String(b)] || null; });
      var group = LB.el("tr", { class: "lb-compare-board" });
      group.appendChild(LB.el("th", { scope: "rowgroup", colspan: String(entries.length + 1) }, board.title));
      body.appendChild(group);
      var energies = results.map(function (r) { return r && r[0] !== null ? r[0] : null; });
      var lowest = -1;
      energies.forEach(function (v, i) {
        if (v !== null && (lowest < 0 || v < energies[lowest])) { lowest = i; }
      });
      row("J/image", energies.map(function (v) { return v === null ? "not measured" : Number(v).toPrecision(3); }),
        energies.filter(function (v) { return v !== null; }).length > 1 ? lowest : undefined);
      var tiers = row("Tier", results.map(function (r) { return r && r[1] ? r[1] : null; }));
      tiers.querySelectorAll("td").forEach(function (td) {
        if (/^[A-G]$/.test(td.textContent)) {
          var tier = td.textContent;
          td.textContent = "";
          td.appendChild(LB.el("span", { class: "lb-tier lb-tier-" + tier }, tier));
        }
      });
      row("× ResNet-50", results.map(function (r) { return r && r[3] !== null ? Number(r[3]).toFixed(2) : null; }));
      row("Images/s", results.map(function (r) { return r && r[4] !== null ? Math.round(r[4]).toLocaleString("en-US") : null; }));
      if (LB.cost) {
        var figures = energies.map(function (v) { return v === null ? null : LB.cost.perMillion(v); });
        row("kWh / M images", figures.map(function (f) { return f ? LB.cost.formatUnit(f, "kwh") : null; }));
        row("kg CO₂e / M images", figures.map(function (f) { return f ? LB.cost.formatUnit(f, "co2") : null; }));
        row(LB.cost.currency + " / M images", figures.map(function (f) { return f ? LB.cost.formatUnit(f, "money") : null; }));
      }
    });
    table.appendChild(body);
    wrapper.appendChild(table);
    this.output.appendChild(wrapper);
    this.root.setAttribute("data-ready", "true");
  };

  function start() {
    var data = window.LB_COMPARE && window.LB_COMPARE.data;
    document.querySelectorAll(".lb-compare").forEach(function (root) {
      if (data) {
        new Compare(root, data);
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
