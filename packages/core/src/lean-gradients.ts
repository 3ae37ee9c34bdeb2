import * as tf from '@tensorflow/tfjs';

// TensorFlow.js 4.22's Engine.gradients (tfjs-core dist/engine.js, with tape.js's
// getFilteredNodesXToY and backpropagateGradients) keeps every intermediate gradient, every
// tensor a gradient function creates outside its closures, and every tape node's saved
// tensors alive until the whole backward pass ends. The peak memory of a training step is
// then all saved activations plus all intermediate gradients, which runs the wasm backend
// (a 32-bit heap) out of memory on the MNIST ADM step at batch 64.
//
// installLeanGradients() swaps in a backward pass that runs the same gradient functions on
// the same tensors in the same order (so the results are bitwise those of the stock code)
// but frees what is dead as soon as it is dead:
// - each tape node is processed in its own tidy that returns that node's input gradients;
// - a node's output gradients (its dy's) are disposed once the node is processed, unless one
//   is the gradient of a requested x or the caller's dy (or still referenced elsewhere);
// - at top level (gradientDepth 0) a node's saved tensors are disposed once it is processed.
//
// Nested calls. A call at gradientDepth > 0 made while some gradients() call is running its
// forward function (tf.grad of tf.grad: higher-order gradients) needs its backward pass
// recorded on the tape, and goes to the stock implementation. So does anything nested in a
// stock call. One nested case is handled leanly: a gradient function of a lean backward pass
// that raises gradientDepth by one and calls engine.gradients (what @adm/unet's gradient
// checkpointing does, so that the engine does not reset the tape under the outer pass). No
// one can differentiate through that call's backward pass (the outer backward pass records
// nothing), so it runs unrecorded (gradientDepth 0 while its gradient functions run, which
// only skips recording: same kernels, same values) and frees as at top level, but disposes
// saved tensors only of the tape nodes its own forward function added; it leaves the tape
// to its caller, as the stock code does at depth > 0.

/** The tfjs-core tape node (tape.ts's TapeNode), as the engine records it. */
interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

type GradientsFn = <T extends tf.Tensor>(f: () => T, xs: tf.Tensor[], dy?: T, allowNoGradients?: boolean) => { value: T; grads: tf.Tensor[] };

/** The Engine internals the backward pass needs (private in tfjs-core's typings, public at runtime). */
interface EngineInternals {
  state: { gradientDepth: number; activeTape: TapeNode[] | null; nextTapeNodeId: number };
  gradients: GradientsFn;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  startTape(): void;
  endTape(): void;
  constructor: { nextTensorId: number };
}

const INSTALLED = Symbol.for('@adm/core.leanGradients');

/** What the gradients() calls in progress are doing, innermost last. */
type Frame = { kind: 'forward' } | { kind: 'stock' } | { kind: 'backward'; depth: number };
const frames: Frame[] = [];

interface Installation {
  count: number;
  /** Own property `gradients` the engine had before (normally none: the method is on the prototype). */
  previous: GradientsFn | undefined;
  hadOwn: boolean;
}

/**
 * Replace `tf.engine().gradients` (used by tf.grad(s), tf.valueAndGrad(s), tf.variableGrads
 * and optimizer.minimize) with the memory-lean backward pass described above. Idempotent:
 * installing again only counts; the returned function undoes this call's install, and the
 * stock method comes back when every install has been undone.
 */
