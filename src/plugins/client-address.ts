import fp from 'fastify-plugin';
import parseForwarded from 'forwarded-parse';

/** `for=` of RFC 7239 as proxy-addr reads X-Forwarded-For: `[v6]:port` and `"v4:port"` to the bare address. */
function bareAddress(node: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(node);
  if (v6) return v6[1]!;
  return /^[\d.]+:\d+$/.test(node) ? node.slice(0, node.lastIndexOf(':')) : node;
}

/**
 * The client's address, `request.ip`, is fastify's: the peer's, or with TRUST_PROXY (fastify's
 * `trustProxy`, set in app.ts) the nearest X-Forwarded-For hop that is not a trusted proxy.
 * proxy-addr reads X-Forwarded-For only, so a standard `Forwarded` header (RFC 7239) from a
 * proxy that sends only that is given to it in that form. Trust is still proxy-addr's to
 * decide: an untrusted peer's headers, of either kind, are ignored.
 */
export default fp<{ trusted: boolean }>(
  async (app, { trusted }) => {
    if (!trusted) return;
    app.addHook('onRequest', async (request) => {
      const headers = request.raw.headers;
      if (typeof headers.forwarded !== 'string' || headers['x-forwarded-for'] !== undefined) return;
      let elements: Array<Record<string, string>>;
      try {
        elements = parseForwarded(headers.forwarded);
      } catch {
        return; // a malformed header says nothing to believe
      }
      const hops = elements.map((e) => e.for).filter((f): f is string => f !== undefined);
      if (hops.length > 0) headers['x-forwarded-for'] = hops.map(bareAddress).join(', ');
    });
  },
  { name: 'client-address' },
);
