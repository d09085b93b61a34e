export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a JSON column that should hold an object; anything else reads as {}. */
export function parseJsonObject(text: string | null | undefined): JsonObject {
  if (!text) return {};
  const value: unknown = JSON.parse(text);
  return isPlainObject(value) ? value : {};
}

/** Parses a JSON column that should hold an array; anything else reads as []. */
export function parseJsonArray(text: string | null | undefined): unknown[] {
  if (!text) return [];
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value : [];
}