export function installLeanGradients(): () => void {
  const engine = tf.engine() as unknown as EngineInternals & { [INSTALLED]?: Installation };
  let inst = engine[INSTALLED];
  if (!inst) {
    const hadOwn = Object.prototype.hasOwnProperty.call(engine, 'gradients');
    const previous = hadOwn ? engine.gradients : undefined;
    const stock = engine.gradients;
    inst = { count: 0, previous, hadOwn };
    engine[INSTALLED] = inst;
    engine.gradients = function leanGradients<T extends tf.Tensor>(f: () => T, xs: tf.Tensor[], dy?: T, allowNoGradients = false) {
      const depth = engine.state.gradientDepth;
      const top = frames[frames.length - 1];
      if (depth === 0) return gradientsLean(engine, f, xs, dy, allowNoGradients, 'top');
      if (top?.kind === 'backward' && depth === top.depth + 1) return gradientsLean(engine, f, xs, dy, allowNoGradients, 'nested');
      frames.push({ kind: 'stock' });
      try {
        return stock.call(engine, f, xs, dy, allowNoGradients) as { value: T; grads: tf.Tensor[] };
      } finally {
        frames.pop();
      }
    } as GradientsFn;
  }
  inst.count++;
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    const cur = engine[INSTALLED];
    if (!cur || --cur.count > 0) return;
    if (cur.hadOwn) engine.gradients = cur.previous!;
    else delete (engine as { gradients?: GradientsFn }).gradients;
    delete engine[INSTALLED];
  };
}

/** Whether installLeanGradients() is in effect. */
export function leanGradientsInstalled(): boolean {
  return (tf.engine() as unknown as { [INSTALLED]?: Installation })[INSTALLED] !== undefined;
}

/**
 * Engine.gradients, with the checks and messages of tfjs-core 4.22. 'top': called at
 * gradientDepth 0. 'nested': called by a gradient function of a lean backward pass, one
 * depth level above it (see the header).
 */
function gradientsLean<T extends tf.Tensor>(engine: EngineInternals, f: () => T, xs: tf.Tensor[], dy: T | undefined, allowNoGradients: boolean, mode: 'top' | 'nested'): { value: T; grads: tf.Tensor[] } {
  if (!(xs.length > 0)) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') {
    throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  }
  const state = engine.state;
  // a top-level call from inside a gradient function replaces the tape (as the stock code
  // does); the outer pass's tape is put back afterwards so that pass can go on
  const outerTape = state.activeTape;
  const insideBackward = frames.some((fr) => fr.kind === 'backward');
  // tape nodes with ids from here on are recorded by this call's forward function
  const firstNodeId = state.nextTapeNodeId;
  engine.startTape();
  frames.push({ kind: 'forward' });
  let y: T;
  try {
    y = engine.tidy('forward', f);
  } finally {
    frames.pop();
    engine.endTape();
  }
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const liveTape = state.activeTape;
  const tape = liveTape ?? [];
  const filteredTape = filteredNodesXToY(tape, xs, y);
  if (!allowNoGradients && filteredTape.length === 0 && xs.length > 0) {
    throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure ' +
      'that the f you passed encloses all operations that lead from x ' +
      'to y.');
  }
  const depth = state.gradientDepth;
  // nothing records this backward pass: at top level the tape is off already; nested, it
  // would be recorded only to be thrown away by the caller
  state.gradientDepth = 0;
  frames.push({ kind: 'backward', depth: 0 });
  try {
    return engine.tidy('backward', () => {
      const grads = backpropagate(engine, filteredTape, xs, y, dy, (node) => mode === 'top' || node.id >= firstNodeId);
      if (mode === 'top') {
        for (const node of tape) for (const t of node.saved ?? []) t.dispose();
        state.activeTape = insideBackward ? outerTape : null;
      }
      return { value: y, grads };
    });
  } finally {
    frames.pop();
    state.gradientDepth = depth;
    if (mode === 'nested') state.activeTape = liveTape;
  }
}

/**
 * tape.ts's backpropagateGradients (same gradient calls, checks and accumulation order), one
 * tidy per node, freeing each node's output gradients when it is done and its saved tensors
 * where `ownsSaved(node)`. Returns the gradients of `xs`.
 */
