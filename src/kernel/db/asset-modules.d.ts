// `import x from './f.wasm' with { type: 'file' }` gives the file's path (on disk, or inside a compiled binary).
declare module '*.wasm' {
  const path: string;
  export default path;
}
declare module '*.data' {
  const path: string;
  export default path;
}
