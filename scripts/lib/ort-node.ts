// onnxruntime-web in Node: the package's node entry loads its WASM from node_modules by itself. One thread,
// as in the Worker, so the two paths compute the same way.
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;

export { ort };
