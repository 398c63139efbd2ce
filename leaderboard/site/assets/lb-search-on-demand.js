/* The header search's index is requested when the visitor goes to search, not with every page.
 *
 * Material for MkDocs asks for search/search_index.json (XMLHttpRequest) as soon as a page
 * loads; with one document per model page that is about 1 MB (96 KB gzip) at 10,000 entries,
 * which most visits never use. Loaded before the theme's bundle (mkdocs.yml, extra.polyfills),
 * this holds that one request back until the visitor points at, clicks or focuses the search
 * field, opens it on a phone, or presses a key the theme uses to open it; the theme then
 * shows "Initializing search" for the moment the index takes to arrive. Nothing else changes:
 * every other request, and the index from file:// (a script tag), goes out as before.
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
