/**
 * An `azblob://` backend for the benchmarks: Azurite's blob service (npm `azurite`, a
 * devDependency) on loopback, behind a counting TCP relay, so a run's bytes sent to the backend
 * (requests with their bodies: every checkpoint upload) are measured exactly. The pulumi CLI
 * reaches it through AZURE_STORAGE_CONNECTION_STRING (gocloud.dev's azureblob driver). The
 * account is Azurite's documented development account (a published, non-secret key:
 * https://learn.microsoft.com/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import process from "node:process";

const ACCOUNT = "devstoreaccount1";
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const ROOT = path.resolve(import.meta.dirname, "..");

/** A running Azurite with its relay. */
export interface Azurite {
  /** Environment for the pulumi CLI: the backend URL and the connection string. */
  env(container: string): Record<string, string>;
  /** Creates a container (the azblob backend does not). */
  createContainer(name: string): Promise<void>;
  /** Bytes clients sent to the backend so far. */
  readonly bytesIn: number;
  close(): Promise<void>;
}

/** Signs and sends `PUT /<account>/<name>?restype=container` (Shared Key, Azurite's dev account). */
function putContainer(port: number, name: string): Promise<number> {
  const date = new Date().toUTCString();
  const version = "2021-08-06";
  // https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key
  const toSign = [
    "PUT",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    `x-ms-date:${date}\nx-ms-version:${version}`,
    `/${ACCOUNT}/${ACCOUNT}/${name}\nrestype:container`,
  ].join("\n");
  const signature = createHmac("sha256", Buffer.from(KEY, "base64")).update(toSign, "utf8").digest("base64");
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "PUT",
        path: `/${ACCOUNT}/${name}?restype=container`,
        headers: {
          "x-ms-date": date,
          "x-ms-version": version,
          authorization: `SharedKey ${ACCOUNT}:${signature}`,
          "content-length": "0",
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Starts Azurite's blob service on `port` and the counting relay on `port + 1`. */
export async function startAzurite(port: number): Promise<Azurite> {
  const location = mkdtempSync(path.join(tmpdir(), "bench-azurite-"));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      path.join(ROOT, "node_modules", "azurite", "dist", "src", "blob", "main.js"),
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--location",
      location,
      "--silent",
      "--skipApiVersionCheck",
      "--loose",
      "--disableTelemetry", // loopback only: no data to Microsoft
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const onData = (c: Buffer) => {
      out += c.toString("utf8");
      if (/successfully listens/i.test(out)) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`azurite exited (${code}): ${out}`)));
  });
  let bytesIn = 0;
  const relay: Server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port });
    client.on("data", (c: Buffer) => {
      bytesIn += c.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
  });
  await new Promise<void>((resolve) => relay.listen(port + 1, "127.0.0.1", resolve));
  return {
    env: (container) => ({
      PULUMI_BACKEND_URL: `azblob://${container}`,
      AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:${port + 1}/${ACCOUNT};`,
    }),
    async createContainer(name) {
      const status = await putContainer(port, name);
      if (status !== 201 && status !== 409)
        throw new Error(`azurite: creating container ${name} answered ${status}`);
    },
    get bytesIn() {
      return bytesIn;
    },
    async close() {
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      rmSync(location, { recursive: true, force: true });
    },
  };
}
