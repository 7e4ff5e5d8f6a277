import * as tf from '../detect/tf';
import { seededRandom } from '../../../shared/random';

/**
 * The traffic model: a variational autoencoder over one window of one process's traffic features
 * (GEE's method; docs/detection.md, "Traffic model"). Small on purpose: a few dozen features per
 * row, a hidden layer of 32 and a latent of 6, so thousands of rows train in well under a second
 * and a row's explanation (the gradient of its error) costs one backward pass.
 *
 * Rows are standardised with the training rows' means and spreads (each spread at least
 * `minScale`, so a feature that never moved in training, such as "endpoints never seen", is not
 * divided by zero, and its first move is large in units a user can read: "8 spreads above
 * normal"). A row's score is its squared reconstruction error summed over the features, scored
 * through the encoder's mean (no sampling: the same row always gets the same score). Training
 * draws the latent as the VAE does, with noise from a seeded generator, so two refits on the same
 * rows with the same seed give the same weights.
 */
export interface TrafficVaeConfig {
  /** Features reconstructed (and scored). */
  inputs: number;
  /**
   * Context values that follow them in each row (a conditional VAE: given to the encoder and the
   * decoder, never reconstructed nor scored), such as what the row's process usually does.
   */
  conditions: number;
  hidden: number;
  latent: number;
  /** Weight of the KL term against the reconstruction error (β-VAE). */
  beta: number;
  learningRate: number;
  batchSize: number;
  /** Smallest spread a feature is standardised by. */
  minScale: number;
}

export const DEFAULT_TRAFFIC_VAE: Omit<TrafficVaeConfig, 'inputs'> = { conditions: 0, hidden: 32, latent: 6, beta: 0.05, learningRate: 5e-3, batchSize: 64, minScale: 0.1 };

export interface FitOptions {
  /** Passes over the training rows: a fixed amount of work, not a time budget. */
  epochs: number;
  /** Rows kept apart from training: early stopping watches their mean score. */
  validation?: readonly Float32Array[];
  /** Seeds the shuffling and the latent noise. */
  seed: number;
  /** Epochs without a better validation score before stopping (default 2). */
  patience?: number;
  /** Refit the standardisation on these rows (always on a model's first fit). */
  rescale?: boolean;
}

export interface FitResult {
  epochs: { loss: number; valScore: number | null }[];
  /** The epoch whose weights were kept (the best validation score), 1-based; 0 when none ran. */
  kept: number;
}

export interface Explanation {
  score: number;
  /** Each reconstructed feature's squared standardised error: what the score is the sum of. */
  errors: Float32Array;
  /** ∂score/∂x for each raw (unstandardised) value of the row, context included. */
  gradient: Float32Array;
  /**
   * |∂score/∂x_i| / Σ|∂score/∂x_j| over the reconstructed features: each one's share of the
   * explanation (GEE's fingerprint); 0 for the context, which is given, not observed.
   */
  shares: Float32Array;
  /** The model's reconstruction of the row's features, in raw units (the context as given). */
  expected: Float32Array;
}

/** What a saved model needs besides its weights. */
export interface TrafficVaeState {
  config: TrafficVaeConfig;
  center: number[];
  scale: number[];
  /** Weights in the order of `model.getWeights()`, as plain arrays with their shapes. */
  weights: { shape: number[]; values: number[] }[];
}

export class TrafficVae {
  private readonly enc: tf.layers.Layer;
  private readonly mu: tf.layers.Layer;
  private readonly logVar: tf.layers.Layer;
  private readonly dec: tf.layers.Layer;
  private readonly out: tf.layers.Layer;
  /** Every layer in one model, for its weights (saving, loading, the variables to train). */
  readonly model: tf.LayersModel;
  private center: Float32Array;
  private scale: Float32Array;
  private fitted = false;

