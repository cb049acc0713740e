/**
 * Vega-Lite spec -> inline SVG, at report time, in Node: vega-lite compiles the spec to Vega, and a
 * headless Vega view (no renderer, no canvas) writes the SVG. Vega's loader is replaced by one that
 * refuses every load, so a report can never reach a file or the network while it is drawn.
 */
import { View, parse, type Loader } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { SlimtextError } from '../../errors.js';
import type { VegaLiteSpec } from './specs.js';

const noLoads: Loader = {
  load: async (uri: string) => {
    throw new SlimtextError(`a report chart tried to load ${uri}; charts carry their data inline`);
  },
  sanitize: async (uri: string) => {
    throw new SlimtextError(`a report chart tried to load ${uri}; charts carry their data inline`);
  },
  http: async () => {
    throw new SlimtextError('a report chart tried to use the network');
  },
  file: async () => {
    throw new SlimtextError('a report chart tried to read a file');
  },
} as unknown as Loader;

/** The chart as one <svg> element (no XML declaration), ready to inline in HTML. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const vg = compile(spec as unknown as TopLevelSpec).spec;
  const view = new View(parse(vg), { renderer: 'none', loader: noLoads });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
