import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';

/**
 * One palette for the window, the tray and the app icon (assets/palette.json): the stylesheet's
 * state colours are the palette's, the tray icons are drawn in them, and text on each of them
 * reads at WCAG AA.
 */
const repo = path.join(import.meta.dirname, '../..');
const STATES = ['normal', 'learning', 'incident', 'paused', 'error'] as const;
type Theme = 'light' | 'dark';
interface Palette {
  state: Record<(typeof STATES)[number], Record<Theme | 'icon', string>>;
  surface: Record<Theme, { bg: string; surface: string; fg: string }>;
}
const palette = JSON.parse(fs.readFileSync(path.join(repo, 'assets/palette.json'), 'utf8')) as Palette;
const css = fs.readFileSync(path.join(repo, 'src/renderer/src/styles.css'), 'utf8');

/** The custom properties declared in the stylesheet's first `:root` block of a theme. */
function tokens(theme: Theme): Map<string, string> {
  const dark = css.indexOf('@media (prefers-color-scheme: dark)');
  const text = theme === 'light' ? css.slice(css.indexOf(':root {'), dark) : css.slice(dark, css.indexOf('\n}\n', dark));
  return new Map([...text.matchAll(/(--[a-z0-9-]+):\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}
const THEMES: Record<Theme, Map<string, string>> = { light: tokens('light'), dark: tokens('dark') };
/** A token's colour in a theme: the dark block overrides the light one. */
const colour = (theme: Theme, name: string): string => (theme === 'dark' ? (THEMES.dark.get(name) ?? THEMES.light.get(name)) : THEMES.light.get(name)) ?? 'missing';

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
function contrast(a: string, b: string): number {
  expect(a).toMatch(/^#[0-9a-f]{6}$/);
  expect(b).toMatch(/^#[0-9a-f]{6}$/);
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** The RGB colours of a PNG's opaque pixels, as '#rrggbb', with their counts. */
function opaqueColours(file: string): Map<string, number> {
  const buf = fs.readFileSync(file);
  let offset = 8;
  let width = 0;
  const idat: Buffer[] = [];
  while (offset < buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    if (type === 'IHDR') width = buf.readUInt32BE(offset + 8);
    if (type === 'IDAT') idat.push(buf.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const out = new Map<string, number>();
  for (let row = 0; row * (width * 4 + 1) < raw.length; row++) {
    for (let x = 0; x < width; x++) {
      const i = row * (width * 4 + 1) + 1 + x * 4;
      if (raw[i + 3] !== 255) continue;
      const hex = `#${[raw[i]!, raw[i + 1]!, raw[i + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
      out.set(hex, (out.get(hex) ?? 0) + 1);
    }
  }
  return out;
}

describe('the palette', () => {
  it('gives the window the state colours of the palette, light and dark', () => {
    for (const theme of ['light', 'dark'] as const) {
      for (const state of STATES) expect(THEMES[theme].get(`--state-${state}`), `${theme} ${state}`).toBe(palette.state[state][theme]);
      for (const [name, value] of Object.entries(palette.surface[theme])) expect(THEMES[theme].get(`--${name}`), `${theme} ${name}`).toBe(value);
    }
  });

  it('draws each colour tray icon in its state colour, the incident badge in the incident colour', () => {
    for (const state of STATES) {
      const file = state === 'incident' ? 'incident-1@2x.png' : `${state}@2x.png`;
      const colours = opaqueColours(path.join(repo, 'assets/tray', file));
      const glyph = palette.state[state === 'incident' ? 'normal' : state].icon;
      expect(colours.get(glyph) ?? 0, `${file} in ${glyph}`).toBeGreaterThan(50);
      if (state === 'incident') expect(colours.get(palette.state.incident.icon) ?? 0, file).toBeGreaterThan(50);
    }
    const icon = opaqueColours(path.join(repo, 'assets/icon.png'));
    expect(icon.get(palette.state.normal.icon) ?? 0).toBeGreaterThan(1000);
    expect(icon.get(palette.state.incident.icon) ?? 0).toBeGreaterThan(100);
  });

  it('keeps text on and in every state colour at WCAG AA (4.5:1), in both themes', () => {
    for (const theme of ['light', 'dark'] as const) {
      for (const state of STATES) {
        const fill = colour(theme, `--state-${state}`);
        // A pill or badge: --on-state text on the state's colour.
        expect(contrast(colour(theme, '--on-state'), fill), `${theme}: text on ${state}`).toBeGreaterThanOrEqual(4.5);
        // A state named in words: the state's colour on the page and on a card.
        expect(contrast(fill, colour(theme, '--surface')), `${theme}: ${state} on a card`).toBeGreaterThanOrEqual(4.5);
        expect(contrast(fill, colour(theme, '--bg')), `${theme}: ${state} on the page`).toBeGreaterThanOrEqual(4.5);
        expect(contrast(fill, colour(theme, '--surface-sunken')), `${theme}: ${state} on a sunken panel`).toBeGreaterThanOrEqual(4.5);
      }
      for (const text of ['--fg', '--muted', '--accent']) {
        expect(contrast(colour(theme, text), colour(theme, '--surface')), `${theme}: ${text} on a card`).toBeGreaterThanOrEqual(4.5);
        expect(contrast(colour(theme, text), colour(theme, '--bg')), `${theme}: ${text} on the page`).toBeGreaterThanOrEqual(4.5);
      }
      // The focus ring is not text: 3:1 against what it is drawn on (WCAG 1.4.11).
      expect(contrast(colour(theme, '--focus'), colour(theme, '--bg')), `${theme}: focus ring`).toBeGreaterThanOrEqual(3);
      expect(contrast(colour(theme, '--focus'), colour(theme, '--surface')), `${theme}: focus ring on a card`).toBeGreaterThanOrEqual(3);
    }
  });
});
