/* The coding page's script: no build step, an enhancement of plain forms.
 *
 * 1. Selection -> offsets. The text block's textContent equals the stored
 *    text, so a DOM Range becomes UTF-16 offsets by counting characters;
 *    those are snapped (whole words if wanted, never half a grapheme) and
 *    converted to Unicode code points, the unit the server stores. The
 *    selected text goes along as `quote`; the server refuses a mismatch.
 * 2. An outbox. Every change (create, edit, delete, undo, redo, done) is
 *    queued, kept in localStorage until the server confirms it, sent one at
 *    a time and retried with backoff when the network or server fails. A new
 *    segment carries a client_id made here, so a retry never duplicates it.
 *    Nothing is drawn as saved before the server's answer replaces the text.
 * 3. Swapping. The server answers with the changed regions (elements with
 *    ids: text block, segment list, status, ...); each replaces its namesake.
 *
 * Keyboard selection (a caret in the text) lives in coding-caret.js; it
 * uses the helpers exported at the end and two events fired here:
 * "wb:swapped" once new regions are in (before focus is restored) and
 * "wb:coded" (cancelable) when a selection has been queued as a segment.
 */
(function () {
  "use strict";

  const root = document.getElementById("coding");
  if (!root || !window.fetch) return;

  const STORE = "wb.outbox." + (root.dataset.user || "") + "." + location.pathname;
  const SNAP_KEY = "wb.snapWords";
  const pageUrl = root.dataset.pageUrl;
  const segmentsUrl = root.dataset.segmentsUrl;
  let block = document.getElementById("text-block");
  // Document.text never changes once imported, so neither does this.
  const TEXT = block.textContent;

  /* ------------------------------------------------------------ offsets */

  let graphemes = null; // sorted UTF-16 indexes of grapheme boundaries
  let words = null; // [start, end) UTF-16 ranges of word-like segments

  function segmenter(granularity) {
    try {
      return new Intl.Segmenter(undefined, { granularity: granularity });
    } catch (e) {
      return null;
    }
  }

  function graphemeBounds() {
    if (graphemes) return graphemes;
    const out = [];
    const seg = segmenter("grapheme");
    if (seg) {
      for (const s of seg.segment(TEXT)) out.push(s.index);
    } else {
      // Without Intl.Segmenter: never split a surrogate pair at least.
      for (let i = 0; i < TEXT.length; i++) {
        out.push(i);
        if (isHigh(TEXT.charCodeAt(i)) && isLow(TEXT.charCodeAt(i + 1))) i++;
      }
    }
    out.push(TEXT.length);
    graphemes = out;
    return out;
  }

  function wordRanges() {
    if (words) return words;
    words = [];
    const seg = segmenter("word");
    if (seg) {
      for (const s of seg.segment(TEXT)) {
        if (s.isWordLike) words.push([s.index, s.index + s.segment.length]);
      }
    }
    return words;
  }

  function isHigh(c) { return c >= 0xd800 && c <= 0xdbff; }
  function isLow(c) { return c >= 0xdc00 && c <= 0xdfff; }

  // Largest boundary <= i, smallest boundary >= i.
  function floorBound(i) {
    const b = graphemeBounds();
    let lo = 0, hi = b.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (b[mid] <= i) lo = mid; else hi = mid - 1;
    }
    return b[lo];
  }
  function ceilBound(i) {
    const b = graphemeBounds();
    let lo = 0, hi = b.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (b[mid] >= i) hi = mid; else lo = mid + 1;
    }
    return b[lo];
  }

  function wordContaining(i) {
    const w = wordRanges();
    let lo = 0, hi = w.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (w[mid][1] <= i) lo = mid + 1;
      else if (w[mid][0] > i) hi = mid - 1;
      else return w[mid];
    }
    return null;
  }

  function snapWords() {
    return localStorage.getItem(SNAP_KEY) !== "0";
  }

  /** Snap UTF-16 [a, b): whole words (optional), no edge whitespace,
   *  whole grapheme clusters. Returns null when nothing is left. */
  function snap(a, b) {
    if (snapWords()) {
      const w1 = wordContaining(a);
      if (w1 && w1[0] < a) a = w1[0];
      const w2 = wordContaining(b);
      if (w2 && w2[0] < b) b = w2[1];
    }
    while (a < b && /\s/.test(TEXT[a])) a++;
    while (b > a && /\s/.test(TEXT[b - 1])) b--;
    a = floorBound(a);
    b = ceilBound(b);
    return a < b ? [a, b] : null;
  }

  /** Code points in TEXT[0:i) (i in UTF-16 units). */
  function codePoints(i) {
    let n = 0;
    for (let k = 0; k < i; k++) {
      if (isHigh(TEXT.charCodeAt(k)) && k + 1 < i && isLow(TEXT.charCodeAt(k + 1))) k++;
      n++;
    }
    return n;
  }

  /** UTF-16 offset of a DOM point, clamped to the text block. */
  function u16At(node, offset) {
    const all = document.createRange();
    all.selectNodeContents(block);
    let cmp;
    try {
      cmp = all.comparePoint(node, offset);
    } catch (e) {
      return null;
    }
    if (cmp < 0) return 0;
    if (cmp > 0) return TEXT.length;
    all.setEnd(node, offset);
    return all.toString().length;
  }

  function rangeFromU16(a, b) {
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let pos = 0, started = false, node;
    while ((node = walker.nextNode())) {
      const len = node.data.length;
      if (!started && a <= pos + len) { range.setStart(node, a - pos); started = true; }
      if (started && b <= pos + len) { range.setEnd(node, b - pos); return range; }
      pos += len;
    }
    return null;
  }

  /** The current selection as {a, b (UTF-16), start, end (code points), quote}. */
  function selectionSpan() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const r = sel.getRangeAt(0);
    let a = u16At(r.startContainer, r.startOffset);
    let b = u16At(r.endContainer, r.endOffset);
    if (a === null || b === null) return null;
    if (a > b) [a, b] = [b, a];
    const s = a < b ? snap(a, b) : null;
    if (!s) return null;
    return { a: s[0], b: s[1], start: codePoints(s[0]), end: codePoints(s[1]), quote: TEXT.slice(s[0], s[1]) };
  }

  // Show the coder what will be coded: the snapped selection.
  function showSnapped() {
    const span = selectionSpan();
    if (!span) return;
    const r = rangeFromU16(span.a, span.b);
    if (!r) return;
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
  }

  /* ------------------------------------------------------------ outbox */

  let queue = loadQueue();
  // Changes Ctrl+Z dropped from the queue before they were sent, the latest
  // last: Redo queues them again (the server never saw them), until a new
  // change is queued.
  let cancelled = [];
  let busy = false, attempt = 0, timer = null, retryAt = 0, failure = "";
  const outbox = document.getElementById("outbox");

  function loadQueue() {
    try {
      return JSON.parse(localStorage.getItem(STORE) || "[]");
    } catch (e) {
      return [];
    }
  }
  function saveQueue() {
    try {
      if (queue.length) localStorage.setItem(STORE, JSON.stringify(queue));
      else localStorage.removeItem(STORE);
    } catch (e) { /* private mode: the queue still lives in memory */ }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function enqueue(item, keepCancelled) {
    // A new change: the ones cancelled before it cannot be brought back.
    if (!keepCancelled) cancelled = [];
    item.id = uuid();
    queue.push(item);
    saveQueue();
    render();
    pump();
  }

  async function pump() {
    if (busy || !queue.length) return;
    clearTimeout(timer);
    timer = null;
    busy = true;
    render();
    const item = queue[0];
    item.sent = true;
    saveQueue();
    let resp, html;
    try {
      resp = await fetch(item.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "HX-Request": "true",
          "HX-Current-URL": location.href,
          "X-CSRFToken": csrf(),
          "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        },
        // URL-encoded: newlines in a quote travel as they are.
        body: new URLSearchParams(item.fields),
      });
      html = await resp.text();
    } catch (e) {
      return fail("the server could not be reached", true);
    }
    if (resp.redirected && /\/accounts\/login\//.test(resp.url)) {
      return fail("you are logged out; log in again in another tab", true);
    }
    if (resp.status >= 500 || resp.status === 408 || resp.status === 429) {
      return fail("the server had a problem (" + resp.status + ")", true);
    }
    if (resp.status === 403 && html.indexOf('id="status"') < 0) {
      return fail("the page's security token is out of date; reload the page (your change is kept)", false);
    }
    queue.shift();
    saveQueue();
    busy = false;
    attempt = 0;
    failure = "";
    if (resp.status >= 400 && html.indexOf('id="status"') < 0) {
      // Not one of this page's fragments (e.g. a 404 page): say so, swap nothing.
      note("The server refused a change (" + resp.status + "): it may have been " +
           "changed elsewhere. Reload the page to see the current state.", "error");
      render();
      pump();
      return;
    }
    const target = resp.headers.get("HX-Redirect");
    if (target && !queue.length) {
      location.assign(target);
      return;
    }
    swapIn(html, item);
    render();
    pump();
  }

  function fail(why, retry) {
    busy = false;
    attempt += 1;
    failure = why;
    // 1, 2, 4, 8 s, then every 15 s: soon enough after a server restart.
    const delay = Math.min(15, Math.pow(2, attempt - 1));
    retryAt = retry ? Date.now() + delay * 1000 : 0;
    if (retry) timer = setTimeout(pump, delay * 1000);
    render();
  }

  function retryNow() {
    clearTimeout(timer);
    timer = null;
    pump();
  }

  /** Drop the last queued change if it was never sent: once sent, the server
   *  may have saved it even if its answer was lost, so it is undone there. */
  function cancelLast() {
    const last = queue[queue.length - 1];
    if (!last || last.sent || last.kind === "undo") return null;
    queue.pop();
    saveQueue();
    render();
    return last;
  }

  let ticker = null;
  function render() {
    if (outbox) {
      outbox.textContent = "";
      outbox.classList.toggle("failed", !!failure);
      if (!queue.length) {
        outbox.hidden = true;
      } else {
        outbox.hidden = false;
        const n = queue.length;
        const what = n === 1 ? "1 change" : n + " changes";
        const p = document.createElement("span");
        if (failure) {
          const wait = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
          p.textContent = "Not saved yet: " + failure + ". " + what + " waiting" +
            (retryAt ? (wait ? "; retrying in " + wait + " s." : "; retrying…") : ".");
          outbox.append(p, " ");
          const b = document.createElement("button");
          b.type = "button";
          b.id = "outbox-retry";
          b.textContent = "Retry now";
          outbox.append(b);
        } else {
          p.textContent = "Saving " + what + "…";
          outbox.append(p);
        }
      }
    }
    if (failure && retryAt && !ticker) ticker = setInterval(render, 1000);
    if ((!failure || !retryAt) && ticker) { clearInterval(ticker); ticker = null; }
    paintPending();
    panelBusy();
  }

  // Pending (unconfirmed) segments: drawn with the CSS Highlight API, which
  // leaves the DOM alone, and only until the server's answer replaces them.
  function paintPending() {
    if (!window.Highlight || !window.CSS || !CSS.highlights) return;
    const ranges = [];
    for (const item of queue) {
      if (item.kind === "create" && item.a !== undefined) {
        const r = rangeFromU16(item.a, item.b);
        if (r) ranges.push(r);
      }
    }
    CSS.highlights.delete("wb-pending");
    CSS.highlights.delete("wb-failed");
    if (ranges.length) CSS.highlights.set(failure ? "wb-failed" : "wb-pending", new Highlight(...ranges));
  }

  function panelBusy() {
    const waiting = queue.some((i) => i.fromPanel);
    document.querySelectorAll("#panel button[type=submit]").forEach((b) => { b.disabled = waiting; });
  }

  // Back online: do not wait for the next scheduled retry.
  window.addEventListener("online", () => { if (failure) retryNow(); });

  window.addEventListener("beforeunload", (ev) => {
    if (queue.length) {
      ev.preventDefault();
      ev.returnValue = "";
    }
  });

  /* ------------------------------------------------------------ swapping */

  function panelDirty() {
    const memo = document.getElementById("panel-memo");
    return !!memo && memo.value !== memo.defaultValue;
  }

  function noteDirty(item) {
    const note = document.getElementById("id_note");
    if (!note || note.value === note.defaultValue) return false;
    // FormData sends the textarea's newlines as \r\n; its value has \n.
    const sent = item && item.kind === "note" ? String(item.fields.note).replace(/\r\n/g, "\n") : null;
    return sent !== note.value;
  }

  function swapIn(html, item) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html;
    const activeId = document.activeElement && document.activeElement.id;
    for (const el of Array.from(tpl.content.children)) {
      const old = el.id && document.getElementById(el.id);
      if (!old) continue;
      // Never throw away a memo being typed because another change finished.
      if (el.id === "panel" && !(item && item.fromPanel) && panelDirty()) continue;
      // Nor a note typed on after the one just saved.
      if (el.id === "doc-note" && noteDirty(item)) continue;
      el.removeAttribute("hx-swap-oob");
      old.replaceWith(el);
      if (window.htmx) window.htmx.process(el);
    }
    block = document.getElementById("text-block");
    document.dispatchEvent(new CustomEvent("wb:swapped"));
    const again = activeId && document.getElementById(activeId);
    if (again && document.activeElement !== again) again.focus({ preventScroll: true });
    else if (item && item.fromPanel && document.activeElement === document.body) {
      const panel = document.getElementById("panel");
      (panel && !panel.classList.contains("closed") ? panel : document.getElementById("status")).focus({ preventScroll: true });
    }
    markCurrent();
  }

  function markCurrent() {
    block.querySelectorAll(".seg.current").forEach((el) => el.classList.remove("current"));
    const panel = document.getElementById("panel");
    const id = panel && panel.dataset.seg;
    if (id) block.querySelectorAll('.seg[data-segs~="' + id + '"]').forEach((el) => el.classList.add("current"));
  }

  async function openPanel(url) {
    if (panelDirty() && !window.confirm("Discard the memo you have not saved?")) return;
    try {
      const resp = await fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
      if (!resp.ok) {
        note(resp.status === 404 ? "That segment no longer exists." : "Could not open the segment (" + resp.status + ").", "error");
        return;
      }
      swapIn(await resp.text(), { fromPanel: true });
      const panel = document.getElementById("panel");
      if (panel) {
        panel.scrollIntoView({ block: "nearest" });
        panel.focus({ preventScroll: true });
      }
    } catch (e) {
      note("Could not open the segment: the server could not be reached.", "error");
    }
  }

  function closePanel() {
    if (panelDirty() && !window.confirm("Discard the memo you have not saved?")) return;
    const panel = document.getElementById("panel");
    if (!panel) return;
    const empty = document.createElement("section");
    empty.id = "panel";
    empty.className = "panel closed";
    empty.tabIndex = -1;
    // Focus inside the panel would fall to the top of the page: back to
    // the text, where the segment is (and the keyboard caret, if used).
    const hadFocus = panel.contains(document.activeElement);
    panel.replaceWith(empty);
    if (hadFocus && block.tabIndex >= 0) block.focus({ preventScroll: true });
    markCurrent();
  }

  function note(text, level) {
    const status = document.getElementById("status");
    const p = status && status.querySelector(".flash");
    if (p) {
      p.className = "flash " + (level || "info");
      p.textContent = text;
    }
  }

  function jumpTo(id) {
    const anchor = document.getElementById("at-" + id);
    if (!anchor) return;
    const pieces = block.querySelectorAll('.seg[data-segs~="' + id + '"]');
    (pieces[0] || anchor).scrollIntoView({ block: "center", behavior: "smooth" });
    pieces.forEach((el) => el.classList.add("flash"));
    setTimeout(() => pieces.forEach((el) => el.classList.remove("flash")), 1600);
  }

  /* ------------------------------------------------------------ actions */

  function codeName(button) {
    const name = button && button.querySelector(".name");
    return name ? name.textContent : "code";
  }

  function createFromSelection(button) {
    const span = selectionSpan();
    if (!span) return false;
    enqueue({
      kind: "create",
      url: segmentsUrl,
      fields: { code: button.value, start: span.start, end: span.end, quote: span.quote, client_id: uuid() },
      a: span.a,
      b: span.b,
    });
    // The caret script may keep a collapsed caret after the span instead.
    const coded = new CustomEvent("wb:coded", { detail: span, cancelable: true });
    if (document.dispatchEvent(coded)) window.getSelection().removeAllRanges();
    return true;
  }

  function undo() {
    const dropped = cancelLast();
    if (dropped) {
      cancelled.push(dropped);
      note("Cancelled a change that was not saved yet.");
      return;
    }
    // A step id kept across retries: the server applies each step once.
    enqueue({ kind: "undo", url: pageUrl + "undo/", fields: { step: uuid() } });
  }

  function redo() {
    const again = cancelled.pop();
    if (again) {
      // Same fields (a new segment keeps its client_id): still never sent.
      enqueue(again, true);
      note("Brought back the change you cancelled; saving it.");
      return;
    }
    enqueue({ kind: "redo", url: pageUrl + "redo/", fields: { step: uuid() } });
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest && ev.target.closest("form[data-queue]");
    if (!form || !root.contains(form)) return;
    ev.preventDefault();
    const kind = form.dataset.queue;
    const submitter = ev.submitter;
    if (kind === "create") {
      if (!submitter || !submitter.value) return;
      if (createFromSelection(submitter)) return;
      const start = form.elements.start, end = form.elements.end;
      if (start && end && start.value !== "" && end.value !== "") {
        enqueue({ kind: kind, url: form.action,
                  fields: { code: submitter.value, start: start.value, end: end.value, client_id: uuid() } });
        start.value = end.value = "";
      } else {
        note("Select some text in the article first, then press a code's key or click the code.");
      }
      return;
    }
    const data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    data.delete("csrfmiddlewaretoken");
    const fields = {};
    data.forEach((v, k) => { fields[k] = v; });
    if (kind === "undo" || kind === "redo") fields.step = uuid();  // applied once
    enqueue({ kind: kind, url: form.action, fields: fields, fromPanel: !!form.closest("#panel") });
  });

  // Clicking a code must not clear the selection it is meant for.
  document.addEventListener("mousedown", (ev) => {
    if (ev.target.closest && ev.target.closest(".code-btn")) ev.preventDefault();
  });

  document.addEventListener("mouseup", (ev) => {
    if (block.contains(ev.target)) setTimeout(showSnapped, 0);
  });

  document.addEventListener("click", (ev) => {
    const t = ev.target;
    if (!t.closest) return;
    if (t.closest("#outbox-retry")) { retryNow(); return; }
    const piece = t.closest("#text-block .seg");
    if (piece) {
      if (!window.getSelection().isCollapsed) return;
      const ids = piece.dataset.segs.split(" ");
      // Innermost last: open it, offer the others in the panel.
      openPanel(segmentsUrl + ids[ids.length - 1] + "/?also=" + ids.join(","));
      return;
    }
    const edit = t.closest("a[data-panel]");
    if (edit) { ev.preventDefault(); openPanel(edit.dataset.panel); return; }
    const jump = t.closest("a.jump");
    if (jump) { ev.preventDefault(); jumpTo(jump.dataset.seg); return; }
    if (t.closest("[data-close]")) { ev.preventDefault(); closePanel(); }
  });

  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    const typing = t.closest && t.closest("input, textarea, select, [contenteditable]");
    const key = (ev.key || "").toLowerCase();
    // Outside form fields, whose own undo and redo stay the browser's.
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && !ev.shiftKey && key === "z" && !typing) {
      ev.preventDefault();
      undo();
      return;
    }
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && !typing &&
        ((ev.shiftKey && key === "z") || (!ev.shiftKey && key === "y"))) {
      ev.preventDefault();
      redo();
      return;
    }
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter" && t.id === "panel-memo") {
      ev.preventDefault();
      t.form.requestSubmit();
      return;
    }
    if (ev.key === "Escape" && !typing) { closePanel(); return; }
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey || key.length !== 1) return;
    const button = Array.from(document.querySelectorAll(".code-btn[data-key]")).find(
      (b) => b.dataset.key.toLowerCase() === key
    );
    if (!button || button.disabled) return;
    if (createFromSelection(button)) ev.preventDefault();
  });

  /* ------------------------------------------------------------ start */

  const snapBox = document.getElementById("snap-words");
  if (snapBox) {
    snapBox.checked = snapWords();
    snapBox.addEventListener("change", () => localStorage.setItem(SNAP_KEY, snapBox.checked ? "1" : "0"));
  }
  document.querySelectorAll(".js-only").forEach((el) => { el.hidden = false; });
  markCurrent();
  if (queue.length) {
    note("Sending changes from your last visit that were not saved yet…");
    render();
    pump();
  }

  // For coding-caret.js, tests and the curious: the offset helpers.
  window.workbenchCoding = {
    text: TEXT,
    block: () => block,
    graphemeBounds: graphemeBounds,
    wordRanges: wordRanges,
    floorBound: floorBound,
    ceilBound: ceilBound,
    u16At: u16At,
    selectionSpan: selectionSpan,
    rangeFromU16: rangeFromU16,
    codePoints: codePoints,
  };
})();
