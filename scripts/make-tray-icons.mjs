#!/usr/bin/env node
// Draws Portent's tray icons into assets/tray/ as PNG, so they are reproducible from source:
//   macOS: <state>Template.png (16 px) and <state>Template@2x.png (32 px), black plus alpha, so
//          the menu bar tints them for light and dark mode; the incident count is the tray title.
//   Linux: <state>.png (24 px) and <state>@2x.png (48 px) in colour; the incident icon carries
//          the unseen count as a badge (incident-1 .. incident-9, incident-9plus), as Linux
//          trays show no title.
// Run: node scripts/make-tray-icons.mjs [--out <dir>]   (default: assets/tray)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BADGE, C, disc, draw, HUB, PALETTE, rect, rgb, ring, RING, SWEEP } from './make-icons.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const STATES = ['normal', 'learning', 'incident', 'paused', 'error'];
export const BADGES = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '9plus'];

/** A dashed ring: dashes every 30 degrees, the look of something still being filled in. */
const dashedRing = (r, w) => (x, y) => ring(r, w)(x, y) && Math.floor(((Math.atan2(y - C, x - C) + Math.PI) / Math.PI) * 6) % 2 === 0;

// A 3x5 pixel font for the badge's count.
const FONT = {
  1: ['.#.', '##.', '.#.', '.#.', '###'],
  2: ['##.', '..#', '.#.', '#..', '###'],
  3: ['##.', '..#', '.#.', '..#', '##.'],
  4: ['#.#', '#.#', '###', '..#', '..#'],
  5: ['###', '#..', '##.', '..#', '##.'],
  6: ['.##', '#..', '###', '#.#', '###'],
  7: ['###', '..#', '.#.', '.#.', '.#.'],
  8: ['###', '#.#', '###', '#.#', '###'],
  9: ['###', '#.#', '###', '..#', '##.'],
  '+': ['...', '.#.', '###', '.#.', '...'],
};
/** Text centred on (cx, cy), its font pixels snapped to whole icon pixels so digits stay sharp. */
function text(chars, cx, cy, size) {
  const width = chars.length * 3 + (chars.length - 1);
  const px = Math.max(1, Math.round(size / 20));
  const cell = px / size;
  const x0 = Math.round(cx * size - (width * px) / 2) / size;
  const y0 = Math.round(cy * size - (5 * px) / 2) / size;
  return (x, y) => {
    const col = Math.floor((x - x0) / cell);
    const row = Math.floor((y - y0) / cell);
    if (row < 0 || row > 4 || col < 0 || col >= width || col % 4 === 3) return false;
    return FONT[chars[Math.floor(col / 4)]][row][col % 4] === '#';
  };
}

/** Layers for one icon, painted in order; a null colour erases what is below. */
function layers(size, state, colour, badge) {
  // The glyph takes its state's colour from the palette the window uses; an incident keeps the
  // normal glyph and says so with its badge.
  const glyph = colour ? rgb(PALETTE.state[state === 'incident' ? 'normal' : state].icon) : [0, 0, 0];
  const fg = [...glyph, 255];
  switch (state) {
    case 'normal':
      return [[RING, fg], [HUB, fg], [SWEEP, fg]];
    case 'learning':
      return [[dashedRing(0.36, 0.06), fg], [HUB, fg]];
    case 'paused':
      return [[RING, fg], [rect(0.38, 0.34, 0.46, 0.66), fg], [rect(0.54, 0.34, 0.62, 0.66), fg]];
    case 'error':
      return [[RING, fg], [rect(0.455, 0.27, 0.545, 0.55), fg], [disc(C, 0.67, 0.055), fg]];
    case 'incident': {
      const badgeColour = colour ? [...rgb(PALETTE.state.incident.icon), 255] : [0, 0, 0, 255];
      const out = [[RING, fg], [HUB, fg], [SWEEP, fg], [disc(BADGE.cx, BADGE.cy, BADGE.r + 0.06), null], [disc(BADGE.cx, BADGE.cy, BADGE.r), badgeColour]];
      if (badge) out.push([text(badge === '9plus' ? ['9', '+'] : [badge], BADGE.cx, BADGE.cy, size), [255, 255, 255, 255]]);
      return out;
    }
    default:
      throw new Error(`unknown tray state ${state}`);
  }
}

/** Every tray icon, by file name. */
export function trayIcons() {
  const files = new Map();
  for (const state of STATES) {
    files.set(`${state}Template.png`, draw(16, layers(16, state, false)));
    files.set(`${state}Template@2x.png`, draw(32, layers(32, state, false)));
    const names = state === 'incident' ? BADGES.map((b) => [`incident-${b}`, b]) : [[state, null]];
    for (const [name, badge] of names) {
      files.set(`${name}.png`, draw(24, layers(24, state, true, badge)));
      files.set(`${name}@2x.png`, draw(48, layers(48, state, true, badge)));
    }
  }
  return files;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const out = at > 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1]) : path.join(root, 'assets', 'tray');
  fs.mkdirSync(out, { recursive: true });
  const icons = trayIcons();
  for (const [name, png] of icons) fs.writeFileSync(path.join(out, name), png);
  process.stdout.write(`wrote ${icons.size} tray icons to ${path.relative(process.cwd(), out) || '.'}\n`);
}
