/** Portent's version, kept in step with package.json by a test. */
export const PORTENT_VERSION = '0.1.0';
