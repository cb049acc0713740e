// placeholder: replaced by the wasm backend work
import type { Backend } from '../backend.js';
export function loadWasm(): Backend { throw new Error('wasm backend not built yet'); }
