/** The slice of the WebAssembly JS API the aggregation kernels use (the project's lib settings do not declare it). */
export interface WasmApi {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

/** This runtime's WebAssembly, if it has one (the kernels fall back to JavaScript without it). */
export const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** A WebAssembly page. */
export const PAGE = 65_536;

/** A 32-bit WebAssembly memory holds at most 4 GiB. */
export const MAX_WASM_BYTES = 65_536 * PAGE;
