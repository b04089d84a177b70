/* Keyboard selection on the coding page: a caret in the article text.
 *
 * The text block is a tab stop (a read-only, multi-line textbox to assistive
 * technology). While it has focus, a drawn caret marks the moving end of the
 * selection and these keys move it (the page lists them under "Keyboard"):
 *   Left / Right          one grapheme cluster: never inside an emoji, a flag
 *                         or a letter with its combining accents
 *   Ctrl+Left / Right     a word (Alt on macOS): forward to the end of the
 *                         next word, back to the start of the previous one
 *   Up / Down             a sentence: back to the start of this or the
 *                         previous sentence, on to the end of this or the next
 *   Ctrl+Up / Down        a paragraph (text between line breaks; Alt on macOS)
 *   Home / End            start / end of the paragraph (Cmd+Left / Right on macOS)
 *   Ctrl+Home / End       start / end of the article (Cmd+Up / Down on macOS)
 *   Shift + any of these  extends the selection from its anchor
 *   Ctrl+A                the whole article; Escape collapses the selection
 *   Enter                 opens the segment under the caret
 * Up/Down go by sentence, not by screen line: a sentence is what a coder
 * codes, and it is the same unit for someone who cannot see the lines. In a
 * right-to-left paragraph Left moves forward and Right backward, so the
 * arrows follow the reading direction on screen; between paragraphs of
 * opposite directions one arrow goes back and forth, as in a textarea.
 *
 * Positions are UTF-16 offsets into the text, as in coding.js, and always
 * grapheme boundaries. The selection is the document's own Selection, so
 * coding.js codes it exactly as it codes a mouse selection (snapping, code
 * points, quote), and a mouse selection moves the caret. A polite live region
 * says what the caret passed or what is selected, and what the server
 * answered after a change: #status itself is replaced by every answer, and a
 * live region inserted with its text is not reliably read out.
 */
