// A JavaScript workload for the perf-map test: two hot functions, 3:1, run for argv[2] seconds.
"use strict";
function parseOrders(n) {
  let x = n;
  for (let i = 0; i < 3000000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}
function renderInvoice(n) {
  let x = n;
  for (let i = 0; i < 1000000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}
const deadline = Date.now() + 1000 * Number(process.argv[2] || 3);
let seed = 1;
while (Date.now() < deadline) {
  seed = parseOrders(seed) + renderInvoice(seed);
}
console.log(seed > 0 ? "done" : "");
