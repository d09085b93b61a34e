import { createHash, createHmac } from 'node:crypto';

/**
 * A client that signs requests the way the SuprSend backend SDKs do, written from the protocol
 * reference rather than from Herald's verifier so the two check each other.
 */
export function hmacHeaders(
  workspaceKey: string,
  secret: string,
  method: string,
  target: string,
  body: string | undefined,
  date = new Date().toUTCString(),
): Record<string, string> {
  const contentType = 'application/json; charset=utf-8';
  const md5 = body === undefined || body === '' ? '' : createHash('md5').update(body, 'utf8').digest('hex');
  const signature = createHmac('sha256', secret).update(`${method}\n${md5}\n${contentType}\n${date}\n${target}`, 'utf8').digest('base64');
  return { 'content-type': contentType, date, authorization: `${workspaceKey}:${signature}` };
}

export async function getJson(url: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