  private constructor(
    readonly config: TrafficVaeConfig,
    seed: number,
  ) {
    if (!(config.inputs > 0)) throw new Error(`a traffic model needs at least one feature, got ${config.inputs}`);
    const rand = seededRandom(seed);
    const init = () => tf.initializers.glorotUniform({ seed: Math.floor(rand() * 2 ** 31) });
    this.enc = tf.layers.dense({ units: config.hidden, activation: 'relu', kernelInitializer: init(), name: 'encoder' });
    this.mu = tf.layers.dense({ units: config.latent, kernelInitializer: init(), name: 'latent_mean' });
    this.logVar = tf.layers.dense({ units: config.latent, kernelInitializer: tf.initializers.zeros(), name: 'latent_log_var' });
    this.dec = tf.layers.dense({ units: config.hidden, activation: 'relu', kernelInitializer: init(), name: 'decoder' });
    this.out = tf.layers.dense({ units: config.inputs, kernelInitializer: init(), name: 'reconstruction' });
    // The same layers as one model, only to hold (save, load, train) their weights.
    const width = config.inputs + config.conditions;
    const row = tf.input({ shape: [width] });
    const h = this.enc.apply(row) as tf.SymbolicTensor;
    const mean = this.mu.apply(h) as tf.SymbolicTensor;
    const logVar = this.logVar.apply(h) as tf.SymbolicTensor;
    const inputs = [row];
    let decIn = mean;
    if (config.conditions > 0) {
      const context = tf.input({ shape: [config.conditions] });
      inputs.push(context);
      decIn = tf.layers.concatenate().apply([mean, context]) as tf.SymbolicTensor;
    }
    const recon = this.out.apply(this.dec.apply(decIn)) as tf.SymbolicTensor;
    this.model = tf.model({ inputs, outputs: [recon, logVar], name: 'portent_traffic_vae' });
    this.center = new Float32Array(width);
    this.scale = new Float32Array(width).fill(1);
  }

  static create(inputs: number, seed: number, config: Partial<Omit<TrafficVaeConfig, 'inputs'>> = {}): TrafficVae {
    if (!Number.isInteger(config.conditions ?? 0) || (config.conditions ?? 0) < 0) throw new Error(`conditions must be a whole number, got ${config.conditions}`);
    return new TrafficVae({ ...DEFAULT_TRAFFIC_VAE, ...config, inputs }, seed);
  }

  /** A model from its saved state; throws with the reason when the state does not fit its config. */
  static fromState(state: TrafficVaeState): TrafficVae {
    const vae = new TrafficVae({ ...state.config, conditions: state.config.conditions ?? 0 }, 0);
    const n = state.config.inputs + (state.config.conditions ?? 0);
    if (state.center.length !== n || state.scale.length !== n) throw new Error(`the saved scaler has ${state.center.length} features, the model ${n}`);
    const specs = vae.model.getWeights().map((w) => w.shape);
    if (state.weights.length !== specs.length) throw new Error(`the saved model has ${state.weights.length} weight tensors, the model ${specs.length}`);
    const tensors = state.weights.map((w, i) => {
      const shape = specs[i]!;
      if (w.shape.length !== shape.length || w.shape.some((d, k) => d !== shape[k]) || w.values.length !== shape.reduce((a, b) => a * b, 1)) {
        throw new Error(`saved weight ${i} has shape [${w.shape.join(', ')}], the model needs [${shape.join(', ')}]`);
      }
      if (!w.values.every(Number.isFinite)) throw new Error(`saved weight ${i} has a value that is not a number`);
      return tf.tensor(w.values, shape);
    });
    vae.model.setWeights(tensors);
    tf.dispose(tensors);
    vae.center = Float32Array.from(state.center);
    vae.scale = Float32Array.from(state.scale);
    vae.fitted = true;
    return vae;
  }

  state(): TrafficVaeState {
    return {
      config: this.config,
      center: [...this.center],
      scale: [...this.scale],
      weights: this.model.getWeights().map((w) => ({ shape: [...w.shape], values: [...(w.dataSync() as Float32Array)] })),
    };
  }

