/**
 * Credentials other than a client secret, against the sandbox's Entra token endpoint:
 * workload identity (a federated token file) and GitHub OIDC (the job's token service),
 * both exchanging an OIDC token from the sandbox's test issuer as a client assertion.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { createCredential, retryingUnanswered } from "../../providers/core/credentials.ts";
import { startTestSandbox, type TestSandbox } from "../sandbox/helpers.ts";

/** The demo app's federated credential in the sandbox seed (sandbox/entra/seed.ts). */
const SUBJECT = "repo:contoso/d365-access:environment:sandbox";
const EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

let sb: TestSandbox;
let dir: string;
before(async () => {
  sb = await startTestSandbox();
  dir = mkdtempSync(path.join(tmpdir(), "d365-credentials-"));
});
after(async () => {
  await sb?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function oidcToken(subject: string): Promise<string> {
  const res = await sb.call(`${sb.endpoints.adminUrl}/oidc/token`, {
    method: "POST",
    body: { subject, audience: EXCHANGE_AUDIENCE },
  });
  assert.equal(res.status, 200, res.text);
  return (
    (res.body as { access_token?: string; token?: string }).access_token ??
    (res.body as { token: string }).token
  );
}

function settings(extra: Record<string, string>) {
  return {
    tenantId: sb.endpoints.tenantId,
    clientId: sb.endpoints.clientId,
    authorityHost: sb.endpoints.authorityHost,
    disableInstanceDiscovery: true,
    caCert: sb.caCert,
    ...extra,
  };
}

/** The access token's audience, and that Graph accepts it. */
async function graphAccepts(token: string): Promise<void> {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
    aud: string;
  };
  assert.equal(payload.aud, sb.endpoints.graphUrl);
  const res = await sb.call(`${sb.endpoints.graphUrl}/v1.0/subscribedSkus`, { token });
  assert.equal(res.status, 200, res.text);
}

test("workload identity: a federated token file is exchanged for a Graph token", async () => {
  const file = path.join(dir, "federated-token");
  writeFileSync(file, await oidcToken(SUBJECT));
  const credential = createCredential(
    { ...settings({}), kind: "workloadIdentity", federatedTokenFile: file },
    {},
  );
  const token = await credential.getToken(`${sb.endpoints.graphUrl}/.default`);
  assert.ok(token);
  await graphAccepts(token.token);
});

test("workload identity: a token for another subject is refused by Entra", async () => {
  const file = path.join(dir, "wrong-subject");
  writeFileSync(file, await oidcToken("repo:someone/else:ref:refs/heads/main"));
  const credential = createCredential(
    { ...settings({}), kind: "workloadIdentity", federatedTokenFile: file },
    {},
  );
  await assert.rejects(credential.getToken(`${sb.endpoints.graphUrl}/.default`), /AADSTS\d+/);
});

test("GitHub OIDC: the job's token service is asked for an Entra-audience token, then exchanged", async () => {
  const seen: { auth?: string; audience?: string | null } = {};
  const token = await oidcToken(SUBJECT);
  // Stands in for GitHub's ACTIONS_ID_TOKEN_REQUEST_URL service (loopback only).
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    seen.auth = req.headers.authorization;
    seen.audience = url.searchParams.get("audience");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ value: token }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "job-request-token",
    };
    // auto picks GitHub OIDC when the job's token service is there and no secret is configured
    const credential = createCredential(settings({}), env);
    const access = await credential.getToken(`${sb.endpoints.graphUrl}/.default`);
    assert.ok(access);
    await graphAccepts(access.token);
    assert.equal(seen.auth, "bearer job-request-token");
    assert.equal(seen.audience, EXCHANGE_AUDIENCE);
  } finally {
    server.close();
  }
});

test("a sign-in the authority did not answer is tried again, a refused one is not", async () => {
  const failing = (message: string, failures: number) => {
    let calls = 0;
    return {
      get calls() {
        return calls;
      },
      async getToken() {
        calls++;
        if (calls <= failures) throw Object.assign(new Error(message), { name: "AuthenticationError" });
        return { token: "t", expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
  };
  const unanswered = "endpoints_resolution_error: Error: could not resolve endpoints (503)";
  const twice = failing(unanswered, 2);
  assert.equal((await retryingUnanswered(twice).getToken("s"))?.token, "t");
  assert.equal(twice.calls, 3);
  const always = failing(unanswered, 99);
  await assert.rejects(retryingUnanswered(always).getToken("s"), /endpoints_resolution_error/);
  assert.equal(always.calls, 3, "three tries in all");
  const refused = failing("AADSTS7000215: Invalid client secret provided.", 99);
  await assert.rejects(retryingUnanswered(refused).getToken("s"), /AADSTS7000215/);
  assert.equal(refused.calls, 1, "a refused credential is not tried again");
});
