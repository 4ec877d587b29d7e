/**
 * Helpers for the sandbox contract tests: a sandbox on ephemeral ports in a temp dir, tokens from
 * the unmodified `@azure/identity` ClientSecretCredential (authorityHost +
 * disableInstanceDiscovery, the sandbox CA trusted through an explicit https agent — TLS checks
 * stay on), and a small HTTPS `call()`.
 */
import { Agent, request as httpsRequest } from "node:https";
import { createDefaultHttpClient, type HttpClient, type PipelineRequest } from "@azure/core-rest-pipeline";
import { ClientSecretCredential } from "@azure/identity";
import { NO_PERMISSIONS_APP_ID, NO_PERMISSIONS_APP_SECRET } from "../../sandbox/core/tenant.ts";
import { type RunningSandbox, type StartSandboxOptions, startSandbox } from "../../sandbox/index.ts";

/** Which app signs in: the demo app (default), the no-permissions app, or explicit credentials. */
export type TestApp = "demo" | "noPermissions" | { clientId: string; clientSecret: string };

/** A started sandbox plus token and CA helpers. */
export interface TestSandbox {
  sandbox: RunningSandbox;
  endpoints: RunningSandbox["endpoints"];
  caCert: string;
  /** An https agent trusting only the sandbox CA (keep-alive). */
  agent: Agent;
  /** An `@azure/core-rest-pipeline` HttpClient using `agent`. */
  httpClient: HttpClient;
  /** A credential for `app`, configured as a user would against the sandbox. */
  credential(app?: TestApp): ClientSecretCredential;
  /** An access token for `scope` (e.g. `${graphUrl}/.default`). */
  token(scope: string, app?: TestApp): Promise<string>;
  /** Mints a token through the admin API (for expired / wrong-audience cases). */
  mintToken(input: {
    appId?: string;
    audience: string;
    expiresInSeconds?: number;
    notBeforeSeconds?: number;
  }): Promise<string>;
  /** `call()` bound to this sandbox's CA. */
  call(url: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

/** Options of `call`. */
export interface CallOptions {
  method?: string;
  token?: string;
  /** An object is sent as JSON; a string as-is. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** What `call` returns: the body parsed as JSON when it is JSON, else the text. */
export interface CallResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

/** Makes one HTTPS request trusting `agent`'s CA. */
export function call(agent: Agent, url: string, options: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  let payload: string | undefined;
  if (options.body !== undefined) {
    payload = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
      headers["content-type"] = "application/json";
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: options.method ?? "GET", headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        if (/json/i.test(res.headers["content-type"] ?? "") && text !== "") body = JSON.parse(text);
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
        resolve({ status: res.statusCode ?? 0, headers: flat, body, text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Starts a sandbox for one test file (ephemeral ports, temp state dir unless given). */
export async function startTestSandbox(options: StartSandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await startSandbox({ log: () => undefined, ...options });
  const agent = new Agent({ ca: sandbox.caCert, keepAlive: true });
  const base = createDefaultHttpClient();
  const httpClient: HttpClient = {
    sendRequest(request: PipelineRequest) {
      request.agent = agent;
      return base.sendRequest(request);
    },
  };
  const credential = (app: TestApp = "demo") => {
    const { clientId, clientSecret } =
      app === "demo"
        ? sandbox.endpoints
        : app === "noPermissions"
          ? { clientId: NO_PERMISSIONS_APP_ID, clientSecret: NO_PERMISSIONS_APP_SECRET }
          : app;
    return new ClientSecretCredential(sandbox.endpoints.tenantId, clientId, clientSecret, {
      authorityHost: sandbox.endpoints.authorityHost,
      disableInstanceDiscovery: true,
      httpClient,
    });
  };
  const tokens = new Map<string, Promise<string>>();
  return {
    sandbox,
    endpoints: sandbox.endpoints,
    caCert: sandbox.caCert,
    agent,
    httpClient,
    credential,
    token(scope, app = "demo") {
      const key = `${typeof app === "string" ? app : app.clientId}|${scope}`;
      let pending = tokens.get(key);
      if (!pending) {
        pending = credential(app)
          .getToken(scope)
          .then((t) => t.token);
        tokens.set(key, pending);
        pending.catch(() => tokens.delete(key));
      }
      return pending;
    },
    async mintToken(input) {
      const res = await call(agent, `${sandbox.endpoints.adminUrl}/tokens`, {
        method: "POST",
        body: { appId: input.appId ?? sandbox.endpoints.clientId, ...input },
      });
      if (res.status !== 200) throw new Error(`mint failed: ${res.text}`);
      return (res.body as { access_token: string }).access_token;
    },
    call: (url, options) => call(agent, url, options),
    async close() {
      agent.destroy();
      await sandbox.close();
    },
  };
}
