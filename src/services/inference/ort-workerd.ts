// onnxruntime-web inside workerd. Workers refuse to compile WebAssembly from bytes at run time, and ORT's
// default entry cannot find its own script URL there, so (shared/notes/runtime.md):
// - the `/wasm` entry has the Emscripten glue inlined (no dynamic import);
// - wrangler uploads the .wasm as a precompiled WebAssembly.Module;
// - a placeholder wasmBinary stops ORT from fetching, and the single WebAssembly.instantiate(bytes, imports)
//   call Emscripten then makes, during the first session creation, is answered with the precompiled module.
import * as ort from 'onnxruntime-web/wasm';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import type { OrtNamespace } from './runtime';

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
ort.env.wasm.wasmBinary = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

let backendReady: Promise<void> | undefined;

async function createWithPrecompiledWasm(bytes: Uint8Array) {
  const original = WebAssembly.instantiate;
  (WebAssembly as { instantiate: unknown }).instantiate = async (source: unknown, imports?: WebAssembly.Imports) =>
    source instanceof WebAssembly.Module ? original(source, imports) : { module: ortWasm, instance: await original(ortWasm, imports) };
  try {
    return await ort.InferenceSession.create(bytes);
  } finally {
    (WebAssembly as { instantiate: unknown }).instantiate = original;
  }
}

/** ORT for workerd: the backend initialises once per isolate, on the first session; later ones reuse it. */
export const workerdOrt: OrtNamespace = {
  Tensor: ort.Tensor,
  InferenceSession: {
    async create(bytes: Uint8Array) {
      if (!backendReady) {
        const first = createWithPrecompiledWasm(bytes);
        backendReady = first.then(
          () => undefined,
          (error) => {
            backendReady = undefined;
            throw error;
          },
        );
        return first;
      }
      await backendReady;
      return ort.InferenceSession.create(bytes);
    },
  },
};
