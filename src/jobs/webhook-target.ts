import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Whether an address is on the public internet: not loopback, private (RFC 1918, IPv6 ULA),
 * link-local, CGNAT, multicast, unspecified or reserved. An IPv4-mapped IPv6 address is judged
 * as the IPv4 address it is.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

export class WebhookTargetRefused extends Error {}

/**
 * A DNS lookup that refuses private addresses: used for the connection itself, so the address
 * checked is the address connected to (a name that resolves differently a moment later, DNS
 * rebinding, gains nothing).
 */
const publicLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 4);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) return callback(new WebhookTargetRefused(`${hostname} resolves to ${refused.address}, not a public address`), '', 4);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

export interface PostResult {
  status: number;
}

/**
 * POSTs a webhook: no redirects followed, a whole-exchange timeout, and (unless private
 * networks are allowed) only to public addresses. Rejects with WebhookTargetRefused for a
 * target that is not allowed.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, opts: { timeoutMs: number; allowPrivate: boolean }): Promise<PostResult> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!opts.allowPrivate && isIP(host) && !isPublicAddress(host)) return Promise.reject(new WebhookTargetRefused(`${host} is not a public address`));
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'visiongate-webhooks', ...headers },
        ...(opts.allowPrivate ? {} : { lookup: publicLookup }),
        timeout: opts.timeoutMs,
      },
      (res: IncomingMessage) => {
        // The answer's body says nothing we use: read and drop it.
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.once('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.once('close', () => clearTimeout(timer));
    req.once('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.once('error', reject);
    req.end(body);
  });
}
