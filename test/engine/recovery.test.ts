/**
 * Recovery a user can follow (issue 16 item 2), on the real file backend of the pulumi CLI:
 * a 0-byte checkpoint metadata file (what a kill mid-write leaves) makes the backend fail with
 * "failed to load checkpoint: EOF"; `preview` then stops and names `recover`, which repairs it.
 * A stale lock of a dead process on this machine is removed; a lock from another machine is
 * kept until `--force`, with the instructions to confirm first; a running holder is never
 * touched. Plus the pure parts: the in-flight record, the transient-read retry.
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  checkpointFile,
  IN_FLIGHT_OUTPUT,
  inFlightFromPending,
  inFlightOf,
  retryBackendRead,
  withInFlight,
} from "../../src/engine/recovery.ts";
import { copyProject } from "../support/project.ts";

const run = promisify(execFile);
let dir: string;
const ENTRA = "pulumi-nodejs:dynamic/entra:User";

const env = () => {
  const e: Record<string, string | undefined> = { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" };
  delete e.D365_ACCESS_ROOT;
  delete e.PULUMI_BACKEND_URL;
  delete e.NODE_TEST_CONTEXT;
  return e;
};

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(path.join(dir, "bin", "d365-access"), args, {
      cwd: dir,
      env: env(),
    });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : 1,
      out: `${err.stdout ?? ""}${err.stderr ?? ""}`,
    };
  }
}

async function pulumi(args: string[]) {
  return run(path.join(dir, ".tools", "bin", "pulumi"), [...args, "--stack", "sandbox"], {
    cwd: dir,
    env: { ...env(), PULUMI_CONFIG_PASSPHRASE: "d365-access-sandbox" },
  });
}

const lockDir = () =>
  path.join(dir, ".pulumi-state", ".pulumi", "locks", "organization", "d365-access", "sandbox");
function writeLock(name: string, info: object): string {
  mkdirSync(lockDir(), { recursive: true });
  const file = path.join(lockDir(), `${name}.json`);
  writeFileSync(file, JSON.stringify(info));
  return file;
}
/** A pid that was alive a moment ago and is not any more. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "d365-recover-"));
  copyProject(dir, ["users.yaml", "schemas", "stacks"]);
  mkdirSync(path.join(dir, ".pulumi-state"));
  await pulumi(["stack", "init"]);
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("recover on the file backend", () => {
  it("repairs a 0-byte checkpoint metadata file after preview named it", async () => {
    const attrs = `${checkpointFile(path.join(dir, ".pulumi-state"), "sandbox")}.attrs`;
    assert.ok(existsSync(attrs));
    writeFileSync(attrs, "");
    await assert.rejects(pulumi(["stack", "export"]), /failed to load checkpoint: EOF/);
    const preview = await cli(["preview"]);
    assert.equal(preview.code, 1, preview.out);
    assert.match(preview.out, /sandbox\.json\.attrs is truncated/);
    assert.match(preview.out, /Run `d365-access recover --stack sandbox`/);
    const recover = await cli(["recover"]);
    assert.equal(recover.code, 0, recover.out);
    assert.match(recover.out, /repaired .*sandbox\.json\.attrs/);
    const exported = JSON.parse((await pulumi(["stack", "export"])).stdout) as { version: number };
    assert.equal(exported.version, 3);
    assert.match((await cli(["recover"])).out, /no interrupted run; nothing to recover/);
  });

  it("removes a lock whose process is gone, never one whose process runs", async () => {
    const stale = writeLock("stale", {
      pid: deadPid(),
      hostname: hostname(),
      timestamp: "2026-12-01T10:00:00Z",
    });
    const up = await cli(["up", "--yes"]);
    assert.equal(up.code, 1);
    assert.match(up.out, /an earlier run on this machine was interrupted .* that process is gone/);
    assert.match(up.out, /d365-access recover --stack sandbox/);
    const recover = await cli(["recover"]);
    assert.equal(recover.code, 0, recover.out);
    assert.match(recover.out, /removed the lock/);
    assert.equal(existsSync(stale), false);

    const live = writeLock("live", { pid: process.pid, hostname: hostname() });
    const refused = await cli(["recover"]);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /still running/);
    assert.ok(existsSync(live), "a running holder's lock is kept");
    rmSync(live);
  });

  it("counts a killed run's pulumi that nobody reaped (a zombie, as in CI containers) as gone", async () => {
    // `sleep 0` exits at once; its parent becomes `sleep 10` and never waits for it: a zombie.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 10"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const pid = Number(
        await new Promise<string>((resolve) => parent.stdout.once("data", (d) => resolve(String(d)))),
      );
      let state = "";
      for (let i = 0; i < 50 && state !== "Z"; i++) {
        await new Promise((r) => setTimeout(r, 20));
        state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] ?? "";
      }
      assert.equal(state, "Z", "the test's child is a zombie");
      const zombie = writeLock("zombie", { pid, hostname: hostname() });
      const recover = await cli(["recover"]);
      assert.equal(recover.code, 0, recover.out);
      assert.match(recover.out, /removed the lock/);
      assert.equal(existsSync(zombie), false);
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it("keeps another machine's lock until --force, saying how to confirm", async () => {
    const ci = writeLock("ci", { pid: 4242, hostname: "ci-runner-17", timestamp: "2026-12-01T10:00:00Z" });
    const refused = await cli(["recover"]);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /held by a run on another machine \(pid 4242 on ci-runner-17/);
    assert.match(refused.out, /To confirm: .*recover --stack sandbox --force/);
    assert.ok(existsSync(ci));
    const forced = await cli(["recover", "--force"]);
    assert.equal(forced.code, 0, forced.out);
    assert.equal(existsSync(ci), false);
  });
});

describe("the in-flight record", () => {
  it("keeps pending creates without an object id and every resource in flight, in the root outputs", () => {
    const deployment = {
      resources: [
        { urn: "urn:pulumi:s::d365-access::pulumi:pulumi:Stack::d365-access-s", type: "pulumi:pulumi:Stack" },
      ],
      pending_operations: [
        {
          type: "creating",
          resource: { urn: `urn:pulumi:s::d365-access::${ENTRA}::new@x.example`, type: ENTRA, inputs: {} },
        },
        {
          type: "creating",
          resource: {
            urn: `urn:pulumi:s::d365-access::${ENTRA}::old@x.example`,
            type: ENTRA,
            inputs: { objectId: "o" },
          },
        },
        {
          type: "updating",
          resource: { urn: "urn:pulumi:s::d365-access::pulumi-nodejs:dynamic/fno:User::old@x.example/prod" },
        },
      ],
    };
    const record = inFlightFromPending(deployment, ENTRA);
    assert.deepEqual(record, {
      creates: ["new@x.example"],
      resources: ["new@x.example", "old@x.example", "old@x.example/prod"],
    });
    const written = withInFlight(deployment, record, "s");
    assert.equal(written.pending_operations, undefined);
    assert.deepEqual(inFlightOf(written), record);
    // A stack without resources gets its root, so the record has a place.
    const fresh = withInFlight({ resources: [] }, { since: "2026-12-01T00:00:00Z" }, "s");
    assert.equal(fresh.resources?.[0]?.type, "pulumi:pulumi:Stack");
    assert.deepEqual(fresh.resources?.[0]?.outputs?.[IN_FLIGHT_OUTPUT], { since: "2026-12-01T00:00:00Z" });
  });

  it("retries the backend's transient read errors, and only those", async () => {
    let calls = 0;
    const value = await retryBackendRead(async () => {
      calls++;
      if (calls < 3) throw new Error("error: failed to load checkpoint: EOF");
      return "ok";
    });
    assert.equal(value, "ok");
    assert.equal(calls, 3);
    let other = 0;
    await assert.rejects(
      retryBackendRead(async () => {
        other++;
        throw new Error("stack not found");
      }),
      /stack not found/,
    );
    assert.equal(other, 1);
  });
});
