import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWardenError, type WardenError } from '../errors.js';
import { plugins } from '../plugins/index.js';
import { validatePlugins } from '../plugins/registry.js';
import {
  createPolicyEngine,
  loadTenantPolicies,
  type PolicyEngine,
  type PolicyRequest,
} from './policy.js';

const actions = ['kubernetes.scale', 'kubernetes.rolloutRestart', 'http.request', 'chat.notify'];

/** A step request: a playbook scaling one deployment in staging, on a pro tenant. */
function request(overrides: Partial<PolicyRequest> = {}): PolicyRequest {
  return {
    tenant: 'acme',
    tier: 'pro',
    principal: { type: 'Playbook', id: 'restart-ingest' },
    action: 'kubernetes.scale',
    targets: ['deployment/ingest'],
    environment: 'staging',
    risk: 'write',
    reversible: true,
    approvals: 0,
    ...overrides,
  };
}

/** An engine with these tenant policy files (tenant id → Cedar text). */
function engineWith(files: Record<string, string> = {}): PolicyEngine {
  const tenantPolicies = new Map(
    Object.entries(files).map(([tenant, text]) => [
      tenant,
      { file: `/etc/warden/${tenant}.cedar`, text },
    ]),
  );
  return createPolicyEngine({ actions, tenantPolicies });
}

/** Runs `fn`, expecting it to throw a WardenError, and returns that error. */
async function thrownBy(fn: () => unknown): Promise<WardenError> {
  try {
    await fn();
  } catch (err) {
    if (isWardenError(err)) return err;
    throw err;
  }
  throw new Error('expected a WardenError, nothing was thrown');
}

describe('createPolicyEngine: built-in policies', () => {
  const engine = engineWith();

  it('allows read and write steps', () => {
    expect(engine.decide(request({ risk: 'read' }))).toEqual({
      outcome: 'allow',
      reasons: ['policy:baseline-permit'],
    });
    expect(engine.decide(request({ risk: 'write', environment: 'production' })).outcome).toBe(
      'allow',
    );
  });

  it('requires one approval for a destructive step, and allows it once given', () => {
    expect(engine.decide(request({ risk: 'destructive' }))).toEqual({
      outcome: 'approval_required',
      reasons: ['policy:destructive-needs-approval'],
      minApprovals: 1,
    });
    expect(engine.decide(request({ risk: 'destructive', approvals: 1 })).outcome).toBe('allow');
  });

  it('requires two approvals for a destructive step in production (dual control)', () => {
    const prod = request({ risk: 'destructive', environment: 'production' });
    expect(engine.decide(prod)).toEqual({
      outcome: 'approval_required',
      reasons: ['policy:destructive-needs-approval', 'policy:privileged-dual-control'],
      minApprovals: 2,
    });
    expect(engine.decide({ ...prod, approvals: 1 })).toEqual({
      outcome: 'approval_required',
      reasons: ['policy:privileged-dual-control'],
      minApprovals: 2,
    });
    expect(engine.decide({ ...prod, approvals: 2 }).outcome).toBe('allow');
  });

  it('decides the same for operators and chat users as for playbooks', () => {
    for (const type of ['Operator', 'ChatUser'] as const) {
      const asked = request({ principal: { type, id: 'alice' }, risk: 'destructive' });
      expect(engine.decide(asked).minApprovals).toBe(1);
    }
  });

  it('denies a step that is not in the catalog', () => {
    expect(engine.decide(request({ action: 'kubernetes.delete-namespace' }))).toEqual({
      outcome: 'deny',
      reasons: ['policy:unknown-action'],
    });
  });

  it('validates against every step of the plugin catalog', () => {
    const catalog = [...validatePlugins(plugins).keys()];
    const real = createPolicyEngine({ actions: catalog });
    for (const action of catalog) expect(real.decide(request({ action })).outcome).toBe('allow');
  });
});

