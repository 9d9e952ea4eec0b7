// The chat page's two additions to Chainlit.
//
// The citation side panel opens only when a citation is clicked, shows that citation only and is
// titled by its locator. Chainlit 2.12 opens the panel by itself whenever an answer brings side
// elements, listing every citation of the conversation (Chainlit issue #2979); such a panel is
// closed at once, in the same task as it appears, so the browser never paints it.
(function () {
  "use strict";
  var click = null; // the last citation clicked: {at, name, title}
  var owner = null; // the panel that click opened: {name, text, pdf, nth}

  function text(node) {
    return ((node && node.textContent) || "").trim();
  }

  // A text passage is titled by its first heading (its locator) once shown; a PDF page by the
  // locator its row in the sources list starts with ("Acme Scribe BAA §4.3 · PDF page 2").
  function pdfTitle(link, name) {
    var row = link.closest("li");
    if (!row || !/ PDF (?:page|p\.) \d+$/.test(name)) return null; // "p." in older threads
    var line = text(row);
    var cut = line.indexOf(": ");
    var marker = name.split(" ")[0];
    var locator = cut > 0 ? line.slice(0, cut).replace(/^\[\d+\]\s*/, "") : marker;
    return locator + " \u00b7 " + name.slice(marker.length + 1);
  }

  // Which of the links of that name it is: a message re-renders its links when a later element
  // arrives, so the node itself does not last.
  function sameName(name) {
    return Array.prototype.filter.call(document.querySelectorAll("a.element-link"), function (a) {
      return text(a) === name;
    });
  }

  function nth(link, name) {
    return sameName(name).indexOf(link);
  }

  document.addEventListener(
    "click",
    function (event) {
      var link = event.target.closest && event.target.closest("a.element-link");
      if (!link) return;
      var name = text(link);
      click = { at: Date.now(), name: name, title: pdfTitle(link, name), nth: nth(link, name) };
    },
    true
  );

  function close(title) {
    owner = null;
    var button = title.querySelector("button");
    if (!button) {
      var dialog = title.closest("[role=dialog]");
      button = dialog && dialog.querySelector("button");
    }
    if (button) button.click();
    else document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  }

  function retitle(title) {
    var heading = document.querySelector("#side-view-content h3");
    var wanted = owner.pdf || (heading ? text(heading) : "");
    if (!wanted || text(title) === wanted) return;
    var node = null;
    title.childNodes.forEach(function (n) {
      if (n.nodeType === Node.TEXT_NODE) node = n;
    });
    owner.text = wanted;
    if (node) node.nodeValue = wanted;
    else title.textContent = wanted;
  }

  function check() {
    var title = document.getElementById("side-view-title");
    var content = document.getElementById("side-view-content");
    if (!title || !content) {
      owner = null;
      return;
    }
    var shown = text(title);
    var single = content.children.length <= 1;
    if (single && click && Date.now() - click.at < 3000 && shown === click.name) {
      owner = { name: click.name, text: click.name, pdf: click.title, nth: click.nth };
      click = null;
    } else if (!(single && owner && (shown === owner.name || shown === owner.text))) {
      // opened by Chainlit, not by a click (on a phone the sheet re-creates its title node);
      // if it replaced a citation the user was reading (a later element arrived), reopen that
      var reading = owner && owner.nth >= 0 ? sameName(owner.name)[owner.nth] : null;
      close(title);
      if (reading) reading.click();
      return;
    }
    retitle(title);
  }

  new MutationObserver(check).observe(document.documentElement, {
    childList: true,
    subtree: true,
    characterData: true,
  });
})();

// The home screen (Chainlit shows its footer only once a conversation has begun): the answering
// mode and the not-legal-advice line under the question box, from notice.txt (written at start).
(function () {
  "use strict";
  var notice = null;
  fetch("/public/notice.txt")
    .then(function (r) {
      return r.ok ? r.text() : "";
    })
    .then(function (text) {
      notice = text.trim();
      place();
    });

  function place() {
    var home = document.getElementById("welcome-screen");
    if (!notice || !home || document.getElementById("home-notice")) return;
    var p = document.createElement("p");
    p.id = "home-notice";
    p.className = "text-xs text-muted-foreground text-center max-w-[48rem] px-4";
    p.textContent = notice;
    home.appendChild(p);
  }

  new MutationObserver(place).observe(document.documentElement, { childList: true, subtree: true });
})();
