/**
 * The measuring process of bench/detect.ts: one detection and nothing else. By default plain
 * Node, no TypeScript loader, running the built detection (out/main/detection.js, detectInWorker
 * and its worker threads as `npm run build` makes them for the desktop app and `node
 * out/main/cli.js`): its resident set is then the detection's own cost on top of a bare Node
 * process. With --source, under tsx, the TypeScript sources as `npm run portent` runs them.
 *
 *   node bench/detectHost.mjs <input.json>
 *   node --import tsx bench/detectHost.mjs --source <input.json>   (the TypeScript sources instead)
 * input.json: detectInWorker's input ({dbPath, modelDir, backend, options, nowMs, seed}).
 * Prints one JSON line: the run's result (incidents left out) with backendDetail and the threads'
 * memory, and the process's measures: rss_before_mb, peak_rss_mb (sampled every 20 ms),
 * process_hwm_mb (the kernel's high-water mark), total_s and cpu_s.
 */
import fs from 'node:fs';

const argv = process.argv.slice(2);
const source = argv.includes('--source');
const [inputFile] = argv.filter((a) => a !== '--source');
if (!inputFile) {
  console.error('usage: node bench/detectHost.mjs <input.json>, or node --import tsx bench/detectHost.mjs --source <input.json>');
  process.exit(2);
}
const input = JSON.parse(fs.readFileSync(inputFile, 'utf8'));
const module = new URL(source ? '../src/main/engine/detect/detectInWorker.ts' : '../out/main/detection.js', import.meta.url);
if (!fs.existsSync(module)) {
  console.error(`bench/detectHost: ${module.pathname} is missing; run \`npm run build\` first`);
  process.exit(2);
}
const { detectInWorker } = await import(module.href);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const mb = (bytes) => Math.round(bytes / 1e6);
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const result = await detectInWorker(input, quiet).result;
const totalS = (performance.now() - t0) / 1000;
// CPU time of the process (the workers are threads of it): what the run cost, whatever else the
// machine was doing, as wall time on a shared machine is not.
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.existsSync('/proc/self/status') ? fs.readFileSync('/proc/self/status', 'utf8') : '');
const { incidents, ...rest } = result;
console.log(
  JSON.stringify({
    result: { ...rest, incidentPorts: incidents.map((i) => i.ports.map((p) => ({ proto: p.proto, port: p.port }))) },
    rss_before_mb: mb(before),
    peak_rss_mb: mb(peak),
    process_hwm_mb: hwm ? mb(Number(hwm[1]) * 1024) : null,
    total_s: totalS,
    cpu_s: (cpu.user + cpu.system) / 1e6,
  }),
);
process.exit(0);
