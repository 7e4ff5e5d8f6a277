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

function drawAppIcon(size) {
  const px = Buffer.alloc(size * size * 4);
  const c = size / 2;
  const samples = 4; // supersampling per axis for smooth edges
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const dx = (x + (sx + 0.5) / samples - c) / c;
          const dy = (y + (sy + 0.5) / samples - c) / c;
          const d = Math.hypot(dx, dy);
          if (d > 0.94) continue;
          // dark rounded background disc
          let col = [22, 32, 44];
          const ang = Math.atan2(dy, dx);
          const sweep = ((ang + Math.PI * 0.75 + 2 * Math.PI) % (2 * Math.PI)) / (2 * Math.PI);
          if (d < 0.8 && sweep < 0.22) col = [40, 140, 120].map((v, i) => Math.round(v * (1 - sweep / 0.22) + [22, 32, 44][i] * (sweep / 0.22)));
          if (Math.abs(d - 0.8) < 0.035 || Math.abs(d - 0.5) < 0.02) col = [90, 220, 180];
          if (Math.hypot(dx - 0.28, dy + 0.3) < 0.09) col = [255, 170, 60]; // the blip: something odd
          r += col[0]; g += col[1]; b += col[2]; a += 255;
        }
      }
      const n = samples * samples;
      const i = (y * size + x) * 4;
      const cover = a / 255;
      px[i] = cover ? r / cover : 0;
      px[i + 1] = cover ? g / cover : 0;
      px[i + 2] = cover ? b / cover : 0;
      px[i + 3] = a / n;
    }
  }
  return encodePng(size, size, px);
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(root, 'assets', 'icon.png'), drawAppIcon(512));
  process.stdout.write('wrote assets/icon.png\n');
}
