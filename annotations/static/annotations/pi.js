// The PI's pages: bar widths and code colours from data attributes (the CSP
// forbids style="" in the HTML, but not styles set from a script), drag and
// drop ordering of the codebook, and copy buttons. Everything here is an
// enhancement: each page works without it.
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function paint(root) {
    root.querySelectorAll("[data-share]").forEach(function (el) {
      var share = Math.max(0, Math.min(100, parseFloat(el.dataset.share) || 0));
      el.style.width = share + "%";
    });
    root.querySelectorAll("[data-height]").forEach(function (el) {
      var share = Math.max(0, Math.min(100, parseFloat(el.dataset.height) || 0));
      el.style.height = share + "%";
    });
    root.querySelectorAll("[data-color]").forEach(function (el) {
      if (/^#[0-9a-fA-F]{6}$/.test(el.dataset.color)) {
        el.style.setProperty("--code-color", el.dataset.color);
      }
    });
  }

  function enableDrag(root) {
    root.querySelectorAll("ol[data-reorder-url]").forEach(function (list) {
      if (list.dataset.dragReady) return;
      list.dataset.dragReady = "1";
      var dragged = null;
      list.querySelectorAll(":scope > li[data-id]").forEach(function (item) {
        item.setAttribute("draggable", "true");
        item.addEventListener("dragstart", function (event) {
          dragged = item;
          item.classList.add("dragging");
          event.dataTransfer.effectAllowed = "move";
          event.stopPropagation();
        });
        item.addEventListener("dragend", function () {
          item.classList.remove("dragging");
        });
        item.addEventListener("dragover", function (event) {
          if (!dragged || dragged.parentNode !== list || dragged === item) return;
          event.preventDefault();
          event.stopPropagation();
          var box = item.getBoundingClientRect();
          var after = event.clientY > box.top + box.height / 2;
          list.insertBefore(dragged, after ? item.nextSibling : item);
        });
      });
      list.addEventListener("drop", function (event) {
        if (!dragged || dragged.parentNode !== list) return;
        event.preventDefault();
        event.stopPropagation();
        var body = new URLSearchParams();
        body.append("parent", list.dataset.parent || "");
        list.querySelectorAll(":scope > li[data-id]").forEach(function (li) {
          body.append("ids", li.dataset.id);
        });
        dragged = null;
        fetch(list.dataset.reorderUrl, {
          method: "POST",
          headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
          body: body,
          credentials: "same-origin",
        }).then(function () {
          window.location.reload();
        });
      });
    });
  }

  function enableCopy(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.dataset.copy);
        if (!target || !navigator.clipboard) return;
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          button.textContent = "Copied";
        });
      });
    });
  }

  function init(root) {
    paint(root);
    enableDrag(root);
    enableCopy(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    init(event.target);
  });
})();
