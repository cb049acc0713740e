// placeholder: replaced by the native backend work
import type { Backend } from '../backend.js';
export function loadNative(): Backend | undefined { return undefined; }
export function nativeLoadError(): string | undefined { return 'not built'; }