describe('createPolicyEngine: targets', () => {
  const engine = engineWith({
    acme: `@id("no-prod-db") forbid (principal, action, resource == Warden::Target::"statefulset/db");`,
  });

  it('returns the strictest outcome over the targets', () => {
    const targets = ['deployment/api', 'statefulset/db'];
    expect(engine.decide(request({ targets }))).toEqual({
      outcome: 'deny',
      reasons: ['policy:no-prod-db'],
    });
    expect(engine.decide(request({ targets, risk: 'destructive' }))).toEqual({
      outcome: 'deny',
      reasons: ['policy:destructive-needs-approval', 'policy:no-prod-db'],
    });
  });

  it('evaluates every target when a condition looks at which target it is', () => {
    const named = engineWith({
      acme: `@id("db-frozen") forbid (principal, action, resource)
        when { [Warden::Target::"statefulset/db", Warden::Target::"statefulset/mq"].contains(resource) };`,
    });
    const decision = named.decide(request({ targets: ['deployment/api', 'statefulset/mq'] }));
    expect(decision).toEqual({ outcome: 'deny', reasons: ['policy:db-frozen'] });
  });

  it('matches targets by pattern on resource.name', () => {
    const pattern = engineWith({
      acme: `@id("prod-namespace-frozen") forbid (principal, action, resource)
        when { resource.name like "deployment/prod/*" };`,
    });
    const targets = ['deployment/staging/api', 'deployment/prod/db'];
    expect(pattern.decide(request({ targets }))).toEqual({
      outcome: 'deny',
      reasons: ['policy:prod-namespace-frozen'],
    });
    expect(pattern.decide(request({ targets: targets.slice(0, 1) })).outcome).toBe('allow');
  });

  it('merges approvals over the targets: the largest count wins', () => {
    const tiered = engineWith({
      acme: `@id("many-targets") @approval("3")
        forbid (principal, action, resource == Warden::Target::"deployment/b")
        when { context.targetCount > 1 } unless { context.approvals >= 3 };`,
    });
    const decision = tiered.decide(
      request({ risk: 'destructive', targets: ['deployment/a', 'deployment/b'] }),
    );
    expect(decision).toEqual({
      outcome: 'approval_required',
      reasons: ['policy:destructive-needs-approval', 'policy:many-targets'],
      minApprovals: 3,
    });
  });

  it('evaluates a step without targets once, against Target::"*"', () => {
    const star = engineWith({
      acme: `@id("no-untargeted") forbid (principal, action, resource == Warden::Target::"*")
        when { context.targetCount == 0 };`,
    });
    expect(star.decide(request({ targets: [] }))).toEqual({
      outcome: 'deny',
      reasons: ['policy:no-untargeted'],
    });
    expect(star.decide(request({ targets: ['deployment/api'] })).outcome).toBe('allow');
  });
});

describe('createPolicyEngine: tenant policies', () => {
  const engine = engineWith({
    acme: `
      @id("no-prod-scale")
      forbid (principal, action == Warden::Action::"kubernetes.scale", resource)
      when { resource.environment == "production" };

      @id("restart-two-approvers") @approval("2")
      forbid (principal, action == Warden::Action::"kubernetes.rolloutRestart", resource)
      unless { context.approvals >= 2 };
    `,
    globex: `
      @id("free-tier-read-only")
      forbid (principal, action, resource)
      when { resource.tier == "free" && context.risk != "read" && context.risk != "none" };
    `,
  });

  it('denies with the id of a plain forbid', () => {
    expect(engine.decide(request({ environment: 'production' }))).toEqual({
      outcome: 'deny',
      reasons: ['policy:no-prod-scale'],
    });
    expect(engine.decide(request({ environment: 'staging' })).outcome).toBe('allow');
  });

  it('denies, not asks for approval, when a plain forbid fires beside an @approval one', () => {
    const decision = engine.decide(request({ environment: 'production', risk: 'destructive' }));
    expect(decision.outcome).toBe('deny');
    expect(decision.reasons).toContain('policy:no-prod-scale');
    expect(decision.minApprovals).toBeUndefined();
  });

  it('asks for the approvals a tenant @approval forbid names', () => {
    const restart = request({ action: 'kubernetes.rolloutRestart', reversible: false });
    expect(engine.decide(restart)).toEqual({
      outcome: 'approval_required',
      reasons: ['policy:restart-two-approvers'],
      minApprovals: 2,
    });
    expect(engine.decide({ ...restart, approvals: 2 }).outcome).toBe('allow');
  });

  it("applies one tenant's policies to that tenant only", () => {
    expect(engine.decide(request({ tenant: 'globex', environment: 'production' })).outcome).toBe(
      'allow',
    );
    expect(engine.decide(request({ tenant: 'acme', tier: 'free' })).outcome).toBe('allow');
    expect(engine.decide(request({ tenant: 'initech', environment: 'production' })).outcome).toBe(
      'allow',
    );
  });

  it('exposes the tenant tier to policies', () => {
    expect(engine.decide(request({ tenant: 'globex', tier: 'free' }))).toEqual({
      outcome: 'deny',
      reasons: ['policy:free-tier-read-only'],
    });
    expect(engine.decide(request({ tenant: 'globex', tier: 'free', risk: 'read' })).outcome).toBe(
      'allow',
    );
    expect(engine.decide(request({ tenant: 'globex', tier: 'pro' })).outcome).toBe('allow');
  });

  it('denies when a policy fails to evaluate, though Cedar alone would allow', () => {
    const overflowing = engineWith({
      acme: `@id("big-blast") forbid (principal, action, resource)
             when { context.targetCount * 4611686018427387904 > 10 };`,
    });
    expect(overflowing.decide(request({ targets: ['a', 'b'] }))).toEqual({
      outcome: 'deny',
      reasons: ['policy:error'],
    });
    expect(overflowing.decide(request({ targets: [] })).outcome).toBe('allow');
  });

  it('names a policy without @id by its file and position', () => {
    const unnamed = engineWith({
      acme: `permit (principal, action, resource);
             forbid (principal, action, resource) when { context.reversible == false };`,
    });
    expect(unnamed.decide(request({ reversible: false }))).toEqual({
      outcome: 'deny',
      reasons: ['policy:acme.cedar#1'],
    });
  });
});

