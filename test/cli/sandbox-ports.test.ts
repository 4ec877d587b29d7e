/**
 * Issue 17 item 4: `sandbox start --port-base N` is remembered next to the state (the next start
 * without it uses N), and a port already taken is named with the process holding it (pid,
 * command line, working directory: which checkout) before anything is started.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
// Ranges of their own (issue 17 brief: 48600..), away from the default 47300.
const REMEMBERED = 48660;
const CLASH = 48700;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, "sandbox", ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sandbox-ports-test-"));
});
after(async () => {
  await cli("stop", "--state-dir", join(dir, "a"));
  await rm(dir, { recursive: true, force: true });
});

test("--port-base is remembered: the next start without it listens there again", async () => {
  const state = join(dir, "a");
  const first = await cli("start", "--state-dir", state, "--port-base", String(REMEMBERED));
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await readFile(join(state, "port-base"), "utf8")).trim(), String(REMEMBERED));
  assert.equal((await cli("stop", "--state-dir", state)).code, 0);

  const again = await cli("start", "--state-dir", state);
  assert.equal(again.code, 0, again.stderr);
  const endpoints = JSON.parse(await readFile(join(state, "endpoints.json"), "utf8")) as Record<
    string,
    string
  >;
  assert.equal(endpoints.adminUrl, `https://127.0.0.1:${REMEMBERED}`);
  assert.equal(endpoints.graphUrl, `https://127.0.0.1:${REMEMBERED + 2}`);
  assert.equal((await cli("stop", "--state-dir", state)).code, 0);
});

test("a busy port names the process and checkout holding it, and nothing starts", async () => {
  // This test process holds the Graph port (N+2), as another checkout's sandbox would.
  const holder: Server = createServer();
  await new Promise<void>((done) => holder.listen(CLASH + 2, "127.0.0.1", done));
  try {
    const state = join(dir, "b");
    const run = await cli("start", "--state-dir", state, "--port-base", String(CLASH));
    assert.equal(run.code, 1, run.stdout);
    const line = run.stderr.trimEnd();
    assert.ok(!line.includes("\n"), `more than one line:\n${run.stderr}`);
    assert.ok(
      line.startsWith(
        `sandbox: cannot start: port ${CLASH + 2} (graph) is in use by pid ${process.pid} (${process.execPath} `,
      ),
      line,
    );
    assert.ok(line.includes(` in ${process.cwd()}. Stop that sandbox`), line);
    assert.match(line, /choose other ports with --port-base N/);
    await assert.rejects(readFile(join(state, "sandbox.pid"), "utf8"), "a sandbox was started");
  } finally {
    await new Promise((done) => holder.close(done));
  }
});
