import * as tf from './tf';

/**
 * The model's first layer, `block_conv`: a Dense shared by every block of `kernel · channels`
 * occupancy cells (a strided convolution, see model.ts), with relu. The same weights, the same
 * arithmetic forward and the same gradients as tf.layers.dense; only the kernel's gradient is
 * computed another way.
 *
 * That gradient is xᵀ·dy over every block of the batch: [1,024 × 3,072]·[3,072 × 8] at batch 6.
 * On wasm a new x (every batch is new) costs 30 ms there, a fifth of a training step, because the
 * backend packs the whole right-hand operand, x, before multiplying. But x is occupancy: 0 or 1,
 * about one cell in 2,600 open. So the gradient is a sum of dy's rows over the open cells, which
 * `batchTensors` records for the occupancy tensor it makes (`recordOpenCells`); a handful of
 * additions in JavaScript. An input whose open cells were not recorded (or a tensor another backend
 * copied on reshape) takes the dense product, as before.
 *
 * No gradient flows to the input: it is the data, the first thing the model reads.
 */

/** Open cells of occupancy tensors, by their data: a reshape shares its input's data. */
const openCells = new WeakMap<object, Int32Array>();

/**
 * Records that `tensor` (values 0 and 1) is 1 exactly at the flat indices `cells`, each once;
 * the tensor's reshapes share the record.
 */
export function recordOpenCells(tensor: tf.Tensor, cells: Int32Array): void {
  openCells.set(tensor.dataId, cells);
}

/** The open cells recorded for `tensor` or one of its reshapes, if any. */
export function openCellsOf(tensor: tf.Tensor): Int32Array | undefined {
  return openCells.get(tensor.dataId);
}

/** xᵀ·dy for x [rows, inDim] that is 1 at `cells` and 0 elsewhere, dy [rows, units]: [inDim, units]. */
export function sparseTransposedProduct(cells: Int32Array, inDim: number, dy: Float32Array, units: number): Float32Array {
  const sums = new Float64Array(inDim * units);
  for (let k = 0; k < cells.length; k++) {
    const cell = cells[k]!;
    const row = Math.floor(cell / inDim);
    const at = (cell - row * inDim) * units;
    const from = row * units;
    for (let j = 0; j < units; j++) sums[at + j]! += dy[from + j]!;
  }
  return Float32Array.from(sums);
}

/** The layer has one input: its shape, however tfjs-layers hands it over. */
function oneShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
}

type Initializer = ReturnType<typeof tf.initializers.zeros>;

interface OccupancyBlocksArgs {
  units: number;
  name?: string;
  trainable?: boolean;
  /** The kernel's initialiser when it is built (a loaded model's weights replace it). */
  kernelInitializer?: Initializer;
}

export class OccupancyBlocks extends tf.layers.Layer {
  static readonly className = 'OccupancyBlocks';
  readonly units: number;
  private readonly kernelInitializer: Initializer;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: OccupancyBlocksArgs) {
    super({ name: args.name, trainable: args.trainable });
    this.units = args.units;
    this.kernelInitializer = args.kernelInitializer ?? tf.initializers.zeros();
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = oneShape(inputShape);
    const inDim = shape[shape.length - 1]!;
    this.kernel = this.addWeight('kernel', [inDim, this.units], 'float32', this.kernelInitializer);
    this.bias = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = oneShape(inputShape);
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const inDim = x.shape[x.shape.length - 1]!;
    const units = this.units;
    const outShape = [...x.shape.slice(0, -1), units];
    // x is read from the closure, not passed: it is data, and no gradient is asked of it.
    const blocks = tf.customGrad((kernel, bias, save) => {
      const out = tf.tidy(() => tf.reshape(tf.fused.matMul({ a: tf.reshape(x, [-1, inDim]), b: kernel as tf.Tensor2D, bias: bias as tf.Tensor, activation: 'relu' }), outShape));
      (save as tf.GradSaveFunc)([out]);
      return {
        value: out,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            // relu's gradient as tfjs's fused matMul takes it: dy where the output is positive.
            const dyAct = tf.reshape(tf.mul(dy, tf.step(saved[0]!)), [-1, units]) as tf.Tensor2D;
            const cells = openCellsOf(x);
            const dKernel = cells ? tf.tensor2d(sparseTransposedProduct(cells, inDim, dyAct.dataSync() as Float32Array, units), [inDim, units]) : tf.matMul(tf.reshape(x, [-1, inDim]), dyAct, true, false);
            return [dKernel, tf.sum(dyAct, 0)];
          }),
      };
    });
    return blocks(this.kernel!.read(), this.bias!.read());
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

tf.serialization.registerClass(OccupancyBlocks);
