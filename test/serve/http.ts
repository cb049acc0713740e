/** HTTP helpers for the server tests: JSON posts and gets against a running server (loopback only). */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const r = await fetch(url, init);
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: r.status, headers: r.headers, body, text };
}

export function post(url: string, body: unknown): Promise<Answer> {
  return send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export function get(url: string): Promise<Answer> {
  return send(url);
}

/**
 * Reloads `model` from `dir` through the admin API while `loops` clients keep posting two texts
 * each to its predict route: the reload starts once 10 answers came, the clients stop once 10
 * answers came from version 2 (or after ~10 s). Returns the reload's answer, the version of every
 * 200 answer in order, and every status.
 */
export async function reloadUnderTraffic(
  s: { url: string; adminUrl?: string },
  model: string,
  dir: string,
  texts: readonly string[],
  loops: number,
): Promise<{ reload: Answer; seen: number[]; statuses: number[] }> {
  const u = `${s.url}/v1/models/${model}/predict`;
  let stop = false;
  const seen: number[] = [];
  const statuses: number[] = [];
  const loop = async () => {
    for (let i = 0; !stop; i++) {
      const r = await post(u, { texts: [texts[i % texts.length]!, texts[(i + 7) % texts.length]!] });
      statuses.push(r.status);
      if (r.status === 200) seen.push(r.body.version);
    }
  };
  const running = Array.from({ length: loops }, loop);
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  };
  await until(() => seen.length >= 10);
  const reload = await post(`${s.adminUrl}/admin/models/${model}/reload`, { dir });
  await until(() => seen.filter((v) => v === 2).length >= 10);
  stop = true;
  await Promise.all(running);
  return { reload, seen, statuses };
}
