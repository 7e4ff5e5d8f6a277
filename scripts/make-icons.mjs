#!/usr/bin/env node
// Draws Portent's application icon (a radar sweep over a ring) into assets/ as PNG, so the icon
// is reproducible from source instead of being an opaque binary. Run: node scripts/make-icons.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** Encodes RGBA pixels as a PNG file. */
export function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Portent's one palette (assets/palette.json), shared with the window's stylesheet. */
export const PALETTE = JSON.parse(fs.readFileSync(path.join(root, 'assets', 'palette.json'), 'utf8'));
/** '#rrggbb' as [r, g, b]. */
export const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

// The glyph the tray and the app icon share, in unit coordinates (0..1 across the icon), so one
// drawing serves every size: a ring (what is normal), a hub and a sweep (the monitor looking).
export const C = 0.5;
export const ring = (r, w) => (x, y) => Math.abs(Math.hypot(x - C, y - C) - r) < w;
export const disc = (cx, cy, r) => (x, y) => Math.hypot(x - cx, y - cy) < r;
export const rect = (x0, y0, x1, y1) => (x, y) => x >= x0 && x < x1 && y >= y0 && y < y1;
export function segment(ax, ay, bx, by, w) {
  return (x, y) => {
    const dx = bx - ax, dy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
    return Math.hypot(x - ax - t * dx, y - ay - t * dy) < w;
  };
}
export const RING = ring(0.36, 0.06);
export const HUB = disc(C, C, 0.09);
export const SWEEP = segment(C, C, C + 0.26, C - 0.26, 0.045);
/** Where the tray's incident badge sits, and the app icon's blip. */
export const BADGE = { cx: 0.74, cy: 0.26, r: 0.25 };

/** A rounded square, the app icon's tile. */
const tile = (inset, radius) => (x, y) => {
  const qx = Math.max(Math.abs(x - C) - (0.5 - inset - radius), 0);
  const qy = Math.max(Math.abs(y - C) - (0.5 - inset - radius), 0);
  return Math.hypot(qx, qy) < radius;
};
/** The sweep's trail: a wedge behind the sweep inside the ring. */
const trail = (x, y) => {
  const d = Math.hypot(x - C, y - C);
  if (d > 0.3) return false;
  const behind = (Math.atan2(y - C, x - C) + Math.PI / 4 + 2 * Math.PI) % (2 * Math.PI);
  return behind > 2 * Math.PI - 1.4;
};

/**
 * Paints layers in order ([inside(x, y), [r, g, b, a]]; a null colour erases what is below),
 * supersampled 4x4 per pixel for smooth edges.
 */
export function draw(size, paint) {
  const px = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          let col = null;
          for (const [inside, colour] of paint) if (inside((x + (sx + 0.5) / n) / size, (y + (sy + 0.5) / n) / size)) col = colour;
          if (!col) continue;
          r += col[0] * col[3]; g += col[1] * col[3]; b += col[2] * col[3]; a += col[3];
        }
      }
      const i = (y * size + x) * 4;
      px[i] = a ? Math.round(r / a) : 0;
      px[i + 1] = a ? Math.round(g / a) : 0;
      px[i + 2] = a ? Math.round(b / a) : 0;
      px[i + 3] = Math.round(a / (n * n));
    }
  }
  return encodePng(size, size, px);
}

/**
 * The app icon: the tray's "normal" glyph, large, on a dark tile, with the sweep's trail and the
 * incident colour's blip where the tray puts its badge: something odd, found.
 */
function drawAppIcon(size) {
  const normal = [...rgb(PALETTE.state.normal.icon), 255];
  const incident = [...rgb(PALETTE.state.incident.icon), 255];
  const back = rgb(PALETTE.appIcon.background);
  const sweep = rgb(PALETTE.appIcon.sweep).map((v, i) => Math.round(v * 0.55 + back[i] * 0.45));
  const glyph = (shape) => (x, y) => shape(C + (x - C) / 0.8, C + (y - C) / 0.8);
  return draw(size, [
    [tile(0.04, 0.2), [...back, 255]],
    [glyph(trail), [...sweep, 255]],
    [glyph(RING), normal],
    [glyph(HUB), normal],
    [glyph(SWEEP), normal],
    [glyph(disc(0.7, 0.33, 0.075)), incident],
  ]);
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(root, 'assets', 'icon.png'), drawAppIcon(512));
  process.stdout.write('wrote assets/icon.png\n');
}
