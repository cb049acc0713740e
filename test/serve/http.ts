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