(function () {
  "use strict";

  const wc = window.workbenchCoding;
  const live = document.getElementById("caret-live");
  if (!wc || !live || !wc.block()) return;

  const TEXT = wc.text;
  const MAC = /Mac|iPhone|iPad/.test(navigator.platform || "");
  // Scripts written right to left; with dir=auto and unicode-bidi: plaintext
  // the first letter of a paragraph sets its direction.
  const RTL = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}]/u;

  function textBlock() {
    return document.getElementById("text-block");
  }

  /* ------------------------------------------------------------ moves */

  let sentences = null; // {starts, ends}: ascending, surrounding spaces left out
  let words = null; // {starts, ends}: word-like segments, ascending

  function trimmedPieces(pieces) {
    const starts = [], ends = [];
    for (let [a, b] of pieces) {
      while (a < b && /\s/.test(TEXT[a])) a++;
      while (b > a && /\s/.test(TEXT[b - 1])) b--;
      if (a < b) { starts.push(a); ends.push(b); }
    }
    return { starts: starts, ends: ends };
  }

  function sentenceBounds() {
    if (sentences) return sentences;
    let pieces;
    try {
      const seg = new Intl.Segmenter(undefined, { granularity: "sentence" });
      pieces = Array.from(seg.segment(TEXT), (s) => [s.index, s.index + s.segment.length]);
    } catch (e) {
      // Without Intl.Segmenter: a paragraph stands for a sentence.
      pieces = [];
      for (let a = 0; a <= TEXT.length; a = paraEnd(a) + 1) pieces.push([a, paraEnd(a)]);
    }
    sentences = trimmedPieces(pieces);
    return sentences;
  }

  function wordBounds() {
    if (words) return words;
    let ranges = wc.wordRanges();
    if (!ranges.length && TEXT) {
      // Without Intl.Segmenter: runs of letters, marks and digits.
      ranges = Array.from(TEXT.matchAll(/[\p{L}\p{M}\p{N}]+/gu), (m) => [m.index, m.index + m[0].length]);
    }
    words = { starts: ranges.map((w) => w[0]), ends: ranges.map((w) => w[1]) };
    return words;
  }

  // The first value of ascending `list` above i; the last one below i.
  function above(list, i) {
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid] > i) hi = mid; else lo = mid + 1;
    }
    return list[lo];
  }
  function below(list, i) {
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid] < i) lo = mid + 1; else hi = mid;
    }
    return lo > 0 ? list[lo - 1] : undefined;
  }

  function paraStart(i) {
    return i <= 0 ? 0 : TEXT.lastIndexOf("\n", i - 1) + 1;
  }
  function paraEnd(i) {
    const n = TEXT.indexOf("\n", i);
    return n < 0 ? TEXT.length : n;
  }

  function rtlAt(i) {
    const first = TEXT.slice(paraStart(i), paraEnd(i)).match(/\p{L}/u);
    return !!first && RTL.test(first[0]);
  }

  /** Where a move by `unit` in direction `dir` (1 forward, -1 back) from
   *  UTF-16 offset i lands: always a grapheme boundary in [0, length]. */
  function move(i, unit, dir) {
    const end = TEXT.length;
    let j;
    if (unit === "grapheme") {
      const g = wc.graphemeBounds();
      j = dir > 0 ? above(g, i) : below(g, i);
    } else if (unit === "word" || unit === "sentence") {
      const b = unit === "word" ? wordBounds() : sentenceBounds();
      j = dir > 0 ? above(b.ends, i) : below(b.starts, i);
    } else if (unit === "paragraph") {
      if (dir > 0) j = i < paraEnd(i) ? paraEnd(i) : i < end ? paraEnd(i + 1) : end;
      else j = i > paraStart(i) ? paraStart(i) : i > 0 ? paraStart(i - 1) : 0;
    } else if (unit === "edge") {
      j = dir > 0 ? paraEnd(i) : paraStart(i);
    } else if (unit === "article") {
      j = dir > 0 ? end : 0;
    }
    if (j === undefined) j = dir > 0 ? end : 0;
    return dir > 0 ? wc.ceilBound(j) : wc.floorBound(j);
  }

  /** The command a key stands for, or null to leave the key alone. */
  function command(ev) {
    const k = ev.key;
    const ctrl = ev.ctrlKey, alt = ev.altKey, meta = ev.metaKey;
    // Elsewhere Alt+arrows are the browser's Back/Forward, Meta the system's.
    if (!MAC && (alt || meta)) return null;
    if ((ctrl && alt) || (meta && (ctrl || alt))) return null;
    const word = ctrl || alt;
    const far = meta; // Cmd+arrows on macOS
    if (k === "ArrowLeft" || k === "ArrowRight") {
      const visual = k === "ArrowRight" ? 1 : -1;
      return { unit: far ? "edge" : word ? "word" : "grapheme", dir: rtlAt(focus) ? -visual : visual };
    }
    if (k === "ArrowUp" || k === "ArrowDown") {
      return { unit: far ? "article" : word ? "paragraph" : "sentence", dir: k === "ArrowDown" ? 1 : -1 };
    }
    if (k === "Home" || k === "End") {
      return { unit: ctrl || far ? "article" : "edge", dir: k === "End" ? 1 : -1 };
    }
    if (ev.shiftKey || alt) return null;
    if (k === "Escape" && !ctrl && !meta) return anchor !== focus ? { action: "collapse" } : null;
    if ((k === "a" || k === "A") && (MAC ? meta : ctrl)) return { action: "all" };
    if (k === "Enter" && !ctrl && !meta) {
      const piece = pieceAt(focus);
      return piece && anchor === focus ? { action: "open", piece: piece } : null;
    }
    return null;
  }

  /* ------------------------------------------------------------ state */

  let anchor = 0, focus = 0; // UTF-16 offsets
  let applied = ""; // "anchor:focus" as last put into the document's selection
  let lastLabels = "";

  /** The DOM point of UTF-16 offset i: in the text node holding the
   *  character at i (the end of the last one at the end). */
  function pointAt(blk, i) {
    const walker = document.createTreeWalker(blk, NodeFilter.SHOW_TEXT);
    let pos = 0, node, last = null;
    while ((node = walker.nextNode())) {
      const len = node.data.length;
      if (i < pos + len) return [node, i - pos];
      pos += len;
      last = node;
    }
    return last ? [last, last.data.length] : [blk, 0];
  }

  function pieceAt(i) {
    const blk = textBlock();
    for (const k of [i, i > 0 ? wc.floorBound(i - 1) : -1]) {
      if (k < 0 || k >= TEXT.length) continue;
      const node = pointAt(blk, k)[0];
      const seg = node.parentElement && node.parentElement.closest(".seg");
      if (seg && blk.contains(seg)) return seg;
    }
    return null;
  }

  /** The code labels of segments covering any of [a, b). */
  function labelsIn(a, b) {
    const blk = textBlock();
    const walker = document.createTreeWalker(blk, NodeFilter.SHOW_TEXT);
    const found = [];
    let pos = 0, node;
    while ((node = walker.nextNode()) && pos < b) {
      const len = node.data.length;
      if (pos + len > a) {
        const seg = node.parentElement.closest(".seg");
        if (seg && blk.contains(seg) && seg.title && found.indexOf(seg.title) < 0) found.push(seg.title);
      }
      pos += len;
    }
    return found.join("; ");
  }

  /** Put the state into the document's selection and draw the caret. */
  function apply(scroll) {
    const blk = textBlock();
    const a = pointAt(blk, anchor), f = pointAt(blk, focus);
    window.getSelection().setBaseAndExtent(a[0], a[1], f[0], f[1]);
    applied = anchor + ":" + focus;
    draw(scroll);
    preview();
  }

  // A mouse selection inside the text moves the caret too.
  document.addEventListener("selectionchange", () => {
    const blk = textBlock();
    const sel = window.getSelection();
    if (!blk || !sel || !sel.rangeCount) return;
    if (!blk.contains(sel.anchorNode) || !blk.contains(sel.focusNode)) return;
    const a = wc.u16At(sel.anchorNode, sel.anchorOffset);
    const f = wc.u16At(sel.focusNode, sel.focusOffset);
    if (a === null || f === null) return;
    anchor = wc.floorBound(a);
    focus = wc.floorBound(f);
    // Not the selection drawn by preview(): the mouse made a new one.
    if (anchor + ":" + focus !== applied && window.CSS && CSS.highlights) CSS.highlights.delete("wb-snap");
    draw(false);
  });

  /* ------------------------------------------------------------ drawing */

  const caret = document.createElement("span");
  caret.className = "text-caret";
  caret.setAttribute("aria-hidden", "true");
  caret.hidden = true;

  /** The caret at the selection's focus, while the text has focus. */
  function draw(scroll) {
    const blk = textBlock();
    if (!blk || document.activeElement !== blk) {
      caret.hidden = true;
      return;
    }
    if (caret.parentElement !== blk.parentElement) blk.parentElement.append(caret);
    const f = pointAt(blk, focus);
    const r = document.createRange();
    r.setStart(f[0], f[1]);
    r.collapse(true);
    let box = r.getClientRects()[0];
    if (!box || !box.height) {
      // No box for a collapsed range on an empty line: the line break
      // there has one (so does the character before, at the very end).
      const next = focus < TEXT.length ? wc.rangeFromU16(focus, move(focus, "grapheme", 1)) : null;
      const prev = focus > 0 ? wc.rangeFromU16(move(focus, "grapheme", -1), focus) : null;
      const rects = [].concat(next ? Array.from(next.getClientRects()) : [],
                              prev ? Array.from(prev.getClientRects()).reverse() : []);
      box = rects.find((x) => x.height) || blk.getBoundingClientRect();
    }
    // The CSSOM is allowed by the CSP; style attributes in markup are not.
    caret.hidden = false;
    const host = caret.parentElement.getBoundingClientRect();
    const x = box.left - host.left - caret.parentElement.clientLeft;
    const y = box.top - host.top - caret.parentElement.clientTop;
    caret.style.transform = "translate(" + x + "px, " + y + "px)";
    caret.style.height = Math.max(box.height, 12) + "px";
    // Solid while moving, then blinking again.
    if (caret.getAnimations) caret.getAnimations().forEach((an) => { an.currentTime = 0; });
    if (scroll) caret.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  // What a code would take when snapping changes the selection (whole
  // words, no edge spaces): drawn beneath the selection.
  function preview() {
    if (!window.Highlight || !window.CSS || !CSS.highlights) return;
    CSS.highlights.delete("wb-snap");
    if (anchor === focus) return;
    const span = wc.selectionSpan();
    const lo = Math.min(anchor, focus), hi = Math.max(anchor, focus);
    if (span && (span.a !== lo || span.b !== hi)) {
      const r = wc.rangeFromU16(span.a, span.b);
      if (r) CSS.highlights.set("wb-snap", new Highlight(r));
    }
  }

  /* ------------------------------------------------------------ speech */

  let sayTimer = null, toggle = false;

  // Held keys move fast: only the last position is read out.
  function say(text) {
    clearTimeout(sayTimer);
    sayTimer = setTimeout(() => {
      // The same words twice are read twice only if the text changes.
      toggle = !toggle;
      live.textContent = text + (toggle ? "\u00a0" : "");
    }, 120);
  }

  function excerpt(a, b) {
    if (b - a > 80) {
      return TEXT.slice(a, wc.floorBound(a + 50)).trim() + " … " + TEXT.slice(wc.ceilBound(b - 20), b).trim();
    }
    return TEXT.slice(a, b);
  }

  function spoken(a, b) {
    const t = TEXT.slice(a, b);
    if (t === " " || t === "\u00a0") return "space";
    if (t === "\n") return "line break";
    if (t === "\t") return "tab";
    const s = excerpt(a, b).replace(/\s+/g, " ").trim();
    return s || "spaces";
  }

  function characters(n) {
    return n === 1 ? "1 character" : n + " characters";
  }

  function sayMove(from, to) {
    if (from === to) {
      if (to === 0) say("Start of the article");
      else if (to === TEXT.length) say("End of the article");
      return;
    }
    const a = Math.min(from, to), b = Math.max(from, to);
    let msg = spoken(a, b);
    const labels = labelsIn(a, b);
    if (labels && labels !== lastLabels) msg += ", coded " + labels;
    else if (!labels && lastLabels) msg += ", not coded";
    lastLabels = labels;
    if (to === TEXT.length) msg += ", end of the article";
    say(msg);
  }

  function saySelection() {
    const a = Math.min(anchor, focus), b = Math.max(anchor, focus);
    let msg = "Selected " + characters(wc.codePoints(b) - wc.codePoints(a)) + ": " + excerpt(a, b);
    const span = wc.selectionSpan();
    // ";" because the text itself may end with a full stop.
    if (!span) msg += "; only spaces, nothing to code";
    else if (span.a !== a || span.b !== b) {
      msg += "; a code takes " + characters(span.end - span.start) + ": " + excerpt(span.a, span.b);
    }
    say(msg);
  }

  /* ------------------------------------------------------------ keys */

  function run(cmd, extend) {
    const from = focus;
    const lo = Math.min(anchor, focus), hi = Math.max(anchor, focus);
    if (cmd.action === "open") {
      cmd.piece.click(); // coding.js opens the innermost segment's panel
      return;
    }
    if (cmd.action === "collapse") {
      anchor = focus;
      apply(true);
      say("Selection cleared");
      return;
    }
    if (cmd.action === "all") {
      anchor = 0;
      focus = TEXT.length;
      apply(false);
      saySelection();
      return;
    }
    if (!extend && lo < hi && cmd.unit === "grapheme") {
      // Left/Right on a selection: to its start/end, as in a text field.
      focus = cmd.dir > 0 ? hi : lo;
    } else {
      focus = move(focus, cmd.unit, cmd.dir);
    }
    if (!extend) anchor = focus;
    apply(true);
    if (anchor !== focus) saySelection();
    else if (lo < hi) say("Selection cleared");
    else sayMove(from, focus);
  }

  // Capture: before coding.js's own keydown (Escape there closes the panel).
  // Only the keys above are taken, and only while the text has focus; code
  // keys, Ctrl+Z and every key in a form field pass untouched.
  document.addEventListener("keydown", (ev) => {
    const blk = textBlock();
    if (!blk || ev.target !== blk || ev.isComposing || ev.defaultPrevented) return;
    const cmd = command(ev);
    if (!cmd) return;
    ev.preventDefault();
    ev.stopPropagation();
    run(cmd, ev.shiftKey);
  }, true);

  /* ------------------------------------------------------------ focus and swaps */

  function prepare(blk) {
    if (!blk || blk.hasAttribute("tabindex")) return;
    blk.tabIndex = 0;
    blk.setAttribute("role", "textbox");
    blk.setAttribute("aria-readonly", "true");
    blk.setAttribute("aria-multiline", "true");
    blk.setAttribute("aria-labelledby", "text-label");
    blk.setAttribute("aria-describedby", "text-keys-brief");
  }

  document.addEventListener("focusin", (ev) => {
    const blk = textBlock();
    if (ev.target !== blk) return;
    const sel = window.getSelection();
    const inside = sel.rangeCount && blk.contains(sel.anchorNode) && blk.contains(sel.focusNode);
    // Back in the text (after a swap, or from a code button): the caret
    // and any selection are where they were.
    if (inside) draw(false); else apply(false);
    lastLabels = labelsIn(focus, move(focus, "grapheme", 1));
  });
  document.addEventListener("focusout", (ev) => {
    if (ev.target === textBlock()) caret.hidden = true;
  });
  window.addEventListener("resize", () => draw(false));

  // A new segment was queued from the selection: the caret stays after it,
  // ready for the next one.
  document.addEventListener("wb:coded", (ev) => {
    anchor = focus = ev.detail.b;
    if (window.CSS && CSS.highlights) CSS.highlights.delete("wb-snap");
    if (document.activeElement === textBlock()) {
      ev.preventDefault();
      apply(false);
    }
  });

  let statusEl = document.getElementById("status");
  function swapped() {
    prepare(textBlock());
    const status = document.getElementById("status");
    if (status && status !== statusEl) {
      statusEl = status;
      const flash = status.querySelector(".flash");
      const text = flash ? flash.textContent.trim() : "";
      if (text) say(text);
    }
  }
  // coding.js swaps the server's regions in itself (before focus returns to
  // the new text block); htmx's own swaps are covered too.
  document.addEventListener("wb:swapped", swapped);
  document.addEventListener("htmx:afterSwap", swapped);
  document.addEventListener("htmx:oobAfterSwap", swapped);

  prepare(textBlock());

  // For tests: the pure moves and the caret's state.
  wc.caret = {
    move: move,
    state: () => ({ anchor: anchor, focus: focus }),
  };
})();
