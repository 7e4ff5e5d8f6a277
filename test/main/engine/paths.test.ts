import { describe, expect, it } from 'vitest';
import { dataDir, defaultDatabasePath } from '../../../src/main/engine/paths';

describe('data folder', () => {
  it('follows the XDG convention on Linux', () => {
    expect(dataDir({}, 'linux', '/home/ada')).toBe('/home/ada/.local/share/portent');
    expect(dataDir({ XDG_DATA_HOME: '/data/ada' }, 'linux', '/home/ada')).toBe('/data/ada/portent');
    // A relative XDG_DATA_HOME is invalid by the spec and ignored.
    expect(dataDir({ XDG_DATA_HOME: 'rel' }, 'linux', '/home/ada')).toBe('/home/ada/.local/share/portent');
  });

  it('uses Application Support on macOS', () => {
    expect(dataDir({}, 'darwin', '/Users/ada')).toBe('/Users/ada/Library/Application Support/Portent');
  });

  it('lets PORTENT_HOME override the folder', () => {
    expect(dataDir({ PORTENT_HOME: '/srv/portent' }, 'darwin', '/Users/ada')).toBe('/srv/portent');
    expect(defaultDatabasePath({ PORTENT_HOME: '/srv/portent' }, 'linux', '/x')).toBe('/srv/portent/portent.db');
  });
});
