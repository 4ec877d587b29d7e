/**
 * The provider process ends when its engine is gone.
 *
 * The engine starts each provider host with the address of its own gRPC endpoint as the first
 * argument (`main(process.argv.slice(2))` in
 * https://github.com/pulumi/pulumi/blob/v3.259.0/sdk/nodejs/cmd/dynamic-provider/index.ts), each
 * in a process group of its own, and stops it when the run ends. When the engine is killed
 * instead (SIGKILL, an out-of-memory kill, a cancelled CI job), nothing stops the host: the
 * Node.js host never exits on its own, and the operation it was running carries on writing to
 * the systems after the run that asked for it is dead — racing with the `recover` and `up` that
 * follow. A killed run must look like a crash at that moment, which recovery handles; so the
 * provider process probes the engine's address and exits as soon as it refuses connections.
 */
import net from "node:net";

/** How the watch probes and what it does when the engine is gone (tests shorten them). */
export interface EngineWatchOptions {
  intervalMs?: number;
  /** Consecutive refused probes that mean "gone" (one could be a momentary refusal). */
  refusals?: number;
  onGone?: () => void;
}

/** `host:port` (IPv6 in brackets) of a plugin's engine argument, or undefined. */
export function engineAddress(arg: string | undefined): { host: string; port: number } | undefined {
  const match = /^\[?([0-9A-Za-z.:-]+?)\]?:(\d{1,5})$/.exec(arg ?? "");
  if (!match) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1] as string, port } : undefined;
}

/**
 * Probes `arg` (the engine's address) every `intervalMs` and calls `onGone` (default: exit 1)
 * after `refusals` refused connections in a row. Does nothing for an argument that is not an
 * address. The timer never keeps the process alive. Returns a function that stops the watch.
 */
export function watchEngine(arg: string | undefined, options: EngineWatchOptions = {}): () => void {
  const address = engineAddress(arg);
  if (!address) return () => {};
  const { intervalMs = 500, refusals = 2, onGone = () => process.exit(1) } = options;
  let refused = 0;
  let probing = false;
  const timer = setInterval(() => {
    if (probing) return;
    probing = true;
    const socket = net.connect(address);
    socket.setTimeout(intervalMs * 4);
    let settled = false;
    const settle = (gone: boolean | undefined) => {
      if (settled) return;
      settled = true;
      probing = false;
      socket.destroy();
      if (gone === undefined) return; // a slow answer says nothing
      refused = gone ? refused + 1 : 0;
      if (refused >= refusals) {
        clearInterval(timer);
        onGone();
      }
    };
    socket.once("connect", () => settle(false));
    socket.once("timeout", () => settle(undefined));
    socket.once("error", (e: NodeJS.ErrnoException) => settle(e.code === "ECONNREFUSED" ? true : undefined));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