  /** Sets the standardisation from training rows: their means, and spreads no smaller than minScale. */
  private fitScaler(rows: readonly Float32Array[]): void {
    const n = this.width;
    const center = new Float64Array(n);
    const sq = new Float64Array(n);
    for (const r of rows) for (let i = 0; i < n; i++) center[i]! += r[i]!;
    for (let i = 0; i < n; i++) center[i]! /= rows.length;
    for (const r of rows) for (let i = 0; i < n; i++) sq[i]! += (r[i]! - center[i]!) ** 2;
    this.center = Float32Array.from(center);
    this.scale = Float32Array.from(sq, (s) => Math.max(this.config.minScale, Math.sqrt(s / rows.length)));
  }

  private get width(): number {
    return this.config.inputs + this.config.conditions;
  }

  private matrix(rows: readonly Float32Array[]): tf.Tensor2D {
    const n = this.width;
    const flat = new Float32Array(rows.length * n);
    rows.forEach((r, k) => {
      if (r.length !== n) throw new Error(`a traffic row has ${r.length} values, the model takes ${n}`);
      for (let i = 0; i < n; i++) flat[k * n + i] = (r[i]! - this.center[i]!) / this.scale[i]!;
    });
    return tf.tensor2d(flat, [rows.length, n]);
  }

  /** The reconstruction of a standardised row's features from a latent point and the row's context. */
  private decode(latent: tf.Tensor, z: tf.Tensor2D): tf.Tensor {
    const c = this.config.conditions;
    const decIn = c > 0 ? tf.concat([latent, tf.slice(z, [0, this.config.inputs], [-1, c])], 1) : latent;
    return this.out.apply(this.dec.apply(decIn)) as tf.Tensor;
  }

  private features(z: tf.Tensor2D): tf.Tensor2D {
    return this.config.conditions > 0 ? tf.slice(z, [0, 0], [-1, this.config.inputs]) : z;
  }

  /** Per-row squared standardised error summed over the features (not the context), through the latent mean. */
  private scoreTensor(z: tf.Tensor2D): tf.Tensor1D {
    const h = this.enc.apply(z) as tf.Tensor;
    const recon = this.decode(this.mu.apply(h) as tf.Tensor, z);
    return tf.sum(tf.square(tf.sub(this.features(z), recon)), 1) as tf.Tensor1D;
  }

