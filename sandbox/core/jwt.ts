/**
 * RS256 JSON Web Tokens with node:crypto: the sandbox signs the access tokens it issues (and the
 * assertions of its test OIDC issuer) and verifies them on every service request.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A signing key with the identifiers published in the JWKS. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as a JWK (`kty`, `n`, `e`, `kid`, `use`, `alg`). */
  jwk: Record<string, string>;
}

/** Why a token failed verification. */
export type JwtFailure = "malformed" | "badSignature";

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Loads a signing key from `dir/<fileName>` (default `signing-key.pem`), creating it on first start. */
export async function loadSigningKey(dir: string, fileName = "signing-key.pem"): Promise<SigningKey> {
  const path = join(dir, fileName);
  let privateKey: KeyObject;
  if (existsSync(path)) privateKey = createPrivateKey(await readFile(path, "utf8"));
  else {
    privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    await writeFile(path, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await chmod(path, 0o600);
  }
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: "spki", format: "der" });
  const kid = createHash("sha1").update(der).digest("base64url");
  const jwk = publicKey.export({ format: "jwk" }) as Record<string, string>;
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { kty: "RSA", use: "sig", alg: "RS256", kid, x5t: kid, n: jwk.n ?? "", e: jwk.e ?? "" },
  };
}

/** Signs `claims` as a compact RS256 JWT. */
export function signJwt(claims: Record<string, unknown>, key: SigningKey): string {
  const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5t: key.kid, kid: key.kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), key.privateKey);
  return `${header}.${payload}.${b64url(signature)}`;
}

/** Decodes a compact JWT without verifying it; undefined when it is not one. */
export function decodeJwt(
  token: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0] as string, "base64url").toString("utf8")) as unknown;
    const claims = JSON.parse(Buffer.from(parts[1] as string, "base64url").toString("utf8")) as unknown;
    if (typeof header !== "object" || header === null || typeof claims !== "object" || claims === null)
      return undefined;
    return { header: header as Record<string, unknown>, claims: claims as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/**
 * Verifies an RS256 signature and returns the claims; time and audience checks are the caller's
 * (they need the injected clock and the service's audiences).
 */
export function verifyJwt(
  token: string,
  key: SigningKey,
): { ok: true; claims: Record<string, unknown> } | { ok: false; failure: JwtFailure } {
  const decoded = decodeJwt(token);
  if (!decoded) return { ok: false, failure: "malformed" };
  if (decoded.header.alg !== "RS256") return { ok: false, failure: "badSignature" };
  const dot = token.lastIndexOf(".");
  const signature = Buffer.from(token.slice(dot + 1), "base64url");
  const valid = verify("sha256", Buffer.from(token.slice(0, dot)), key.publicKey, signature);
  return valid ? { ok: true, claims: decoded.claims } : { ok: false, failure: "badSignature" };
}
