/**
 * Thrown between batches when the caller asked to stop. Its own module so the main thread can
 * recognise it without loading TensorFlow.js.
 */
export class CancelledError extends Error {
  constructor() {
    super('detection cancelled');
    this.name = 'CancelledError';
  }
}
