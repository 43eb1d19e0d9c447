import { readFile } from 'node:fs/promises';
import initialize, { type MainModule } from 'node-seal';

/** The node-seal (Microsoft SEAL 4.1 compiled to wasm) module: one instance, one wasm heap, per process. */
export type Seal = MainModule;

/** What this file uses of the `WebAssembly` global (the project's `lib` has no DOM/wasm typings). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: unknown) => { readonly exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => { readonly buffer: ArrayBuffer };
}

let loading: Promise<Seal> | undefined;
let heap: { readonly buffer: ArrayBuffer } | undefined;

/**
 * Loads node-seal once (about 60 ms). It compiles the wasm itself, through Emscripten's `instantiateWasm`
 * hook, only to keep a handle on the module's linear memory: `sealHeapBytes()` reads its size, which is
 * how the tests prove every SEAL object is freed. If the wasm file is not where node-seal 7 ships it, the
 * module loads the ordinary way and the heap size is unknown.
 */
export function loadSeal(): Promise<Seal> {
  loading ??= load();
  return loading;
}

async function load(): Promise<Seal> {
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  let compiled: object;
  try {
    compiled = await wasm.compile(await readFile(new URL('./seal_throws.wasm', import.meta.resolve('node-seal'))));
  } catch {
    return initialize();
  }
  return initialize({
    // Synchronous instantiation, so a failure throws inside the factory and rejects its promise.
    instantiateWasm(imports: unknown, receive: (instance: unknown, module: unknown) => void): Record<string, unknown> {
      const instance = new wasm.Instance(compiled, imports);
      for (const value of Object.values(instance.exports)) if (value instanceof wasm.Memory) heap = value;
      receive(instance, compiled);
      return instance.exports;
    },
  });
}

/**
 * Current size of node-seal's wasm heap in bytes, or undefined before loading or when it could not be
 * observed. A wasm heap only grows (memory is never handed back to the host), so this is a high-water
 * mark: a loop that frees what it allocates keeps it flat.
 */
export function sealHeapBytes(): number | undefined {
  return heap?.buffer.byteLength;
}
