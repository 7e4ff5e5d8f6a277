'use strict';
// Where the capture helper was built. `portent capture-setup` copies it to libexec/ and gives the
// copy (and only the copy) the right to capture.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS package entry
const path = require('node:path');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS package entry
const fs = require('node:fs');

const built = path.join(__dirname, 'build', 'Release', 'portent-capture');

module.exports = {
  /** The built helper's path, or null when this platform has none built. */
  builtHelper() {
    return fs.existsSync(built) ? built : null;
  },
  /** The stream version the helper speaks; the decoder refuses any other. */
  PROTOCOL_VERSION: 1,
};