function backpropagate(engine: EngineInternals, filteredTape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor, dy: tf.Tensor | undefined, ownsSaved: (node: TapeNode) => boolean): tf.Tensor[] {
  // Tensors made from here on belong to this backward pass; only those are freed early.
  const firstBackwardId = engine.constructor.nextTensorId;
  const grads = new GradientMap();
  grads.set(y.id, dy == null ? tf.ones(y.shape) : dy);
  const xIds = new Set(xs.map((x) => x.id));
  const disposable = (t: tf.Tensor): boolean => t !== dy && t.id >= firstBackwardId && !t.kept && !(t instanceof tf.Variable);
  for (let i = filteredTape.length - 1; i >= 0; i--) {
    const node = filteredTape[i];
    const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
    if (node.gradient == null) {
      throw new Error('Cannot compute gradient: gradient function not found ' +
        `for ${node.kernelName}.`);
    }
    const gradient = node.gradient;
    // One tidy per node: tensors its gradient function makes eagerly (outside the
    // closures) die with it; the accumulated input gradients are returned and survive.
    engine.tidy(() => {
      const inputGradients = gradient(dys);
      const touched: tf.Tensor[] = [];
      for (const inputName in node.inputs) {
        if (!(inputName in inputGradients)) {
          throw new Error(`Cannot backprop through input ${inputName}. ` +
            `Available gradients found: ${Object.keys(inputGradients)}.`);
        }
        const dx = engine.tidy(() => inputGradients[inputName]());
        if (dx.dtype !== 'float32') {
          throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ` +
            `${inputName} must have 'float32' dtype, but has '${dx.dtype}'`);
        }
        const x = node.inputs[inputName];
        if (!tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ` +
            `'${inputName}' has shape '${dx.shape}', which does not match ` +
            `the shape of the input '${x.shape}'`);
        }
        const cur = grads.get(x.id);
        if (cur == null) {
          grads.set(x.id, dx);
        } else {
          // the stock accumulation: add in tape order, free the previous sum
          grads.set(x.id, tf.add(cur, dx));
          cur.dispose();
        }
        touched.push(grads.get(x.id)!);
      }
      return touched;
    });
    // The node's output gradients are dead now, unless they are results.
    for (const o of node.outputs) {
      if (xIds.has(o.id)) continue;
      const g = grads.delete(o.id);
      if (g && disposable(g) && !grads.references(g)) g.dispose();
    }
    // Nothing records this backward pass, so the node's saved tensors are dead.
    if (ownsSaved(node)) for (const t of node.saved ?? []) if (!grads.references(t)) t.dispose();
  }
  return xs.map((x) => grads.get(x.id)) as tf.Tensor[];
}

/** Tensor id -> accumulated gradient, counting how many entries hold each tensor. */
class GradientMap {
  private readonly byId = new Map<number, tf.Tensor>();
  private readonly holders = new Map<tf.Tensor, number>();

  get(id: number): tf.Tensor | undefined {
    return this.byId.get(id);
  }

  set(id: number, t: tf.Tensor): void {
    this.delete(id);
    this.byId.set(id, t);
    this.holders.set(t, (this.holders.get(t) ?? 0) + 1);
  }

  /** Remove the entry, returning the tensor it held. */
  delete(id: number): tf.Tensor | undefined {
    const t = this.byId.get(id);
    if (t === undefined) return undefined;
    this.byId.delete(id);
    const n = this.holders.get(t)! - 1;
    if (n === 0) this.holders.delete(t);
    else this.holders.set(t, n);
    return t;
  }

  references(t: tf.Tensor): boolean {
    return this.holders.has(t);
  }
}

/**
 * The tape nodes on a path from some x to y, in tape order, each with its inputs pruned to
 * those that are functions of x: tfjs-core's getFilteredNodesXToY (tape.ts), which is not
 * exported by the package.
 */
export function filteredNodesXToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  // Forward: the nodes and tensors that are transitively functions of x.
  const tensorsFromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    for (const inputName in node.inputs) {
      if (tensorsFromX.has(node.inputs[inputName].id)) {
        for (const o of node.outputs) tensorsFromX.add(o.id);
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  // Backward: the nodes and tensors that lead to y.
  const tensorsLeadToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => tensorsLeadToY.has(o.id))) {
      for (const inputName in node.inputs) {
        tensorsLeadToY.add(node.inputs[inputName].id);
        nodesToY.add(node.id);
      }
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const prunedInputs: Record<string, tf.Tensor> = {};
    for (const inputName in node.inputs) {
      const input = node.inputs[inputName];
      if (tensorsFromX.has(input.id)) prunedInputs[inputName] = input;
    }
    filtered.push({ ...node, inputs: prunedInputs, outputs: node.outputs });
  }
  return filtered;
}
