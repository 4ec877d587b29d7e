/**
 * A provider process stops when its engine is gone (providers/core/engine.ts): it probes the
 * engine's address and gives up after refused connections, never while the engine answers.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import { engineAddress, watchEngine } from "../../providers/core/engine.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("engine watch", () => {
  it("reads the engine argument the host is started with, and nothing else", () => {
    assert.deepEqual(engineAddress("127.0.0.1:33367"), { host: "127.0.0.1", port: 33367 });
    assert.deepEqual(engineAddress("[::1]:4000"), { host: "::1", port: 4000 });
    for (const arg of [undefined, "", "up", "--yes", "127.0.0.1", "127.0.0.1:0", "host:99999"])
      assert.equal(engineAddress(arg), undefined, String(arg));
  });

  it("keeps the process while the engine answers, and ends it once the engine refuses", async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    let gone = 0;
    const stop = watchEngine(`127.0.0.1:${port}`, { intervalMs: 20, onGone: () => gone++ });
    try {
      await sleep(300);
      assert.equal(gone, 0, "an answering engine is not gone");
      await new Promise((resolve) => server.close(resolve));
      for (let i = 0; i < 100 && gone === 0; i++) await sleep(20);
      assert.equal(gone, 1, "a refusing engine is gone, once");
      await sleep(100);
      assert.equal(gone, 1, "the watch stops after it fired");
    } finally {
      stop();
    }
  });

  it("does nothing for a process not started by an engine", async () => {
    let gone = 0;
    const stop = watchEngine("up", { intervalMs: 10, onGone: () => gone++ });
    await sleep(100);
    stop();
    assert.equal(gone, 0);
  });
});
