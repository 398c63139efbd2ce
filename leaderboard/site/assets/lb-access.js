/* Charts for keyboard, touch and screen reader (LB.chartAccess, called by lb-plots.js once a
 * chart is drawn).
 *
 * A drawn chart is a canvas: a keyboard, a finger pinching or a screen reader finds nothing in
 * it. Each chart therefore gets
 *   - a name (its title) and a summary (how many points, the axes' ranges, the Pareto frontier)
 *     that screen readers read, instead of "Vega visualization";
 *   - a tab stop: the arrow keys step through the drawn points (left/right by x, up/down by y,
 *     Home/End), a ring shows where, a status line below says what the tooltip would say
 *     (and "on the Pareto frontier"), Enter opens the point's model page; + and - zoom
 *     around the point (or the centre), 0 puts the axes back;
 *   - pinch to zoom on a touch screen.
 * Zooming sends the chart the shift + wheel event that its own zoom listens to, so keys,
 * pinch and wheel zoom alike.
 */
(function () {
  "use strict";

  var LB = (window.LB = window.LB || {});
  var ZOOM_STEP = 200; // wheel delta of one key press: vega-lite zooms by 1.001^delta

  function titleOf(spec) {
    var title = spec && spec.title;
    if (title && typeof title === "object" && !Array.isArray(title)) {
      title = title.text;
    }
    return Array.isArray(title) ? title.join(" ") : title || "";
  }

  /** The x and y axis titles of a (layered) vega-lite spec. */
  function axisTitles(spec) {
    var found = {};
    (function walk(node) {
      if (!node || typeof node !== "object") {
        return;
      }
      var encoding = node.encoding || {};
      ["x", "y"].forEach(function (axis) {
        if (!found[axis] && encoding[axis] && encoding[axis].title) {
          found[axis] = encoding[axis].title;
        }
      });
      (node.layer || []).forEach(walk);
    })(spec);
    return found;
  }

  function tooltipText(item) {
    var tip = item.tooltip;
    if (tip && typeof tip === "object") {
      return Object.keys(tip).filter(function (key) {
        return tip[key] !== undefined && tip[key] !== null && String(tip[key]) !== "NaN";
      }).map(function (key) { return key + " " + tip[key]; }).join(", ");
    }
    if (tip) {
      return String(tip);
    }
    var datum = item.datum || {};
    return datum.id || "";
  }

  /** Every point (symbol) or bar (rect) drawn with a tooltip, in the chart's pixels. */
  function drawnPoints(view) {
    var points = [];
    var seen = {};
    var origin = view.origin();
    var pad = view.padding();
    (function walk(mark, dx, dy) {
      if (mark.marktype === "group") {
        (mark.items || []).forEach(function (group) {
          (group.items || []).forEach(function (child) {
            walk(child, dx + (group.x || 0), dy + (group.y || 0));
          });
        });
        return;
      }
      if (mark.marktype !== "symbol" && mark.marktype !== "rect") {
        return;
      }
      (mark.items || []).forEach(function (item) {
        if (!item.datum || (!item.tooltip && !item.datum.url)) {
          return;
        }
        if (item.opacity !== undefined && item.opacity < 0.1) {
          return; // faded out by a filter or below the chosen top-1
        }
        var key = item.datum.id !== undefined ? item.datum.id : null;
        if (key !== null && seen[key]) {
          return; // the answer ring repeats a point
        }
        if (key !== null) {
          seen[key] = true;
        }
        var wide = mark.marktype === "rect";
        points.push({
          item: item,
          x: dx + item.x + (wide ? (item.width || 0) / 2 : 0),
          y: dy + item.y + (wide ? (item.height || 0) / 2 : 0),
        });
      });
    })(view.scenegraph().root, origin[0] + pad.left, origin[1] + pad.top);
    return points;
  }

  function frontierIds(view) {
    var ids = {};
    try {
      view.data("frontier").forEach(function (row) { ids[row.id] = true; });
    } catch (error) {
      /* a chart without a frontier */
    }
    return ids;
  }

  function fmt(value) {
    return Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();
  }

  /** One sentence on what the chart shows, for screen readers. */
  function summary(view, spec, points) {
    var titles = axisTitles(spec);
    var parts = [titleOf(spec) + ": " + points.length + (points.length === 1 ? " point" : " points") + "."];
    ["x", "y"].forEach(function (axis) {
      var scale;
      try {
        scale = view.scale(axis);
      } catch (error) {
        scale = null;
      }
      if (scale && titles[axis] && typeof scale.domain === "function") {
        var domain = scale.domain();
        if (domain.length === 2 && typeof domain[0] === "number") {
          parts.push(titles[axis] + " from " + fmt(domain[0]) + " to " + fmt(domain[1]) + ".");
        }
      }
    });
    var frontier = Object.keys(frontierIds(view));
    if (frontier.length) {
      parts.push("Pareto frontier (" + frontier.length + "): " + frontier.slice(0, 8).join(", ") +
        (frontier.length > 8 ? " and " + (frontier.length - 8) + " more" : "") + ".");
    }
    parts.push("Tab to the chart, then the arrow keys step through the points" +
      (points.some(function (p) { return p.item.datum.url; }) ? " and Enter opens one." : "."));
    return parts.join(" ");
  }

  function canvasOf(root) {
    return root.querySelector("canvas") || root.querySelector("svg");
  }

  /** Zooms as shift + wheel would, at (x, y) in the chart's pixels, or its centre. */
  function zoom(root, deltaY, x, y) {
    var canvas = canvasOf(root);
    if (!canvas) {
      return;
    }
    var rect = canvas.getBoundingClientRect();
    var clientX = x === undefined ? rect.left + rect.width / 2 : rect.left + x;
    var clientY = y === undefined ? rect.top + rect.height / 2 : rect.top + y;
    // vega reads an event's item from the last pointer move (its zoom listens only within the
    // plot), so the pointer is moved there first, and out again so no tooltip stays up
    var at = { clientX: clientX, clientY: clientY, bubbles: true };
    canvas.dispatchEvent(new PointerEvent("pointermove", at));
    canvas.dispatchEvent(new MouseEvent("mousemove", at));
    canvas.dispatchEvent(new WheelEvent("wheel", {
      deltaY: deltaY, deltaMode: 0, shiftKey: true, clientX: clientX, clientY: clientY,
      bubbles: true, cancelable: true,
    }));
    canvas.dispatchEvent(new PointerEvent("pointerout", at));
    canvas.dispatchEvent(new MouseEvent("mouseout", at));
  }

  function Access(root) {
    this.root = root;
    var id = "lb-chart-" + (root.getAttribute("data-spec") || "x").replace(/[^a-zA-Z0-9_-]/g, "-");
    this.summary = LB.el("p", { class: "lb-sr-only", id: id + "-summary" });
    this.status = LB.el("p", { class: "lb-chart-status", role: "status", "aria-live": "polite", id: id + "-status" });
    this.cursor = LB.el("span", { class: "lb-chart-cursor", "aria-hidden": "true" });
    this.cursor.hidden = true;
    root.parentNode.insertBefore(this.status, root.nextSibling);
    root.parentNode.insertBefore(this.summary, root.nextSibling);
    root.setAttribute("tabindex", "0");
    root.setAttribute("role", "application");
    root.setAttribute("aria-roledescription", "chart");
    root.setAttribute("aria-describedby", this.summary.id + " " + this.status.id);
    var self = this;
    root.addEventListener("keydown", function (event) { self.key(event); });
    root.addEventListener("blur", function () { self.cursor.hidden = true; });
    root.addEventListener("focus", function () {
      self.show();
    });
    this.pinch();
  }

  Access.prototype.attach = function (view, spec) {
    this.view = view;
    this.spec = spec;
    this.zooms = !LB.zoomable || LB.zoomable(spec);
    this.root.appendChild(this.cursor); // vega-embed replaced the root's children
    var name = titleOf(spec) || this.root.getAttribute("aria-label") || "Chart";
    this.root.setAttribute("aria-label", name + " (interactive chart)");
    // vega names its own canvas "Vega visualization" unless the spec has a description
    this.root.querySelectorAll("[aria-label='Vega visualization'], [aria-roledescription='visualization']")
      .forEach(function (node) { node.setAttribute("aria-label", name); });
    this.points = drawnPoints(view);
    this.summary.textContent = summary(view, spec, this.points);
    this.current = null;
    this.cursor.hidden = true;
    this.status.textContent = "";
  };

  Access.prototype.ordered = function (axis) {
    var points = drawnPoints(this.view);
    return points.sort(axis === "y"
      ? function (a, b) { return b.y - a.y || a.x - b.x; }
      : function (a, b) { return a.x - b.x || b.y - a.y; });
  };

  Access.prototype.move = function (axis, step, to) {
    var points = this.ordered(axis);
    if (!points.length) {
      this.status.textContent = "No point is drawn in this view.";
      return;
    }
    var current = this.current ? this.current.item.datum : null;
    var at = -1;
    points.forEach(function (p, i) {
      if (current && p.item.datum === current) {
        at = i;
      }
    });
    var next;
    if (to !== undefined) {
      next = to < 0 ? points.length + to : to; // Home, End
    } else {
      next = at < 0 ? (step > 0 ? 0 : points.length - 1) : at + step;
    }
    next = Math.max(0, Math.min(points.length - 1, next));
    this.current = points[next];
    this.show();
    var frontier = frontierIds(this.view);
    var datum = this.current.item.datum;
    this.status.textContent = tooltipText(this.current.item) +
      (datum.id !== undefined && frontier[datum.id] ? ", on the Pareto frontier" : "") +
      " (" + (next + 1) + " of " + points.length + ")" + (datum.url ? "; Enter opens it." : ".");
  };

  Access.prototype.show = function () {
    if (!this.current) {
      return;
    }
    // the point may have moved (zoom, pan, redraw): find it again by its datum
    var datum = this.current.item.datum;
    var again = drawnPoints(this.view).filter(function (p) { return p.item.datum === datum; })[0];
    if (again) {
      this.current = again;
    }
    var canvas = canvasOf(this.root);
    var rootRect = this.root.getBoundingClientRect();
    var rect = canvas ? canvas.getBoundingClientRect() : rootRect;
    var left = rect.left - rootRect.left + this.current.x;
    var top = rect.top - rootRect.top + this.current.y;
    var inside = this.current.x >= 0 && this.current.y >= 0 && this.current.x <= rect.width && this.current.y <= rect.height;
    this.cursor.style.left = left + "px";
    this.cursor.style.top = top + "px";
    this.cursor.hidden = !inside || document.activeElement !== this.root;
  };

  Access.prototype.key = function (event) {
    // keys meant for a control inside the chart (the family select, the export menu) are theirs
    if (!this.view || event.target !== this.root || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var handled = true;
    var at = this.current;
    switch (event.key) {
      case "ArrowRight": this.move("x", 1); break;
      case "ArrowLeft": this.move("x", -1); break;
      case "ArrowUp": this.move("y", 1); break;
      case "ArrowDown": this.move("y", -1); break;
      case "Home": this.move("x", 0, 0); break;
      case "End": this.move("x", 0, -1); break;
      case "+": case "=": case "-": case "_":
        if (!this.zooms) {
          handled = false;
          break;
        }
        zoom(this.root, /[-_]/.test(event.key) ? ZOOM_STEP : -ZOOM_STEP, at && at.x, at && at.y);
        this.later();
        break;
      case "0": {
        var reset = this.root.parentNode.querySelector(".lb-reset[data-for='" + this.root.getAttribute("data-spec") + "']");
        if (reset) {
          reset.click();
        }
        break;
      }
      case "Enter":
        if (at && at.item.datum.url) {
          window.location.href = at.item.datum.url;
        } else {
          handled = false;
        }
        break;
      case "Escape": this.cursor.hidden = true; this.current = null; this.status.textContent = ""; break;
      default: handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  };

  // after a zoom the view redraws asynchronously: move the ring once it has
  Access.prototype.later = function () {
    var self = this;
    this.view.runAsync().then(function () { self.show(); });
  };

  // Two fingers: zoom by the change of their distance, around their midpoint; the page itself
  // is not zoomed meanwhile. One finger still scrolls the page.
  Access.prototype.pinch = function () {
    var root = this.root;
    var last = null;
    var spread = function (touches) {
      var a = touches[0];
      var b = touches[1];
      return { d: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY),
        x: (a.clientX + b.clientX) / 2, y: (a.clientY + b.clientY) / 2 };
    };
    root.addEventListener("touchstart", function (event) {
      last = event.touches.length === 2 ? spread(event.touches) : null;
    }, { passive: true });
    root.addEventListener("touchmove", function (event) {
      if (event.touches.length !== 2 || !last) {
        return;
      }
      event.preventDefault();
      var now = spread(event.touches);
      if (now.d > 0 && last.d > 0) {
        var canvas = canvasOf(root);
        var rect = canvas ? canvas.getBoundingClientRect() : root.getBoundingClientRect();
        zoom(root, -Math.log(now.d / last.d) / Math.log(1.001), now.x - rect.left, now.y - rect.top);
      }
      last = now;
    }, { passive: false });
    root.addEventListener("touchend", function () { last = null; }, { passive: true });
  };

  /** Makes a drawn chart reachable: call after each (re)draw with its view and spec. */
  LB.chartAccess = function (root, view, spec) {
    if (!root._lbAccess) {
      root._lbAccess = new Access(root);
    }
    root._lbAccess.attach(view, spec);
    return root._lbAccess;
  };
  LB.chartZoom = zoom;
})();
