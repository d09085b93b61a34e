import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where webhook steps may send. A workflow's author chooses the URL, so without a guard a webhook
 * could reach the machine Herald runs on, its private network or a cloud metadata service, and
 * its delivery status would tell which ports answer. Addresses in the ranges below are refused —
 * checked on the address actually connected to, after DNS resolution, so a name that resolves (or
 * re-resolves) to one is refused too — unless the operator allows them with
 * HERALD_WEBHOOK_ALLOWED_HOSTS (host names, IP addresses or CIDR ranges). Redirects are not followed.
 */

const REFUSED = new BlockList();
const RANGES: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'a "this network" address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address (cloud metadata services live here)'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'a reserved address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a reserved (benchmarking) address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 96, 'ipv6', 'an unspecified or IPv4-compatible address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['fc00::', 7, 'ipv6', 'a private (unique local) address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];
for (const [network, prefix, family] of RANGES) REFUSED.addSubnet(network, prefix, family);

export class WebhookTargetRefused extends Error {
  override name = 'WebhookTargetRefused';
}

/**
 * An IPv4-mapped IPv6 address is the IPv4 address it carries, in either spelling: `::ffff:127.0.0.1`
 * or `::ffff:7f00:1` (the form URL parsing produces).
 */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted?.[1]) return { address: dotted[1], family: 'ipv4' };
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] && hex[2]) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return { address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: 'ipv4' };
  }
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export class WebhookTargetPolicy {
  readonly #allowedHosts = new Set<string>();
  readonly #allowedAddresses = new BlockList();

  /** `allowed`: host names, IP addresses and CIDR ranges (`10.0.0.0/8`) that may be reached although private. */
  constructor(allowed: readonly string[]) {
    for (const entry of allowed) {
      const [network, prefix] = entry.split('/');
      const family = isIP(network ?? '');
      if (family === 0) this.#allowedHosts.add(entry.toLowerCase());
      else if (prefix === undefined) this.#allowedAddresses.addAddress(network as string, family === 6 ? 'ipv6' : 'ipv4');
      else this.#allowedAddresses.addSubnet(network as string, Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** Why `address` may not be reached for `host`, or undefined when it may. */
  problem(host: string, address: string): string | undefined {
    if (this.#allowedHosts.has(host.toLowerCase())) return undefined;
    const { address: plain, family } = normalise(address);
    if (this.#allowedAddresses.check(plain, family)) return undefined;
    if (!REFUSED.check(plain, family)) return undefined;
    const what = RANGES.find(([network, prefix, rangeFamily]) => {
      const one = new BlockList();
      one.addSubnet(network, prefix, rangeFamily);
      return one.check(plain, family);
    })?.[3];
    return `${address} is ${what ?? 'not a public address'}; allow it with HERALD_WEBHOOK_ALLOWED_HOSTS`;
  }

  /** A `lookup` for net.connect that resolves as usual and refuses when any address is not allowed. */
  lookupFor(host: string): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, '', 0);
        const list = addresses as LookupAddress[];
        for (const { address } of list) {
          const problem = this.problem(host, address);
          if (problem) return callback(new WebhookTargetRefused(`refused: ${hostname} resolves to ${problem}`), '', 0);
        }
        if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
        const first = list[0];
        if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
        callback(null, first.address, first.family);
      });
    };
  }
}

/**
 * POSTs `body` to `url` through the policy; resolves with the status code (redirects are answers,
 * not followed). Rejects with WebhookTargetRefused before any connection to a refused address.
 */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  policy: WebhookTargetPolicy,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    // An address in the URL is connected to without a lookup: check it here.
    if (isIP(host) !== 0) {
      const problem = policy.problem(host, host);
      if (problem) return reject(new WebhookTargetRefused(`refused: ${problem}`));
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        lookup: policy.lookupFor(host),
        timeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response: IncomingMessage) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
        response.once('error', reject);
      },
    );
    request.once('timeout', () =>
      request.destroy(Object.assign(new Error(`timed out after ${timeoutMs / 1000} s`), { name: 'TimeoutError' })),
    );
    request.once('error', reject);
    request.end(body);
  });
}
