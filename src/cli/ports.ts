/**
 * Ports the sandbox needs: which are taken, and by whom. On Linux the listening socket's owner
 * is found from `/proc/net/tcp{,6}` (local port → socket inode) and `/proc/<pid>/fd` (inode →
 * process), with its command line and working directory, so a clash with another checkout's
 * sandbox says which checkout (proc(5), https://man7.org/linux/man-pages/man5/proc.5.html).
 * Elsewhere, or for another user's process, only the port is named.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";

/** Whether something already listens on `port` (of 127.0.0.1). */
export function isBusy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) =>
      resolve(e.code === "EADDRINUSE" || e.code === "EACCES"),
    );
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** The process that listens on a port: its pid, command line and working directory, as far as readable. */
export interface PortHolder {
  pid: number;
  command: string | undefined;
  cwd: string | undefined;
}

/** Inodes of the sockets listening on `port` (state 0A = LISTEN). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const row of text.split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== "0A") continue;
      if (Number.parseInt(local.split(":")[1] ?? "", 16) === port && cols[9]) inodes.add(cols[9]);
    }
  }
  return inodes;
}

/** Who listens on `port`, when /proc tells. */
export function portHolder(port: number): PortHolder | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    const holds = fds.some((fd) => {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        return inodes.has(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? "");
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    const read = (f: () => string) => {
      try {
        return f();
      } catch {
        return undefined;
      }
    };
    return {
      pid: Number(pid),
      command: read(() => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ")),
      cwd: read(() => readlinkSync(`/proc/${pid}/cwd`)),
    };
  }
  return undefined;
}

/** One line per busy port among `ports` (name → port): who holds it and what to do. */
export async function busyPorts(ports: Record<string, number>): Promise<string[]> {
  const lines: string[] = [];
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isBusy(port))) continue;
    const holder = portHolder(port);
    const who = holder
      ? `pid ${holder.pid}${holder.command ? ` (${holder.command})` : ""}${holder.cwd ? ` in ${holder.cwd}` : ""}`
      : "another process";
    lines.push(`port ${port} (${name}) is in use by ${who}`);
  }
  return lines;
}
