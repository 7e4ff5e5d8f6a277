'use strict';
// The build lands here both when npm installs the package (its install script) and when a
// checkout builds it in place with node-gyp.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS entry loading its addon
module.exports = require('./build/Release/sockdiag.node');