describe('createPolicyEngine: invalid policies', () => {
  async function problemsOf(files: Record<string, string>): Promise<string> {
    const err = await thrownBy(() => engineWith(files));
    expect(err.code).toBe('config_invalid');
    return err.message;
  }

  it('rejects a syntax error, naming file, line and column', async () => {
    const message = await problemsOf({
      acme: '// scaling — Cedar counts bytes\nforbid (principal, action, resource) when { context.risk == };',
    });
    expect(message).toMatch(/tenant acme: \/etc\/warden\/acme\.cedar:2:61: unexpected token/);
  });

  it('rejects an attribute the schema does not declare', async () => {
    const message = await problemsOf({
      acme: '@id("typo") forbid (principal, action, resource) when { context.nope == 1 };',
    });
    expect(message).toContain('/etc/warden/acme.cedar:1:57: policy "typo": attribute `nope`');
  });

  it('rejects an action that is not a plugin step', async () => {
    const message = await problemsOf({
      acme: 'forbid (principal, action == Warden::Action::"kubernetes.delete", resource);',
    });
    expect(message).toContain(
      '/etc/warden/acme.cedar:1:30: policy "acme.cedar#0": unrecognized action',
    );
  });

  it('rejects an @id used twice, with a built-in or in the same file', async () => {
    const message = await problemsOf({
      acme: '@id("baseline-permit") permit (principal, action, resource);',
      globex:
        '@id("x") permit (principal, action, resource);\n@id("x") forbid (principal, action, resource);',
    });
    expect(message).toMatch(
      /acme\.cedar:1:1: @id\("baseline-permit"\) is also used at .*baseline\.cedar/,
    );
    expect(message).toContain(
      'globex.cedar:2:1: @id("x") is also used at /etc/warden/globex.cedar:1:1',
    );
  });

  it('rejects an @approval that is not a count, on a permit, or that approvals cannot lift', async () => {
    const message = await problemsOf({
      acme: [
        '@approval("two") forbid (principal, action, resource) unless { context.approvals >= 2 };',
        '@approval("1") permit (principal, action, resource);',
        '@approval("2") forbid (principal, action, resource) when { context.risk == "write" };',
      ].join('\n'),
    });
    expect(message).toContain('acme.cedar:1:1: policy "acme.cedar#0": @approval needs a number');
    expect(message).toContain('acme.cedar:2:1: policy "acme.cedar#1": @approval applies to forbid');
    expect(message).toContain(
      'acme.cedar:3:1: policy "acme.cedar#2": @approval("2") needs a condition',
    );
  });

  it('lists every problem of every tenant in one error', async () => {
    const message = await problemsOf({
      acme: 'permit (',
      globex: 'forbid (principal, action, resource) when { context.nope };',
    });
    expect(message).toMatch(/2 problem\(s\)/);
    expect(message).toContain('tenant acme: /etc/warden/acme.cedar');
    expect(message).toContain('tenant globex: /etc/warden/globex.cedar');
  });
});

describe('loadTenantPolicies', () => {
  it('reads the policies file of each tenant that names one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-policy-'));
    const file = join(dir, 'acme.cedar');
    writeFileSync(file, 'permit (principal, action, resource);\n');
    const loaded = await loadTenantPolicies([{ id: 'acme', policies: file }, { id: 'globex' }]);
    expect([...loaded]).toEqual([
      ['acme', { file, text: 'permit (principal, action, resource);\n' }],
    ]);
  });

  it('rejects a missing file, naming tenant and path', async () => {
    const file = join(tmpdir(), 'warden-policy-missing', 'acme.cedar');
    const err = await thrownBy(() => loadTenantPolicies([{ id: 'acme', policies: file }]));
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain(`tenant acme: cannot read its policies file ${file} (ENOENT)`);
  });
});
