// The interactive flame graph page. Everything is inline: the page makes no network requests.
// Markers @TITLE@, @META@ and @DATA@ are replaced by renderFlameGraphHtml().
#pragma once

namespace kprof::agent {

inline constexpr const char* kFlameGraphPage = R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>@TITLE@</title>
<style>
  body { font: 13px system-ui, sans-serif; margin: 0; color: #222; }
  header { display: flex; gap: 12px; align-items: center; padding: 8px 12px; border-bottom: 1px solid #ddd; }
  header h1 { font-size: 15px; margin: 0; flex: 1; }
  input[type=search] { width: 260px; padding: 3px 6px; }
  #status { padding: 4px 12px; color: #555; min-height: 18px; }
  #graph { position: relative; margin: 0 12px 12px; }
  canvas { display: block; width: 100%; }
  #tip { position: fixed; pointer-events: none; background: #fff; border: 1px solid #999;
         padding: 4px 6px; font: 12px monospace; display: none; max-width: 600px; word-break: break-all; }
</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <input id="search" type="search" placeholder="Search functions (regex)" aria-label="search">
  <button id="reset">Reset zoom</button>
</header>
<div id="status"></div>
<div id="graph"><canvas id="canvas"></canvas></div>
<div id="tip"></div>
<script>
"use strict";
const META = @META@;
const ROOT = @DATA@;
const ROW = 18;
const canvas = document.getElementById("canvas");
const ctx = canvas.getContext("2d");
const tip = document.getElementById("tip");
const status = document.getElementById("status");
document.getElementById("title").textContent = META.title;

// Parent links and depth, once.
(function link(node, parent, depth) {
  node.p = parent; node.d = depth; node.c = node.c || [];
  for (const child of node.c) link(child, node, depth + 1);
})(ROOT, null, 0);

let focus = ROOT;
let pattern = null;
let boxes = [];

function hashColour(name) {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
  const r = 205 + (Math.abs(h) % 50), g = 80 + (Math.abs(h >> 8) % 130), b = Math.abs(h >> 16) % 55;
  return "rgb(" + r + "," + g + "," + b + ")";
}
function diffColour(node) {
  const share = node.v / Math.max(ROOT.v, 1), base = (node.b || 0) / Math.max(ROOT.b || 0, 1);
  const d = Math.max(-1, Math.min(1, (share - base) * 5)), s = Math.round(Math.abs(d) * 200);
  return d >= 0 ? "rgb(255," + (230 - s) + "," + (230 - s) + ")" : "rgb(" + (230 - s) + "," + (230 - s) + ",255)";
}
function pct(v, total) { return (100 * v / Math.max(total, 1)).toFixed(2) + "%"; }
function maxDepth(node) { let m = node.d; for (const c of node.c) m = Math.max(m, maxDepth(c)); return m; }

function draw() {
  const width = canvas.parentElement.clientWidth;
  const rows = maxDepth(ROOT) + 1;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio; canvas.height = rows * ROW * ratio;
  canvas.style.height = rows * ROW + "px";
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.font = "12px monospace"; ctx.textBaseline = "middle";
  boxes = [];
  let matched = 0;
  // Ancestors of the focus span the full width; the focus subtree is scaled to it.
  for (let a = focus.p; a; a = a.p) boxes.push({ node: a, x: 0, w: width });
  const scale = width / Math.max(focus.v, 1);
  (function layout(node, x) {
    const w = node.v * scale;
    if (w < 0.5) return;
    boxes.push({ node, x, w });
    let cx = x;
    for (const child of node.c) { layout(child, cx); cx += child.v * scale; }
  })(focus, 0);
  const counted = new Set();
  for (const box of boxes) {
    const node = box.node, y = node.d * ROW;
    const hit = pattern && pattern.test(node.n);
    if (hit) {
      // Count a match once, not again below a matching ancestor.
      let covered = false;
      for (let a = node.p; a; a = a.p) if (counted.has(a)) { covered = true; break; }
      if (!covered) { matched += node.v; counted.add(node); }
    }
    ctx.fillStyle = hit ? "#e040fb" : (META.diff ? diffColour(node) : hashColour(node.n));
    ctx.fillRect(box.x, y, Math.max(box.w - 1, 0.5), ROW - 1);
    if (box.w > 30) {
      ctx.fillStyle = "#000";
      const max = Math.floor((box.w - 6) / 7.2);
      const label = node.n.length > max ? node.n.slice(0, Math.max(max - 2, 0)) + ".." : node.n;
      ctx.fillText(label, box.x + 3, y + ROW / 2);
    }
  }
  status.textContent = pattern
      ? "Matched: " + matched + " " + META.unit + " (" + pct(matched, ROOT.v) + " of total)"
      : "Total: " + ROOT.v + " " + META.unit + (focus !== ROOT ? " — zoomed into " + focus.n : "") +
        " — click a frame to zoom, search to highlight";
}

function boxAt(event) {
  const rect = canvas.getBoundingClientRect();
  const x = event.clientX - rect.left, y = event.clientY - rect.top;
  const depth = Math.floor(y / ROW);
  for (const box of boxes) if (box.node.d === depth && x >= box.x && x < box.x + box.w) return box;
  return null;
}

canvas.addEventListener("mousemove", (event) => {
  const box = boxAt(event);
  if (!box) { tip.style.display = "none"; return; }
  const n = box.node;
  let text = n.n + "\n" + n.v + " " + META.unit + " (" + pct(n.v, ROOT.v) + ")";
  if (META.diff) text += "\nbase: " + (n.b || 0) + " (" + pct(n.b || 0, ROOT.b || 0) + ")";
  tip.textContent = text; tip.style.whiteSpace = "pre";
  tip.style.left = (event.clientX + 12) + "px"; tip.style.top = (event.clientY + 12) + "px";
  tip.style.display = "block";
});
canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
canvas.addEventListener("click", (event) => { const box = boxAt(event); if (box) { focus = box.node; draw(); } });
document.getElementById("reset").addEventListener("click", () => { focus = ROOT; draw(); });
document.getElementById("search").addEventListener("input", (event) => {
  const text = event.target.value;
  try { pattern = text ? new RegExp(text) : null; } catch (e) { pattern = null; status.textContent = "Invalid regex"; return; }
  draw();
});
window.addEventListener("resize", draw);
draw();
</script>
</body>
</html>
)PAGE";

}  // namespace kprof::agent
