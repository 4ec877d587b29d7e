/**
 * The sandbox's local certificate authority and its per-origin server certificates.
 *
 * Generated on first start under the state directory and reused afterwards, so a client that
 * trusts `ca.pem` once (NODE_EXTRA_CA_CERTS or an explicit `ca` option) keeps trusting the
 * sandbox across restarts. Nothing here disables TLS verification anywhere.
 *
 * X.509 encoding comes from `@peculiar/x509` (Node's crypto makes keys but cannot build
 * certificates); keys are ECDSA P-256, fast to generate and accepted by Node's TLS.
 */
import { webcrypto } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata polyfill.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 24 * 60 * 60 * 1000;

/** A certificate and its private key, both PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

/** The CA plus one server certificate per origin name. */
export interface SandboxCertificates {
  /** PEM of the CA certificate (what clients trust). */
  caCert: string;
  /** Path of the CA certificate on disk. */
  caCertPath: string;
  /** Returns (creating on first use) the server certificate of one origin, e.g. "graph". */
  serverCertificate(originName: string): Promise<PemPair>;
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const body = der.toString("base64").replace(/.{64}/g, "$&\n").trimEnd();
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

async function importKeyPem(pem: string): Promise<CryptoKey> {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return webcrypto.subtle.importKey("pkcs8", Buffer.from(body, "base64"), ALGORITHM, true, ["sign"]);
}

/** Every file the sandbox writes is readable by its owner only (mode 0600), certificates included. */
async function writePrivate(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

function stillValid(pem: string, now: number): boolean {
  try {
    const cert = new x509.X509Certificate(pem);
    return cert.notAfter.getTime() - now > 7 * DAY;
  } catch {
    return false;
  }
}

async function createCa(dir: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey; pem: string }> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=d365-access sandbox local CA, O=d365-access sandbox (not trusted outside this machine)",
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = cert.toString("pem");
  await writePrivate(join(dir, "ca.pem"), `${pem}\n`);
  await writePrivate(join(dir, "ca-key.pem"), await exportKeyPem(keys.privateKey));
  return { cert, key: keys.privateKey, pem };
}

/**
 * Loads the CA from `dir` (creating it on first start) and returns a factory of per-origin
 * server certificates, cached on disk under `dir/certs/`. A server certificate is re-issued when
 * it was signed by another CA or is within a week of expiry.
 */
export async function loadCertificates(dir: string): Promise<SandboxCertificates> {
  await mkdir(join(dir, "certs"), { recursive: true, mode: 0o700 });
  const caCertPath = join(dir, "ca.pem");
  const caKeyPath = join(dir, "ca-key.pem");
  let ca: { cert: x509.X509Certificate; key: CryptoKey; pem: string };
  if (
    existsSync(caCertPath) &&
    existsSync(caKeyPath) &&
    stillValid(await readFile(caCertPath, "utf8"), Date.now())
  ) {
    const pem = (await readFile(caCertPath, "utf8")).trim();
    ca = {
      cert: new x509.X509Certificate(pem),
      key: await importKeyPem(await readFile(caKeyPath, "utf8")),
      pem,
    };
  } else ca = await createCa(dir);
  const cache = new Map<string, Promise<PemPair>>();

  async function issue(originName: string): Promise<PemPair> {
    const safe = originName.replace(/[^A-Za-z0-9_-]/g, "_");
    const certPath = join(dir, "certs", `${safe}.pem`);
    const keyPath = join(dir, "certs", `${safe}-key.pem`);
    if (existsSync(certPath) && existsSync(keyPath)) {
      const cert = await readFile(certPath, "utf8");
      const parsed = stillValid(cert, Date.now()) ? new x509.X509Certificate(cert) : undefined;
      if (
        parsed &&
        parsed.issuer === ca.cert.subject &&
        (await parsed.verify({ publicKey: ca.cert.publicKey }))
      ) {
        return { cert, key: await readFile(keyPath, "utf8") };
      }
    }
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      subject: `CN=127.0.0.1, OU=${safe}, O=d365-access sandbox`,
      issuer: ca.cert.subject,
      notBefore: new Date(now - DAY),
      // 397 days: the longest validity TLS clients accept for server certificates.
      notAfter: new Date(now + 397 * DAY),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: ca.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([
          { type: "ip", value: "127.0.0.1" },
          { type: "dns", value: "localhost" },
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ],
    });
    const pair = { cert: `${cert.toString("pem")}\n`, key: await exportKeyPem(keys.privateKey) };
    await writePrivate(certPath, pair.cert);
    await writePrivate(keyPath, pair.key);
    return pair;
  }

  return {
    caCert: `${ca.pem}\n`,
    caCertPath,
    serverCertificate(originName) {
      let pending = cache.get(originName);
      if (!pending) {
        pending = issue(originName);
        cache.set(originName, pending);
      }
      return pending;
    },
  };
}
