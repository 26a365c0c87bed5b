/**
 * Types for the parts of @uwdata/flechette's IPC encoder that arrow-ipc-writer.ts drives one
 * record batch at a time (the package's public `tableToIPC` only writes whole tables). The package
 * has no `exports` map, so these modules are importable; their declarations live under
 * dist/types, which TypeScript does not find from the src paths.
 */
declare module '@uwdata/flechette/src/encode/builder.js' {
  export { Builder } from '@uwdata/flechette/dist/types/encode/builder.js';
}
declare module '@uwdata/flechette/src/encode/message.js' {
  export { writeMessage } from '@uwdata/flechette/dist/types/encode/message.js';
}
declare module '@uwdata/flechette/src/encode/schema.js' {
  export { encodeSchema } from '@uwdata/flechette/dist/types/encode/schema.js';
}
declare module '@uwdata/flechette/src/encode/record-batch.js' {
  export { encodeRecordBatch } from '@uwdata/flechette/dist/types/encode/record-batch.js';
}
declare module '@uwdata/flechette/src/encode/footer.js' {
  export { writeFooter } from '@uwdata/flechette/dist/types/encode/footer.js';
}
