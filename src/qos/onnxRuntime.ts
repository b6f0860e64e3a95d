/**
 * onnxruntime-node, an optional dependency: the part of its API the PLCMOS
 * scorer uses, loaded when asked for. A machine where it did not install
 * (no prebuilt binary for the platform, `npm install --omit=optional`) still
 * builds and runs: the quality report says PLCMOS is unavailable and why,
 * and gives its other figures.
 */

/** A tensor as onnxruntime-node makes it (float32 only: all the scorer feeds). */
export interface OrtTensor {
  readonly dims: readonly number[];
  readonly data: unknown;
}

/** An inference session (onnxruntime-common's InferenceSession, what the scorer calls of it). */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtSessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface OnnxRuntime {
  InferenceSession: { create(path: string, options?: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

/** The package's name in a variable: the compiler must not need its types to build the project. */
const PACKAGE = 'onnxruntime-node';
let loading: Promise<OnnxRuntime> | undefined;

/**
 * The runtime, imported once; rejects with an Error saying it is not
 * installed (or why it would not load) when it cannot be had.
 */
export function loadOnnxRuntime(): Promise<OnnxRuntime> {
  loading ??= (import(PACKAGE) as Promise<OnnxRuntime & { default?: OnnxRuntime }>).then(
    (mod) => (mod.InferenceSession !== undefined ? mod : mod.default!),
    (err: unknown) => {
      loading = undefined;
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ERR_MODULE_NOT_FOUND' ? 'not installed (an optional dependency)' : `did not load: ${e.message.split('\n')[0]}`;
      throw new Error(`${PACKAGE} ${why}`, { cause: err });
    },
  );
  return loading;
}
