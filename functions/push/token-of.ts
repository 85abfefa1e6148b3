/**
 * Where a WebSocket client puts its token (API.md): the query parameter `token`, or the Sec-WebSocket-Protocol
 * header (browsers cannot set Authorization on a WebSocket): `bearer, <token>` or the token alone.
 */
export function tokenOf(query: Record<string, string | undefined> | null | undefined, headers: Record<string, string | undefined> | null | undefined): string | undefined {
  if (query?.token) return query.token;
  const protocol = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'sec-websocket-protocol')?.[1];
  if (!protocol) return undefined;
  const parts = protocol.split(',').map((part) => part.trim()).filter(Boolean);
  return parts.find((part) => part.split('.').length === 3);
}
