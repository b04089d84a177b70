/* The adjudication page: paint the aligned lanes, move through the
 * disagreements with the keyboard, and fill offsets from a text selection.
 *
 * Every action is a plain form (hx-post swaps #adj-workspace); this script
 * only clicks the right button. Offsets are Unicode code points, as on the
 * server: the browser's UTF-16 offsets are converted before they are shown.
 */
(function () {
  "use strict";

  const LANE_PX = 5; // height of one lane under the text (see adjudicate.css)
  let current = null; // key of the current disagreement ("g123")
  let codePoints = null;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.from((root || document).querySelectorAll(sel)); }

  function docText() {
    if (codePoints === null) {
      const el = document.getElementById("adj-doc-text");
      codePoints = el ? Array.from(JSON.parse(el.textContent)) : [];
    }
    return codePoints;
  }

  /* One background layer per lane: coders top to bottom, the consensus last.
   * A lane where one coder has several segments splits into stripes. */
  function paintLanes(root) {
    const text = $("#adj-text", root) || $("#adj-text");
    if (!text) return;
    const lanes = parseInt(text.dataset.lanes || "1", 10);
    text.style.setProperty("--lanes", String(lanes));
    $$(".ch[data-lanes]", text).forEach(function (ch) {
      const layers = [];
      ch.dataset.lanes.split("|").forEach(function (lane, i) {
        if (!lane) return;
        const colours = lane.split(",");
        const consensus = i === lanes - 1;
        const h = consensus ? LANE_PX : LANE_PX - 1;
        const offset = (lanes - 1 - i) * LANE_PX;
        let image;
        if (colours.length === 1) {
          image = "linear-gradient(" + colours[0] + "," + colours[0] + ")";
        } else {
          const stops = colours.map(function (c, k) {
            return c + " " + (100 * k / colours.length) + "% " + (100 * (k + 1) / colours.length) + "%";
          });
          image = "linear-gradient(to bottom," + stops.join(",") + ")";
        }
        layers.push(image + " 0 calc(100% - " + offset + "px) / 100% " + h + "px no-repeat");
      });
      ch.style.background = layers.join(",");
    });
    $$(".chip[data-color]", root).forEach(function (chip) {
      chip.style.setProperty("--chip", chip.dataset.color);
    });
  }

  function groups() { return $$(".adj-group"); }

  function select(key, opts) {
    const li = key && document.getElementById(key);
    groups().forEach(function (g) { g.classList.toggle("current", g === li); });
    $$(".ch.cur").forEach(function (c) { c.classList.remove("cur"); });
    current = li ? key : null;
    if (!li) return;
    const chunks = $$('.ch[data-g~="' + key + '"]');
    chunks.forEach(function (c) { c.classList.add("cur"); });
    if (!(opts && opts.noFocus)) li.focus({ preventScroll: true });
    li.scrollIntoView({ block: "nearest" });
    if (chunks.length) chunks[0].scrollIntoView({ block: "nearest" });
    preview(li);
  }

  function move(step) {
    const all = groups();
    if (!all.length) return;
    let i = all.findIndex(function (g) { return g.id === current; });
    i = i < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, i + step));
    select(all[i].id);
  }

  /* After a decision: stay if the group is still open, else go to the next
   * open one (wrapping round), else stay where it was. */
  function settle() {
    const all = groups();
    if (!all.length) { current = null; return; }
    let i = all.findIndex(function (g) { return g.id === current; });
    if (i >= 0 && !all[i].classList.contains("resolved")) { select(all[i].id); return; }
    if (i < 0) i = 0;
    for (let k = 0; k < all.length; k++) {
      const g = all[(i + k) % all.length];
      if (!g.classList.contains("resolved")) { select(g.id); return; }
    }
    select(all[Math.min(i, all.length - 1)].id);
  }

  function preview(root) {
    $$('[data-role="preview"]', root).forEach(function (out) {
      const box = out.closest("form");
      const s = parseInt($('[data-role="start"]', box).value, 10);
      const e = parseInt($('[data-role="end"]', box).value, 10);
      const t = docText();
      out.textContent = (s >= 0 && e > s && e <= t.length) ? "“" + t.slice(s, e).join("") + "”" : "";
    });
  }

  function press(key) {
    const li = current && document.getElementById(current);
    const button = li && $('button[data-key="' + key + '"]', li);
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  }

  function focusRole(role) {
    const li = current && document.getElementById(current);
    const el = li && $('[data-role="' + role + '"]', li);
    if (el) { el.focus(); if (el.select) el.select(); return true; }
    return false;
  }

  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    const typing = t.matches && t.matches("input, textarea, select");
    if (typing) {
      const li = t.closest(".adj-group");
      if (ev.key === "Escape") { ev.preventDefault(); if (li) li.focus(); else t.blur(); return; }
      if (ev.key === "Enter" && li) {
        ev.preventDefault();
        const role = t.dataset.role;
        if (role === "start" || role === "end") press("e");
        else if (role === "code") press("c");
        return;
      }
      return;
    }
    if (!$("#adj-workspace")) return;
    const k = ev.key;
    let done = true;
    if (k === "j" || k === "ArrowDown") move(1);
    else if (k === "k" || k === "ArrowUp") move(-1);
    else if (/^[1-9]$/.test(k) || k === "a" || k === "r" || k === "u") done = press(k);
    else if (k === "e") done = focusRole("start");
    else if (k === "c") done = focusRole("code");
    else if (k === "n") done = focusRole("note");
    else if (k === "m") {
      const b = $("#adj-mark");
      done = !!(b && !b.disabled);
      if (done) b.click();
    } else done = false;
    if (done) ev.preventDefault();
  }

  /* A text selection in the article fills the offsets of the current
   * disagreement's "adjust" fields and of the "add a segment" form. */
  function offsetOf(node, offset) {
    const ch = node.nodeType === 3 ? node.parentElement.closest(".ch") : node.closest && node.closest(".ch");
    if (!ch) return null;
    const base = parseInt(ch.dataset.s, 10);
    if (node.nodeType !== 3) return base;
    return base + Array.from(node.data.slice(0, offset)).length;
  }

  function onSelect() {
    const sel = window.getSelection();
    const text = $("#adj-text");
    if (!sel || sel.isCollapsed || !text || !text.contains(sel.anchorNode)) return;
    const r = sel.getRangeAt(0);
    const s = offsetOf(r.startContainer, r.startOffset);
    const e = offsetOf(r.endContainer, r.endOffset);
    if (s === null || e === null || e <= s) return;
    const forms = [$("#adj-add-form")];
    const li = current && document.getElementById(current);
    if (li) forms.push(li);
    forms.forEach(function (f) {
      if (!f) return;
      const si = $('[data-role="start"]', f);
      const ei = $('[data-role="end"]', f);
      if (si && ei) { si.value = s; ei.value = e; }
    });
    preview(document);
  }

  function init(root) {
    document.documentElement.classList.add("js");
    paintLanes(root || document);
    preview(document);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    const first = groups().find(function (g) { return !g.classList.contains("resolved"); }) || groups()[0];
    if (first) select(first.id, { noFocus: true });
  });
  document.addEventListener("keydown", onKey);
  document.addEventListener("mouseup", onSelect);
  document.addEventListener("input", function (ev) {
    if (ev.target.dataset && (ev.target.dataset.role === "start" || ev.target.dataset.role === "end")) {
      preview(ev.target.closest("form"));
    }
  });
  document.addEventListener("click", function (ev) {
    const li = ev.target.closest && ev.target.closest(".adj-group");
    if (li && li.id !== current) select(li.id, { noFocus: true });
    const ch = ev.target.closest && ev.target.closest(".ch[data-g]");
    if (ch && window.getSelection().isCollapsed) select(ch.dataset.g.split(" ")[0]);
  });
  document.addEventListener("htmx:beforeSwap", function (ev) {
    const status = ev.detail.xhr.status;
    if (status === 400 || status === 404 || status === 409) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
  // After settling: htmx restores the swapped-in attributes while settling,
  // which would undo classes set any earlier.
  document.addEventListener("htmx:afterSettle", function (ev) {
    if (ev.detail.target && ev.detail.target.id === "adj-message") return;
    const msg = $("#adj-message");
    if (msg) msg.textContent = "";
    init(document);
    settle();
  });
})();
