import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { trayIconFile, type TrayKind } from '../../../src/main/desktop/trayState';
import { tempDir } from '../../support/tmp';

const repo = path.join(import.meta.dirname, '../../..');
const trayDir = path.join(repo, 'assets/tray');
const KINDS: TrayKind[] = ['normal', 'learning', 'incident', 'paused', 'error'];

/** Width, height and RGBA pixels of a PNG written by scripts/make-icons.mjs (filter 0 rows). */
function readPng(file: string): { width: number; height: number; rgba: Buffer } {
  const buf = fs.readFileSync(file);
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9]]).toEqual([8, 6]);
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) raw.copy(rgba, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  return { width, height, rgba };
}

/** Every file the tray may ask for, per platform, with its expected size. */
function expectedIcons(): { file: string; size: number; template: boolean }[] {
  const out: { file: string; size: number; template: boolean }[] = [];
  for (const platform of ['darwin', 'linux'] as const) {
    for (const kind of KINDS) {
      for (let unseen = kind === 'incident' ? 1 : 0; unseen <= (kind === 'incident' ? 12 : 0); unseen++) {
        const file = trayIconFile({ kind, unseen }, platform);
        const base = platform === 'darwin' ? 16 : 24;
        out.push({ file, size: base, template: platform === 'darwin' }, { file: file.replace(/\.png$/, '@2x.png'), size: base * 2, template: platform === 'darwin' });
      }
    }
  }
  return out;
}

describe('tray icon files', () => {
  it('exist for every state, at 1x and 2x, at the sizes each tray wants', () => {
    for (const { file, size } of expectedIcons()) {
      const png = readPng(path.join(trayDir, file));
      expect([png.width, png.height], file).toEqual([size, size]);
    }
  });

  it('are black plus alpha for the macOS template images', () => {
    for (const { file, template } of expectedIcons()) {
      if (!template) continue;
      const { rgba } = readPng(path.join(trayDir, file));
      let drawn = 0;
      for (let i = 0; i < rgba.length; i += 4) {
        if (rgba[i + 3] === 0) continue;
        drawn++;
        expect([rgba[i], rgba[i + 1], rgba[i + 2]], file).toEqual([0, 0, 0]);
      }
      expect(drawn, file).toBeGreaterThan(20);
    }
  });

  it('are what scripts/make-tray-icons.mjs draws today', () => {
    const out = tempDir();
    execFileSync(process.execPath, [path.join(repo, 'scripts/make-tray-icons.mjs'), '--out', out]);
    const drawn = fs.readdirSync(out).sort();
    expect(fs.readdirSync(trayDir).filter((f) => f.endsWith('.png')).sort()).toEqual(drawn);
    for (const file of drawn) expect(fs.readFileSync(path.join(trayDir, file)).equals(fs.readFileSync(path.join(out, file))), file).toBe(true);
  });
});
