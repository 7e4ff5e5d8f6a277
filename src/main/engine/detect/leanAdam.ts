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
 * variable is its own scope, and only what the next step reads outlives it. The same ops on the
 * same values in the same order: the weights are bit-identical (test/main/engine/detect/leanAdam.test.ts).
 */
export class LeanAdam extends tf.AdamOptimizer {
  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const self = this as unknown as AdamState;
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
        const newFirstMoment = tf.tidy(() => tf.add(tf.mul(firstMoment, this.beta1), tf.mul(gradient, 1 - this.beta1)));
        const newSecondMoment = tf.tidy(() => tf.add(tf.mul(secondMoment, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2)));
        const newValue = tf.tidy(() => {
          const step = tf.tidy(() => {
            const biasCorrectedFirstMoment = tf.div(newFirstMoment, oneMinusAccBeta1);
            const denominator = tf.tidy(() => tf.add(tf.sqrt(tf.div(newSecondMoment, oneMinusAccBeta2)), this.epsilon));
            return tf.div(biasCorrectedFirstMoment, denominator);
          });
          return tf.add(tf.mul(step, -this.learningRate), value);
        });
        firstMoment.assign(newFirstMoment);
        secondMoment.assign(newSecondMoment);
        value.assign(newValue);
        // The variables now hold their data; these handles go now rather than with the outer scope.
        tf.dispose([newFirstMoment, newSecondMoment, newValue]);
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
