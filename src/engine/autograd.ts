/**
 * Reverse-mode autograd as a tape of closures. Each op whose inputs need gradients records a Node
 * on its output (the inputs and a closure that turns the output's gradient into input gradients
 * with the `*Backward` kernels, which accumulate). An op whose inputs need no gradient records
 * nothing, so frozen parameters cost no gradient buffers and no backward work, and nothing below the
 * lowest trainable parameter is ever visited. `backward(loss)` orders the nodes reachable from the
 * loss (the tape of that loss) and runs them in reverse creation order.
 *
 * The tape hangs off the tensors rather than a global list, so a forward pass that is never
 * backpropagated (evaluation without noGrad) is simply garbage-collected.
 *
 * Memory: backward hands each intermediate gradient back to the buffer pool (pool.ts) as soon as
 * its node has run, and runs a node's `release` (which gives back the op's private scratch) when
 * the graph is freed. A gradient buffer reaching a closure is therefore valid only during that
 * call; `adoptGrad` lets an input take it over instead of copying it. Activations a module marks
 * with `releaseWithGraph` go back to the pool when backward frees the op that produced them.
 */
import type { Tensor } from './tensor.js';
import { getBackend } from './backends.js';
import { OpError } from '../errors.js';
import { fmt } from './shapes.js';
import { giveBack, takeBuffer, takeZeroed } from './pool.js';

export interface Node {
  /** Creation order: a valid topological order of the graph. */
  readonly seq: number;
  readonly op: string;
  /** Emptied when the node is freed, so a kept loss tensor does not keep the whole graph alive. */
  inputs: readonly Tensor[];
  /** Accumulates input gradients from the output gradient g; undefined once run and freed. */
  backward: ((g: Float32Array) => void) | undefined;
  /** Gives the op's private buffers back to the pool once the graph is freed. */
  release: (() => void) | undefined;
}

let seqCounter = 0;
let gradDisabled = 0;
const recycleWithNode = new WeakSet<Tensor>();

/** Whether ops currently record onto the tape (false inside noGrad). */
export function gradEnabled(): boolean {
  return gradDisabled === 0;
}

/** Runs fn with recording switched off (evaluation, optimiser updates, finite differences). */
export function noGrad<T>(fn: () => T): T {
  gradDisabled++;
  try {
    return fn();
  } finally {
    gradDisabled--;
  }
}

/** True when an op over these inputs must record a backward closure. */
export function needsGrad(...inputs: (Tensor | undefined | null)[]): boolean {
  if (gradDisabled > 0) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Records `backward` as the way to push out's gradient into `inputs` (only call when
 * needsGrad(...inputs)). Returns out, now requiring grad. The closure's argument g is recycled
 * after the call: read it, never keep it (adoptGrad hands it over safely). `release`, if given,
 * runs once when backward frees the graph; it may give the op's private scratch buffers (never
 * `out.data`, which the caller may hold) back to the pool.
 */
export function record(op: string, out: Tensor, inputs: readonly Tensor[], backward: (g: Float32Array) => void, release?: () => void): Tensor {
  out.requiresGrad = true;
  out.node = { seq: seqCounter++, op, inputs, backward, release };
  return out;
}

/**
 * For a module's internal activations (an encoder layer's projections, its feed-forward hidden
 * layer): the caller promises it holds the only references to each tensor and its data, and drops
 * them now that the ops reading them are recorded. When backward frees the op that produced a
 * tensor (every op reading it has run by then), its buffer is recycled for later tensors instead of
 * waiting for the GC while the next step allocates fresh memory. Tensors not produced by a
 * recorded op (no gradient, noGrad) are left to the GC.
 */
export function releaseWithGraph(...ts: Tensor[]): void {
  for (const t of ts) if (t.node) recycleWithNode.add(t);
}

/** The dense gradient buffer of t, allocated (zeroed) on first use. */
export function gradOf(t: Tensor): Float32Array {
  if (!t.grad) t.grad = takeZeroed(t.size, zeroFill);
  return t.grad;
}

/**
 * t's gradient buffer for a kernel that can either overwrite or add (gemm's beta, `accumulate`
 * flags): `fresh` means the buffer was just created with arbitrary contents and must be
 * overwritten, which spares zero-filling it only to add into zeros.
 */
