import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { call } from "./helpers.ts";

const run = promisify(execFile);
const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
// A port range away from the default (47300) so a developer's own sandbox is not disturbed.
const PORT_BASE = String(48000 + Math.floor(Math.random() * 1500) * 10);

async function cli(dir: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [
      MAIN,
      "sandbox",
      ...args,
      "--state-dir",
      dir,
      "--port-base",
      PORT_BASE,
    ]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("d365-access sandbox CLI", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sandbox-cli-test-"));
  });
  after(async () => {
    await cli(dir, "stop");
    await rm(dir, { recursive: true, force: true });
  });

  it("start, status, restart keeping state, reset, stop", async () => {
    const started = await cli(dir, "start", "--sync-delay", "1");
    assert.equal(started.code, 0, started.out);
    assert.match(started.out, /sandbox started \(pid \d+\)/);
    const endpoints = JSON.parse(await readFile(join(dir, "endpoints.json"), "utf8")) as Record<
      string,
      string
    >;
    assert.equal(endpoints.adminUrl, `https://127.0.0.1:${PORT_BASE}`);
    const agent = new Agent({ ca: await readFile(endpoints.caCertPath as string, "utf8") });
    assert.equal((await cli(dir, "status")).code, 0);
    const faults = await call(agent, `${endpoints.adminUrl}/faults`);
    assert.equal((faults.body as { syncDelaySeconds: number }).syncDelaySeconds, 1);

    const token = (
      (
        await call(agent, `${endpoints.adminUrl}/tokens`, {
          method: "POST",
          body: { appId: endpoints.clientId, audience: endpoints.graphUrl },
        })
      ).body as { access_token: string }
    ).access_token;
    const patched = await call(agent, `${endpoints.graphUrl}/v1.0/users/eva.nowak@contoso.example`, {
      method: "PATCH",
      token,
      body: { jobTitle: "Survives restarts" },
    });
    assert.equal(patched.status, 204);

    assert.equal((await cli(dir, "stop")).code, 0);
    const stopped = await cli(dir, "status");
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.out, /not running/);

    assert.equal((await cli(dir, "start")).code, 0);
    const again = JSON.parse(await readFile(join(dir, "endpoints.json"), "utf8")) as Record<string, string>;
    assert.equal(again.graphUrl, endpoints.graphUrl, "a restart keeps the same origins");
    const read = await call(
      agent,
      `${endpoints.graphUrl}/v1.0/users/eva.nowak@contoso.example?$select=jobTitle`,
      { token },
    );
    assert.equal((read.body as { jobTitle: string }).jobTitle, "Survives restarts");

    // Neither the log nor the state hold the client secret or a bearer token; files are owner-only.
    for (const file of ["sandbox.log", "state.json", "sandbox.pid"]) {
      const text = await readFile(join(dir, file), "utf8");
      assert.ok(!text.includes(endpoints.clientSecret as string), `${file} holds the client secret`);
      assert.ok(!text.includes(token), `${file} holds a bearer token`);
      assert.equal((await stat(join(dir, file))).mode & 0o777, 0o600, `${file} is not 0600`);
    }
    assert.match(started.out, /"clientSecret": "\(see endpoints\.json\)"/);

    assert.equal((await cli(dir, "reset")).code, 0);
    const reseeded = await call(
      agent,
      `${endpoints.graphUrl}/v1.0/users/eva.nowak@contoso.example?$select=jobTitle`,
      { token },
    );
    assert.equal((reseeded.body as { jobTitle: string }).jobTitle, "New joiner");
    agent.destroy();
    assert.equal((await cli(dir, "stop")).code, 0);
  });

  it("refuses bad options with usage (exit 2)", async () => {
    const res = await cli(dir, "start", "--faults", "429=3");
    assert.equal(res.code, 2);
    assert.match(res.out, /between 0 and 1/);
  });
});
