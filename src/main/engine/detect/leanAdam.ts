import * as tf from './tf';

/** The parts of tfjs-core's AdamOptimizer this subclass uses (private there, so typed here). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

/**
 * Adam with tfjs-core's arithmetic, step for step, but a smaller peak. tfjs-core runs the update
 * of every variable inside one tidy, so each op's result lives until all variables are done: for
 * the decoder's 21 × 131,072 weights that is about fourteen 11 MB tensors at once, the largest
 * allocation of a refit, and the wasm heap never gives memory back. Here each step of each
 * variable is its own scope, and only what the next step reads outlives it: the gradient goes as
 * soon as both moments have their terms of it (tfjs-core's `minimize` disposes the gradients after
 * the update; disposing a tensor twice does nothing), and each moment is replaced in place. The
 * same ops on the same values: the weights are bit-identical (test/main/engine/detect/leanAdam.test.ts).
 */
export class LeanAdam extends tf.AdamOptimizer {
  /**
   * Called once, when the next update starts: the gradients are known by then, so the training
   * step's inputs can go before the update's tensors are made (training.ts, `fit`).
   */
  onGradients: (() => void) | null = null;

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const self = this as unknown as AdamState;
    const release = this.onGradients;
    this.onGradients = null;
    release?.();
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, self.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, self.accBeta2);
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const firstMoment = self.accumulatedFirstMoment[i]!.variable;
        const secondMoment = self.accumulatedSecondMoment[i]!.variable;
        // m·β1 + g·(1 − β1) and v·β2 + g²·(1 − β2), as tfjs-core computes them, in an order that
        // keeps at most two tensors of the variable's size beside it and its two moments: the
        // gradient's terms first, then the gradient goes; each moment holds its decayed value for
        // a moment before its sum (it is read by nothing else).
        const gradientTerm2 = tf.tidy(() => tf.mul(tf.square(gradient), 1 - this.beta2));
        const gradientTerm1 = tf.mul(gradient, 1 - this.beta1);
        gradient.dispose();
        const decay = (moment: tf.Variable, beta: number, term: tf.Tensor): tf.Tensor => {
          const decayed = tf.mul(moment, beta);
          moment.assign(decayed);
          decayed.dispose();
          const sum = tf.add(moment, term);
          term.dispose();
          moment.assign(sum);
          return sum;
        };
        const newFirstMoment = decay(firstMoment, this.beta1, gradientTerm1);
        const newSecondMoment = decay(secondMoment, this.beta2, gradientTerm2);
        // (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε) · −lr + w, at most three such tensors at a time.
        const denominator = tf.tidy(() => tf.add(tf.tidy(() => tf.sqrt(tf.div(newSecondMoment, oneMinusAccBeta2))), this.epsilon));
        const step = tf.tidy(() => tf.div(tf.tidy(() => tf.div(newFirstMoment, oneMinusAccBeta1)), denominator));
        tf.dispose([denominator, newFirstMoment, newSecondMoment]);
        const newValue = tf.tidy(() => tf.add(tf.mul(step, -this.learningRate), value));
        step.dispose();
        value.assign(newValue);
        // The variable now holds its data; this handle goes now rather than with the outer scope.
        newValue.dispose();
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, this.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** Adam as tf.train.adam makes it (beta1 0.9, beta2 0.999, the backend's epsilon), leaner. */
export function leanAdam(learningRate: number): LeanAdam {
  return new LeanAdam(learningRate, 0.9, 0.999);
}
