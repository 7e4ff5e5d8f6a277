/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';
import paletteText from '../../assets/palette.json?raw';
import appIcon from '../../assets/icon.png?inline';
import normalIcon from '../../assets/tray/normal@2x.png?inline';
import learningIcon from '../../assets/tray/learning@2x.png?inline';
import incidentIcon from '../../assets/tray/incident-1@2x.png?inline';
import pausedIcon from '../../assets/tray/paused@2x.png?inline';
import errorIcon from '../../assets/tray/error@2x.png?inline';

/**
 * One palette for the window, the tray and the app icon (assets/palette.json): the tray icons are
 * drawn in its state colours, and text on and in each of them reads at WCAG AA in both themes.
 * That the window resolves the same colours is checked in Chromium (test/e2e/screens.e2e.test.ts).
 */
const STATES = ['normal', 'learning', 'incident', 'paused', 'error'] as const;
type Theme = 'light' | 'dark';
interface Palette {
  state: Record<(typeof STATES)[number], Record<Theme | 'icon', string>>;
  surface: Record<Theme, Record<string, string>>;
}
const palette = JSON.parse(paletteText) as Palette;
const TRAY: Record<(typeof STATES)[number], string> = { normal: normalIcon, learning: learningIcon, incident: incidentIcon, paused: pausedIcon, error: errorIcon };

/** A named colour of a theme's surfaces. */
const colour = (theme: Theme, name: string): string => palette.surface[theme][name] ?? 'missing';

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

async function inflate(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The RGB colours of the opaque pixels of a PNG (as a data URL), as '#rrggbb', with their counts. */
async function opaqueColours(dataUrl: string): Promise<Map<string, number>> {
  const buf = Uint8Array.from(atob(dataUrl.slice(dataUrl.indexOf(',') + 1)), (c) => c.charCodeAt(0));
  const view = new DataView(buf.buffer);
  let offset = 8;
  let width = 0;
  const idat: Uint8Array[] = [];
  while (offset < buf.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...buf.subarray(offset + 4, offset + 8));
    if (type === 'IHDR') width = view.getUint32(offset + 8);
    if (type === 'IDAT') idat.push(buf.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  const joined = new Uint8Array(idat.reduce((n, d) => n + d.length, 0));
  idat.reduce((at, d) => (joined.set(d, at), at + d.length), 0);
  const raw = await inflate(joined);
  const out = new Map<string, number>();
  // The icon scripts write every row with filter 0 (none): the bytes are the pixels.
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
  it('draws each colour tray icon in its state colour, the incident badge in the incident colour', async () => {
    for (const state of STATES) {
      const file = state === 'incident' ? 'incident-1@2x.png' : `${state}@2x.png`;
      const colours = await opaqueColours(TRAY[state]);
      const glyph = palette.state[state === 'incident' ? 'normal' : state].icon;
      expect(colours.get(glyph) ?? 0, `${file} in ${glyph}`).toBeGreaterThan(50);
      if (state === 'incident') expect(colours.get(palette.state.incident.icon) ?? 0, file).toBeGreaterThan(50);
    }
    const icon = await opaqueColours(appIcon);
    expect(icon.get(palette.state.normal.icon) ?? 0).toBeGreaterThan(1000);
    expect(icon.get(palette.state.incident.icon) ?? 0).toBeGreaterThan(100);
  });

  it('keeps text on and in every state colour at WCAG AA (4.5:1), in both themes', () => {
    for (const theme of ['light', 'dark'] as const) {
      for (const state of STATES) {
        const fill = palette.state[state][theme];
        // A pill or badge: --on-state text on the state's colour.
        expect(contrast(colour(theme, 'on-state'), fill), `${theme}: text on ${state}`).toBeGreaterThanOrEqual(4.5);
        // A state named in words: the state's colour on the page and on a card.
        expect(contrast(fill, colour(theme, 'surface')), `${theme}: ${state} on a card`).toBeGreaterThanOrEqual(4.5);
        expect(contrast(fill, colour(theme, 'bg')), `${theme}: ${state} on the page`).toBeGreaterThanOrEqual(4.5);
        expect(contrast(fill, colour(theme, 'surface-sunken')), `${theme}: ${state} on a sunken panel`).toBeGreaterThanOrEqual(4.5);
      }
      for (const text of ['fg', 'muted', 'accent']) {
        expect(contrast(colour(theme, text), colour(theme, 'surface')), `${theme}: ${text} on a card`).toBeGreaterThanOrEqual(4.5);
        expect(contrast(colour(theme, text), colour(theme, 'bg')), `${theme}: ${text} on the page`).toBeGreaterThanOrEqual(4.5);
      }
      // The focus ring is not text: 3:1 against what it is drawn on (WCAG 1.4.11).
      expect(contrast(colour(theme, 'focus'), colour(theme, 'bg')), `${theme}: focus ring`).toBeGreaterThanOrEqual(3);
      expect(contrast(colour(theme, 'focus'), colour(theme, 'surface')), `${theme}: focus ring on a card`).toBeGreaterThanOrEqual(3);
    }
  });
});
