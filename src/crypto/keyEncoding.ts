/** Errors about key material: its encoding, length, consistency, or the file that holds it. */
export class KeyError extends Error {
  override readonly name = 'KeyError';
}

// Standard base64 (RFC 4648 section 4) with padding, as tweetnacl-util and `Buffer.toString('base64')` write it.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 characters that encode `bytes` bytes with padding. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decodes a key of exactly `byteLength` bytes from standard base64 (surrounding whitespace allowed).
 * `Buffer.from(text, 'base64')` silently skips bad characters, so the text is checked strictly first;
 * `what` names the key in the error ("public key of client north").
 */
export function decodeBase64Key(text: string, byteLength: number, what: string): Uint8Array {
  const trimmed = text.trim();
  const expected = `expected base64 of ${byteLength} bytes (${base64Length(byteLength)} characters)`;
  if (!BASE64.test(trimmed)) throw new KeyError(`${what}: ${expected}, got text that is not base64 (${trimmed.length} characters)`);
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== byteLength) {
    throw new KeyError(`${what}: ${expected}, got ${trimmed.length} characters decoding to ${bytes.length} bytes`);
  }
  return new Uint8Array(bytes);
}
