// What a browser keeps and does on the IdP's pages, for the node clients that walk the real sign-in pages (the interop
// flows and bench/loadclient.mjs): cookies, redirects followed by hand so every hop is visible, and form fields read.

export class IdpBrowser {
  cookies = new Map();

  /** @param {URL} issuer redirects stay followed while they remain on this origin */
  constructor(issuer) {
    this.issuer = new URL(issuer);
  }

  async request(url, init = {}) {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects on the IdP until one leaves it (to the relying party) or a page is shown. */
  async follow(url) {
    let current = new URL(url);
    for (let hop = 0; hop < 10; hop++) {
      const response = await this.request(current);
      if (response.status < 300 || response.status >= 400) return { url: current, response };
      await response.arrayBuffer();
      const next = new URL(response.headers.get('location'), current);
      if (next.origin !== this.issuer.origin) return { url: next, response };
      current = next;
    }
    throw new Error(`too many redirects from ${url}`);
  }
}

/** The value of the named input of an HTML form (as Razor encodes it). */
export const field = (html, name) => {
  const match = html.match(new RegExp(`name="${name.replace('.', '\\.')}"[^>]*value="([^"]*)"`));
  if (!match) throw new Error(`the page has no ${name} field:\n${html.slice(0, 500)}`);
  return match[1].replaceAll('&amp;', '&').replaceAll('&#x2B;', '+').replaceAll('&#x3D;', '=').replaceAll('&#x2F;', '/');
};
