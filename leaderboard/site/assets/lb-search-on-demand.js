/* The header search's index and worker are requested when the visitor goes to search, not
 * with every page.
 *
 * Material for MkDocs asks for search/search_index.json (XMLHttpRequest) as soon as a page
 * loads; with one document per model page that is about 1 MB (96 KB gzip) at 10,000 entries,
 * which most visits never use. It also starts its search worker (a 40 KB script, 12 KB gzip,
 * parsed on every page). Loaded before the theme's bundle (mkdocs.yml, extra.polyfills), this
 * holds the index request and the worker back until the visitor points at, clicks or focuses
 * the search field, opens it on a phone, or presses a key the theme uses to open it; the theme
 * then shows "Initializing search" for the moment the index takes to arrive. Until then the
 * theme talks to a stand-in that keeps its listeners and messages and hands them to the real
 * worker when it starts. Nothing else changes: every other request and worker, and the index
 * from file:// (a script tag), go out as before.
 */
(function () {
  "use strict";
  var INDEX = /(^|\/)search\/search_index\.json(\?|#|$)/;
  var proto = window.XMLHttpRequest && window.XMLHttpRequest.prototype;
  if (!proto) {
    return;
  }
  var open = proto.open;
  var send = proto.send;
  var engaged = false;
  var held = [];

  // The theme's search worker: a stand-in until the visitor engages. The theme only adds and
  // removes "message" listeners and posts messages (RxJS fromEvent and subscribe).
  var SEARCH_WORKER = /(^|\/)workers\/search\.[0-9a-f]+\.min\.js(\?|#|$)/;
  var RealWorker = window.Worker;

  function HeldWorker(url, options) {
    var self = this;
    this.real = null;
    this.listeners = [];
    this.messages = [];
    this.ended = false;
    held.push(function () {
      if (self.ended) {
        return;
      }
      self.real = new RealWorker(url, options);
      self.listeners.forEach(function (args) { self.real.addEventListener.apply(self.real, args); });
      self.messages.forEach(function (args) { self.real.postMessage.apply(self.real, args); });
      self.listeners = self.messages = null;
    });
  }
  HeldWorker.prototype.addEventListener = function () {
    return this.real ? this.real.addEventListener.apply(this.real, arguments) : void this.listeners.push(arguments);
  };
  HeldWorker.prototype.removeEventListener = function (type, listener) {
    if (this.real) {
      return this.real.removeEventListener.apply(this.real, arguments);
    }
    this.listeners = this.listeners.filter(function (args) { return args[0] !== type || args[1] !== listener; });
    return undefined;
  };
  HeldWorker.prototype.postMessage = function () {
    return this.real ? this.real.postMessage.apply(this.real, arguments) : void this.messages.push(arguments);
  };
  HeldWorker.prototype.terminate = function () {
    this.ended = true;
    return this.real ? this.real.terminate() : undefined;
  };

  if (RealWorker) {
    window.Worker = function (url, options) {
      // returned from a constructor, the stand-in (or the real worker) is what `new` gives
      return !engaged && SEARCH_WORKER.test(String(url)) ? new HeldWorker(url, options)
        : new RealWorker(url, options);
    };
    window.Worker.prototype = RealWorker.prototype;
  }

  function engage() {
    if (engaged) {
      return;
    }
    engaged = true;
    held.splice(0).forEach(function (release) {
      release();
    });
  }

  proto.open = function (method, url) {
    this.lbSearchIndex = INDEX.test(String(url));
    return open.apply(this, arguments);
  };
  proto.send = function () {
    if (this.lbSearchIndex && !engaged) {
      var request = this;
      var args = arguments;
      held.push(function () {
        send.apply(request, args);
      });
      return undefined;
    }
    return send.apply(this, arguments);
  };

  function isSearch(target) {
    return !!(target && target.closest && target.closest(".md-search, label[for='__search']"));
  }
  ["pointerover", "pointerdown", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (isSearch(event.target)) {
        engage();
      }
    }, true);
  });
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "__search") {
      engage();  // the search toggle (the magnifier on a phone)
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    // the theme opens the search on "f", "s" and "/" when no field has focus
    if (!event.ctrlKey && !event.metaKey && !event.altKey && /^[fs/]$/i.test(event.key)) {
      engage();
    }
  }, true);
})();