  /**
   * Trains on `rows` for `options.epochs` passes (the scaler is fitted on the first call, and again
   * only when asked, so later refits keep the units scores and thresholds were calibrated in), keeping the weights of
   * the epoch with the best validation score when validation rows are given.
   */
  fit(rows: readonly Float32Array[], options: FitOptions): FitResult {
    if (rows.length === 0) return { epochs: [], kept: 0 };
    if (!this.fitted || options.rescale) {
      this.fitScaler(rows);
      this.fitted = true;
    }
    const rand = seededRandom(options.seed);
    const optimizer = tf.train.adam(this.config.learningRate);
    const vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const patience = options.patience ?? 2;
    const epochs: FitResult['epochs'] = [];
    let best = Infinity;
    let bestWeights: tf.Tensor[] | null = null;
    let kept = 0;
    let since = 0;
    const x = this.matrix(rows);
    try {
      for (let e = 0; e < options.epochs; e++) {
        const order = shuffled(rows.length, rand);
        let lossSum = 0;
        for (let start = 0; start < order.length; start += this.config.batchSize) {
          const idx = order.slice(start, start + this.config.batchSize);
          const noiseSeed = Math.floor(rand() * 2 ** 31);
          const loss = optimizer.minimize(
            () =>
              tf.tidy(() => {
                const batch = tf.gather(x, tf.tensor1d(idx, 'int32')) as tf.Tensor2D;
                const h = this.enc.apply(batch) as tf.Tensor;
                const mean = this.mu.apply(h) as tf.Tensor;
                const logVar = tf.clipByValue(this.logVar.apply(h) as tf.Tensor, -8, 8);
                const eps = tf.randomNormal(mean.shape, 0, 1, 'float32', noiseSeed);
                const latent = tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps));
                const recon = this.decode(latent, batch);
                const rec = tf.mean(tf.sum(tf.square(tf.sub(this.features(batch), recon)), 1));
                const kl = tf.mul(-0.5, tf.mean(tf.sum(tf.sub(tf.add(1, logVar), tf.add(tf.square(mean), tf.exp(logVar))), 1)));
                return tf.add(rec, tf.mul(this.config.beta, kl)) as tf.Scalar;
              }),
            true,
            vars,
          );
          lossSum += (loss!.dataSync()[0] ?? 0) * idx.length;
          loss!.dispose();
        }
        const valScore = options.validation && options.validation.length > 0 ? mean(this.score(options.validation)) : null;
        epochs.push({ loss: lossSum / rows.length, valScore });
        if (valScore === null) {
          kept = e + 1;
          continue;
        }
        if (valScore < best) {
          best = valScore;
          kept = e + 1;
          since = 0;
          tf.dispose(bestWeights ?? []);
          bestWeights = this.model.getWeights().map((w) => w.clone());
        } else if (++since >= patience) break;
      }
      if (bestWeights && kept < epochs.length) this.model.setWeights(bestWeights);
    } finally {
      tf.dispose(bestWeights ?? []);
      x.dispose();
      optimizer.dispose();
    }
    return { epochs, kept };
  }

  /** Whether the scaler has been fitted (a model loaded from its state has been). */
  get trained(): boolean {
    return this.fitted;
  }

  score(rows: readonly Float32Array[]): number[] {
    if (rows.length === 0) return [];
    return tf.tidy(() => [...(this.scoreTensor(this.matrix(rows)).dataSync() as Float32Array)]);
  }

  /**
   * One row's score with what explains it: each feature's squared error, and the gradient of the
   * score with respect to the raw input (GEE: the features whose change would most reduce the
   * error are the ones that make the row abnormal).
   */
  explain(row: Float32Array): Explanation {
    const n = this.width;
    const k = this.config.inputs;
    return tf.tidy(() => {
      const raw = tf.tensor2d(row, [1, n]);
      const center = tf.tensor2d(this.center, [1, n]);
      const scale = tf.tensor2d(this.scale, [1, n]);
      const f = (x: tf.Tensor) => tf.sum(this.scoreTensor(tf.div(tf.sub(x, center), scale) as tf.Tensor2D)) as tf.Scalar;
      const { value, grad } = tf.valueAndGrad(f)(raw);
      const z = tf.div(tf.sub(raw, center), scale) as tf.Tensor2D;
      const recon = this.decode(this.mu.apply(this.enc.apply(z)) as tf.Tensor, z);
      const errors = Float32Array.from(tf.square(tf.sub(this.features(z), recon)).dataSync());
      const gradient = Float32Array.from(grad.dataSync());
      // Shares are over the reconstructed features only: the context says what the process
      // usually does, not what it did in this window, and an explanation names what it did.
      const total = gradient.subarray(0, k).reduce((a, g) => a + Math.abs(g), 0);
      const shares = Float32Array.from(gradient, (g, i) => (i < k && total > 0 ? Math.abs(g) / total : 0));
      const rawRecon = tf.add(tf.mul(recon, tf.slice(scale, [0, 0], [1, k])), tf.slice(center, [0, 0], [1, k])).dataSync();
      // The context is not reconstructed: its "expected" values are the ones given.
      const expected = Float32Array.from({ length: n }, (_, i) => (i < k ? rawRecon[i]! : row[i]!));
      return { score: value.dataSync()[0]!, errors, gradient, shares, expected };
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}

function shuffled(n: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
