/**
 * The part of the WebAssembly JS API the project uses. @types/node 20 does not
 * declare it and lib.dom would bring in browser globals that do not exist in
 * Node; this follows the W3C WebAssembly JavaScript Interface.
 */
declare global {
  namespace WebAssembly {
    type ImportValue = ((...args: never[]) => unknown) | Memory | Global | Table | number;
    type Imports = Record<string, Record<string, ImportValue>>;
    type Exports = Record<string, unknown>;
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    class Module {
      constructor(bytes: ArrayBufferView | ArrayBuffer);
    }
    class Instance {
      constructor(module: Module, imports?: Imports);
      readonly exports: Exports;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer;
      grow(deltaPages: number): number;
    }
    class Global {
      value: unknown;
    }
    class Table {
      readonly length: number;
      get(index: number): unknown;
    }
    interface WebAssemblyInstantiatedSource {
      module: Module;
      instance: Instance;
    }
    function instantiate(bytes: ArrayBufferView | ArrayBuffer, imports?: Imports): Promise<WebAssemblyInstantiatedSource>;
    function instantiate(module: Module, imports?: Imports): Promise<Instance>;
    function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
    function validate(bytes: ArrayBufferView | ArrayBuffer): boolean;
  }
}
export {};
