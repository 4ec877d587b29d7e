/**
 * The provider kit and the executor, with a fake resource: what every system's provider gets
 * the same way (unknown values in preview, `__provider` kept in partial failures, one-line
 * errors naming type, user and environment, what was done before a failure).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../../providers/core/errors.ts";
import { ExecutionError, execute } from "../../providers/core/operation.ts";
import {
  captureWarnings,
  defineProvider,
  errorLine,
  PartialFailure,
  PlanError,
  type ResourceSpec,
  UNKNOWN,
  warning,
} from "../../providers/core/provider.ts";
import { configureRuntime, resetRuntime } from "../../providers/core/runtime.ts";

interface In {
  name: string;
  env: string;
  size: number;
}
interface Out extends In {
  id: string;
}

type Op = { kind: "grow"; by: number } | { kind: "rename"; to: string };

function fake(over: Partial<ResourceSpec<In, Out>> = {}): ResourceSpec<In, Out> {
  return {
    type: "test:Thing",
    subject: (r) => ({ user: r.name, environment: r.env }),
    check: (news) => ({ inputs: news as unknown as In, failures: [] }),
    diff: (olds, news) => ({
      changes: olds.size !== news.size || olds.env !== news.env,
      replaces: olds.env !== news.env ? ["env"] : [],
    }),
    create: async (inputs) => ({ id: "1", outs: { ...inputs, id: "1" } }),
    read: async () => undefined,
    update: async (id, _olds, news) => ({ ...news, id }),
    delete: async () => undefined,
    ...over,
  };
}

const olds: Out = { name: "ada", env: "prod", size: 1, id: "1" };

function configured(): void {
  resetRuntime();
  configureRuntime(
    { get: (k) => ({ "d365-access:tenantId": "t" })[k] },
    { credential: { getToken: async () => null } },
  );
}

describe("defineProvider", () => {
  it("compares known values and counts unknown ones as changes in preview", async () => {
    const p = defineProvider(fake());
    assert.deepEqual(await p.diff("1", olds, { ...olds, size: 1 }), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const unknownSize = await p.diff("1", olds, { ...olds, size: UNKNOWN as unknown as number });
    assert.deepEqual(unknownSize, { changes: true, replaces: [], deleteBeforeReplace: false });
    const moved = await p.diff("1", olds, { ...olds, env: "test", size: UNKNOWN as unknown as number });
    assert.deepEqual(moved.replaces, ["env"], "a known identity change still replaces");
  });

  it("never shows the serialized provider to the spec", async () => {
    const seen: object[] = [];
    const p = defineProvider(
      fake({
        check: (news) => {
          seen.push(news);
          return { inputs: news as unknown as In, failures: [] };
        },
        diff: (o, n) => {
          seen.push(o, n);
          return { changes: false };
        },
      }),
    );
    await p.check({} as In, { ...olds, __provider: "x" } as unknown as In);
    await p.diff(
      "1",
      { ...olds, __provider: "x" } as unknown as Out,
      { ...olds, __provider: "x" } as unknown as In,
    );
    assert.equal(seen.length, 3);
    for (const record of seen) assert.equal("__provider" in record, false);
  });

  it("skips remote checks while inputs are unknown, and turns their answers into failures", async () => {
    configured();
    let calls = 0;
    const p = defineProvider(
      fake({
        validate: async () => {
          calls++;
          return [{ property: "size", reason: "too big" }];
        },
      }),
    );
    const unknown = await p.check({} as In, { ...olds, size: UNKNOWN } as unknown as In);
    assert.deepEqual([unknown.failures, calls], [[], 0]);
    const known = await p.check({} as In, olds);
    assert.deepEqual([known.failures, calls], [[{ property: "size", reason: "too big" }], 1]);
    const namesOnly = defineProvider(
      fake({
        validates: ["env"],
        validate: async () => [{ property: "env", reason: "unknown environment" }],
      }),
    );
    const unknownName = await namesOnly.check({} as In, { ...olds, name: UNKNOWN } as unknown as In);
    assert.deepEqual(
      unknownName.failures,
      [{ property: "env", reason: "unknown environment" }],
      "runs while only inputs it does not read are unknown",
    );
    const refused = defineProvider(
      fake({
        validate: async () => {
          throw new ApiError({ system: "svc", status: 503, message: "down" });
        },
      }),
    );
    assert.deepEqual((await refused.check({} as In, olds)).failures, [], "reported by the operation instead");
    resetRuntime();
  });

  it("throws one line naming type, user and environment, whose stack is that line", async () => {
    configured();
    const p = defineProvider(
      fake({
        create: async () => {
          throw new ApiError({ system: "svc", status: 403, code: "Denied", message: "no\nway", hint: "ask" });
        },
      }),
    );
    const e = await p.create(olds).then(
      () => assert.fail("must fail"),
      (err: Error) => err,
    );
    assert.equal(e.message, 'test:Thing ada in environment "prod": svc 403 Denied: no way. Hint: ask.');
    assert.equal(e.stack, e.message);
    resetRuntime();
  });

  it("keeps the id, the state reached and __provider of a partial failure, saying what is left", async () => {
    configured();
    const p = defineProvider(
      fake({
        update: async (id, _olds, news) => {
          const ops: Op[] = [
            { kind: "grow", by: 1 },
            { kind: "rename", to: "x" },
            { kind: "grow", by: 2 },
          ];
          try {
            await execute(
              ops,
              {
                grow: async () => undefined,
                rename: async () => {
                  throw new Error("refused");
                },
              },
              { describe: (op) => (op.kind === "grow" ? `grow by ${op.by}` : `rename to ${op.to}`) },
            );
          } catch (e) {
            throw new PartialFailure(id, { ...news, id, size: 2 }, e);
          }
          return { ...news, id };
        },
      }),
    );
    const e = (await p.update("1", olds, { ...olds, __provider: "shim" } as unknown as In).then(
      () => assert.fail("must fail"),
      (err: unknown) => err,
    )) as Error & { id: string; properties: Record<string, unknown>; reasons: string[] };
    assert.equal(e.id, "1");
    assert.equal(e.properties.size, 2);
    assert.equal(e.properties.__provider, "shim");
    assert.equal(
      e.message,
      'test:Thing ada in environment "prod": refused (1 of 3 operations done, stopped at rename to x)',
    );
    assert.deepEqual(e.reasons, [e.message]);
    resetRuntime();
  });

  it("answers an empty id when the object is gone", async () => {
    configured();
    assert.deepEqual(await defineProvider(fake()).read("1", olds), { id: "" });
    resetRuntime();
  });
});

describe("warning", () => {
  it("is one line naming type, user and environment, said once per process", () => {
    const captured = captureWarnings();
    try {
      warning("fno:User", { user: "a@contoso.example", environment: "prod" }, "left as it is\nsee why");
      warning("fno:User", { user: "a@contoso.example", environment: "prod" }, "left as it is\nsee why");
      warning("dataverse:User", { environment: "prod" }, "cannot read teams");
    } finally {
      captured.restore();
    }
    assert.deepEqual(captured.lines, [
      'warning: fno:User a@contoso.example in environment "prod": left as it is; see why',
      'warning: dataverse:User in environment "prod": cannot read teams',
    ]);
  });
});

describe("execute", () => {
  it("runs operations in order through their handlers and records what ran", async () => {
    const log: string[] = [];
    const done = await execute<Op>(
      [
        { kind: "grow", by: 1 },
        { kind: "rename", to: "b" },
      ],
      {
        grow: async (op) => void log.push(`grow ${op.by}`),
        rename: async (op) => void log.push(`rename ${op.to}`),
      },
      { before: (op) => log.push(`before ${op.kind}`) },
    );
    assert.deepEqual(log, ["before grow", "grow 1", "before rename", "rename b"]);
    assert.equal(done.length, 2);
  });

  it("stops at the first failure with the journal", async () => {
    const ops: Op[] = [
      { kind: "grow", by: 1 },
      { kind: "grow", by: 2 },
      { kind: "rename", to: "c" },
    ];
    const e = await execute(ops, {
      grow: async (op) => {
        if (op.by === 2) throw new PlanError(["first", "second"]);
      },
      rename: async () => assert.fail("not reached"),
    }).then(
      () => assert.fail("must fail"),
      (err: unknown) => err,
    );
    assert.ok(e instanceof ExecutionError);
    assert.deepEqual([e.done, e.failed, e.remaining], [[ops[0]], ops[1], [ops[2]]]);
    assert.equal(errorLine(e), "first; second (1 of 3 operations done, stopped at grow)");
  });
});
