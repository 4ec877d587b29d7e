/**
 * How many simple authenticated GETs per second the sandbox serves (issue 4 target: ≥ 2,000/s
 * with no faults on the 2-core machine). Loopback only; bounded by count and by time.
 *
 * The sandbox runs in a child process (as `d365-access sandbox start` runs it) so the client's
 * work does not share its event loop. Run: bash scripts/with-node bench/sandbox.ts [requests]
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TOTAL = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = 32;
const TIME_LIMIT_MS = 30_000;
const PORT_BASE = 49000 + Math.floor(Math.random() * 50) * 10;

function get(agent: Agent, url: string, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString("utf8");
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sandbox-bench-"));
  const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [cli, "sandbox", "start", "--foreground", "--state-dir", dir, "--port-base", String(PORT_BASE)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString("utf8");
        if (out.includes("NODE_EXTRA_CA_CERTS")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`sandbox exited early (${code})`)));
    });
    const endpoints = JSON.parse(await readFile(join(dir, "endpoints.json"), "utf8")) as Record<
      string,
      string
    >;
    const agent = new Agent({
      ca: await readFile(endpoints.caCertPath as string, "utf8"),
      keepAlive: true,
      maxSockets: CONCURRENCY,
    });
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: endpoints.clientId as string,
      client_secret: endpoints.clientSecret as string,
      scope: `${endpoints.graphUrl}/.default`,
    }).toString();
    const token = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${endpoints.authorityHost}/${endpoints.tenantId}/oauth2/v2.0/token`,
        { method: "POST", agent, headers: { "content-type": "application/x-www-form-urlencoded" } },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => {
            text += c.toString("utf8");
          });
          res.on("end", () => resolve((JSON.parse(text) as { access_token: string }).access_token));
        },
      );
      req.on("error", reject);
      req.end(form);
    });
    const url = `${endpoints.graphUrl}/v1.0/users/adele.vance@contoso.example?$select=id,displayName`;
    // Warm up TLS sessions and JIT.
    await Promise.all(Array.from({ length: CONCURRENCY }, () => get(agent, url, token)));
    let sent = 0;
    let failed = 0;
    const started = performance.now();
    const worker = async () => {
      while (sent < TOTAL && performance.now() - started < TIME_LIMIT_MS) {
        sent++;
        const res = await get(agent, url, token);
        if (res.status !== 200) failed++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    const rate = sent / seconds;
    process.stdout.write(
      `sandbox: ${sent} authenticated GET /v1.0/users/{upn} in ${seconds.toFixed(2)} s, concurrency ${CONCURRENCY}: ${Math.round(rate)} requests/s (${failed} non-200; target >= 2000/s)\n`,
    );
    if (failed > 0) process.exitCode = 1;
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
