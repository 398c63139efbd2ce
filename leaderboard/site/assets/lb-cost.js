/* Energy, carbon and money per million images, computed in the browser from measured J/image.
 *
 * The defaults (grid intensity, PUE, electricity price) come from window.LB_COST_DEFAULTS,
 * written by the site builder from leaderboard/site/cost.py (the Methodology page states their
 * sources). A visitor can change them: the values are kept in localStorage and, when they differ
 * from the defaults, in the URL (?grid=&pue=&price=) so a shared link shows the same figures.
 *
 *   kWh per million images = J/image × 10^6 × PUE / 3.6×10^6
 *   kg CO2e                = kWh × grid intensity (g/kWh) / 1000
 *   cost                   = kWh × price per kWh
 */
(function () {
  "use strict";

  var LB = (window.LB = window.LB || {});
  var DEFAULTS = window.LB_COST_DEFAULTS || { grid_g_per_kwh: 480, pue: 1.56, price_per_kwh: 0.13, currency: "USD" };
  var KEYS = { grid_g_per_kwh: "grid", pue: "pue", price_per_kwh: "price" };
  var STORE = "lb-cost";

  function positive(value) {
    var number = parseFloat(value);
    return isFinite(number) && number > 0 ? number : null;
  }

  function load() {
    var settings = { grid_g_per_kwh: DEFAULTS.grid_g_per_kwh, pue: DEFAULTS.pue, price_per_kwh: DEFAULTS.price_per_kwh };
    var stored = {};
    try {
      stored = JSON.parse(window.localStorage.getItem(STORE) || "{}") || {};
    } catch (error) {
      stored = {}; // private windows and file:// may refuse storage; defaults then
    }
    var query = new URLSearchParams(window.location.search);
    Object.keys(KEYS).forEach(function (key) {
      var value = positive(query.get(KEYS[key])) || positive(stored[key]);
      if (value) {
        settings[key] = value;
      }
    });
    return settings;
  }

  var settings = load();

  function perMillion(energyJ) {
    if (energyJ === null || energyJ === undefined || !isFinite(energyJ)) {
      return null;
    }
    var kwh = (energyJ * 1e6 * settings.pue) / 3.6e6;
    return { kwh: kwh, co2_kg: (kwh * settings.grid_g_per_kwh) / 1000, money: kwh * settings.price_per_kwh };
  }

  function sig(value, digits) {
    if (value === 0) {
      return "0";
    }
    if (Math.abs(value) >= Math.pow(10, digits)) {
      return Math.round(value).toLocaleString("en-US");
    }
    return Number(value.toPrecision(digits)).toString();
  }

  function formatUnit(figures, unit) {
    if (!figures) {
      return "—";
    }
    if (unit === "kwh") {
      return sig(figures.kwh, 3);
    }
    if (unit === "co2") {
      return sig(figures.co2_kg, 3);
    }
    var money = figures.money;
    return money >= 1 ? money.toFixed(2) : sig(money, 3);
  }

  /** A table cell: column {type: "cost", of: "energy_j", unit: "kwh"|"co2"|"money"}. */
  function format(row, col) {
    var index = col._of === undefined ? -1 : col._of; // resolved by the table from col.of
    return formatUnit(perMillion(index >= 0 ? row[index] : null), col.unit);
  }

  function save() {
    try {
      window.localStorage.setItem(STORE, JSON.stringify(settings));
    } catch (error) {
      /* storage refused: the URL still carries the values */
    }
    writeUrl();
    document.dispatchEvent(new CustomEvent("lb-cost-change"));
  }

  // The address carries every setting that differs from the defaults, also those restored
  // from the browser's storage, so a copied link shows the figures on the screen.
  function writeUrl() {
    var values = {};
    Object.keys(KEYS).forEach(function (key) {
      values[KEYS[key]] = settings[key] === DEFAULTS[key] ? "" : String(settings[key]);
    });
    if (LB.setParams) {
      LB.setParams(values);
    }
  }

  function input(root, key, label, step, unit) {
    var id = "lb-cost-" + key + "-" + Math.random().toString(36).slice(2, 8);
    var wrap = document.createElement("span");
    wrap.className = "lb-cost-field";
    var lab = document.createElement("label");
    lab.setAttribute("for", id);
    lab.textContent = label;
    var field = document.createElement("input");
    field.type = "number";
    field.id = id;
    field.min = "0";
    field.step = step;
    field.value = String(settings[key]);
    field.setAttribute("data-cost-setting", key);
    // figures follow as the visitor types; a box left empty or invalid goes back on change
    field.addEventListener("input", function () {
      var value = positive(field.value);
      if (value && value !== settings[key]) {
        settings[key] = value;
        save();
      }
    });
    field.addEventListener("change", function () {
      var value = positive(field.value);
      if (value) {
        settings[key] = value;
        save();
      } else {
        field.value = String(settings[key]);
      }
    });
    var suffix = document.createElement("span");
    suffix.className = "lb-cost-unit";
    suffix.textContent = unit;
    wrap.appendChild(lab);
    wrap.appendChild(field);
    wrap.appendChild(suffix);
    root.appendChild(wrap);
  }

  function mountSettings() {
    document.querySelectorAll(".lb-cost-settings").forEach(function (root) {
      if (root.getAttribute("data-ready")) {
        return;
      }
      var legend = document.createElement("p");
      legend.className = "lb-cost-legend";
      legend.textContent = "Per million images, at:";
      root.appendChild(legend);
      input(root, "grid_g_per_kwh", "Grid intensity", "1", "g CO₂e/kWh");
      input(root, "pue", "PUE", "0.01", "×");
      input(root, "price_per_kwh", "Electricity price", "0.01", DEFAULTS.currency + "/kWh");
      var reset = document.createElement("button");
      reset.type = "button";
      reset.className = "lb-cost-reset";
      reset.textContent = "Defaults";
      reset.addEventListener("click", function () {
        Object.keys(KEYS).forEach(function (key) {
          settings[key] = DEFAULTS[key];
        });
        root.querySelectorAll("input[data-cost-setting]").forEach(function (field) {
          field.value = String(settings[field.getAttribute("data-cost-setting")]);
        });
        save();
      });
      root.appendChild(reset);
      root.setAttribute("data-ready", "true");
    });
  }

  // Static cells on model pages: <td data-energy-j="0.0123" data-cost="kwh|co2|money">.
  function fillCells() {
    document.querySelectorAll("[data-energy-j][data-cost]").forEach(function (cell) {
      cell.textContent = formatUnit(perMillion(parseFloat(cell.getAttribute("data-energy-j"))),
        cell.getAttribute("data-cost"));
    });
  }

  LB.cost = {
    defaults: DEFAULTS,
    settings: function () { return settings; },
    perMillion: perMillion,
    formatUnit: formatUnit,
    format: format,
    currency: DEFAULTS.currency,
  };

  function start() {
    if (document.querySelector(".lb-cost-settings")) {
      writeUrl();
    }
    mountSettings();
    fillCells();
  }
  document.addEventListener("lb-cost-change", fillCells);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