export function gradTarget(t: Tensor): { buf: Float32Array; fresh: boolean } {
  if (t.grad) return { buf: t.grad, fresh: false };
  t.grad = takeBuffer(t.size);
  return { buf: t.grad, fresh: true };
}

/**
 * grad(t) += alpha * g for g the whole output gradient a closure received (same size as t). When
 * t has no gradient yet and alpha is 1, t takes g over instead of copying it. Only the last use of
 * g in a closure may adopt it: an input adopting g and another input then adding g into its own
 * gradient would read a buffer the first may already change.
 */
export function adoptGrad(t: Tensor, g: Float32Array, alpha = 1): void {
  if (!t.grad && alpha === 1 && g.length === t.size) {
    t.grad = g;
    return;
  }
  const { buf, fresh } = gradTarget(t);
  getBackend().axpby(t.size, alpha, g, fresh ? 0 : 1, buf);
}

function zeroFill(n: number, x: Float32Array): void {
  getBackend().fill(n, 0, x);
}

/** t's gradient buffer when t needs one, else null (the kernels skip null outputs). */
export function gradOrNull(t: Tensor): Float32Array | null {
  return t.requiresGrad ? gradOf(t) : null;
}

/** Throws an OpError naming `op` if t holds a NaN or an infinity. */
export function checkFinite(t: Tensor, op: string): void {
  if (!getBackend().allFinite(t.size, t.data)) {
    throw new OpError(op, `tensor of shape ${fmt(t.shape)} holds NaN or Inf${t.size === 1 ? ` (value ${t.data[0]})` : ''}`);
  }
}

export interface BackwardOptions {
  /** Gradient of the final output (default: 1 for a one-element loss). */
  gradient?: Float32Array;
  /** Keep the closures so backward can run again over the same graph (default false). */
  retainGraph?: boolean;
}

/**
 * Backpropagates from `loss` (a one-element tensor, unless a gradient is given): leaf gradients
 * accumulate (+=) until zeroGrad; gradients of intermediate tensors are freed as soon as they are
 * used. Throws an OpError if the loss is NaN/Inf, so a diverged step never writes NaN gradients.
 */
export function backward(loss: Tensor, opts: BackwardOptions = {}): void {
  if (!opts.gradient && loss.size !== 1) {
    throw new OpError('backward', `loss must have one element, got shape ${fmt(loss.shape)} (pass a gradient for non-scalar outputs)`);
  }
  if (opts.gradient && opts.gradient.length !== loss.size) {
    throw new OpError('backward', `gradient has ${opts.gradient.length} elements, output shape ${fmt(loss.shape)} has ${loss.size}`);
  }
  checkFinite(loss, 'backward');
  if (!loss.requiresGrad) {
    throw new OpError('backward', 'the loss does not depend on any tensor that requires grad (all parameters frozen, or computed under noGrad?)');
  }
  const b = getBackend();
  const g0 = gradOf(loss);
  if (opts.gradient) b.axpby(g0.length, 1, opts.gradient, 1, g0);
  else g0[0]! += 1;

  for (const t of tapeOf(loss)) {
    const node = t.node!;
    if (!node.backward) {
      throw new OpError('backward', `the graph through '${node.op}' was already backpropagated and freed (use retainGraph to run backward twice)`);
    }
    const g = t.grad;
    if (g) node.backward(g);
    // Intermediate gradients are rebuilt by every backward; keeping them would double-count.
    t.grad = undefined;
    if (g && !node.inputs.some((i) => i.grad === g)) giveBack(g);
    if (!opts.retainGraph) {
      node.backward = undefined;
      node.inputs = [];
      node.release?.();
      node.release = undefined;
      if (recycleWithNode.delete(t)) giveBack(t.data);
    }
  }
}

/** The non-leaf tensors reachable from root that need gradients, latest first. */
function tapeOf(root: Tensor): Tensor[] {
  const seen = new Set<Tensor>();
  const out: Tensor[] = [];
  const stack: Tensor[] = [root];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t) || !t.node) continue;
    seen.add(t);
    out.push(t);
    for (const i of t.node.inputs) if (i.requiresGrad && i.node && !seen.has(i)) stack.push(i);
  }
  return out.sort((x, y) => y.node!.seq - x.node!.seq);
}
