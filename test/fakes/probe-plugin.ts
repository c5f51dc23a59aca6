/**
 * A probe plugin for guardrail tests: its steps declare the targets, cost and risk they are given,
 * record each execution, and can be held at a gate (to act between two steps of a running run).
 */
import { definePlugin, defineStep, z } from '../../src/sdk/index.js';

export interface ProbeCall {
  step: 'look' | 'touch' | 'destroy';
  label: string;
  key: string;
}

const input = z.object({
  label: z.string().max(64),
  targets: z.array(z.string().max(64)).max(20).default([]),
  cost: z.coerce.number().min(0).default(0),
  /** `yes`: the execution fails (after being recorded). */
  fail: z.enum(['yes', 'no']).default('no'),
  /** Wait at the gate named so before executing. */
  gate: z.string().max(64).optional(),
});

export function createProbe() {
  const calls: ProbeCall[] = [];
  const gates = new Map<
    string,
    { reached: Promise<void>; open(): void; arrive(): void; opened: Promise<void> }
  >();
  const gate = (name: string) => {
    let g = gates.get(name);
    if (!g) {
      let arrive = () => {};
      let open = () => {};
      const reached = new Promise<void>((r) => {
        arrive = r;
      });
      const opened = new Promise<void>((r) => {
        open = r;
      });
      g = { reached, opened, arrive, open };
      gates.set(name, g);
    }
    return g;
  };
  const step = (name: ProbeCall['step'], risk: 'read' | 'write' | 'destructive') =>
    defineStep({
      description: `Probe: records a ${risk} execution`,
      input,
      risk,
      reversible: false,
      targets: (i) => i.targets,
      cost: (i) => i.cost,
      simulate: (_ctx, i) => ({ summary: `${name} ${i.label}` }),
      async execute(ctx, i) {
        if (i.gate) {
          const g = gate(i.gate);
          g.arrive();
          await g.opened;
        }
        calls.push({ step: name, label: i.label, key: ctx.idempotencyKey });
        if (i.fail === 'yes') throw new Error(`probe ${i.label} failed as asked`);
        return { done: i.label };
      },
    });
  const plugin = definePlugin({
    name: 'probe',
    version: '1.0.0',
    description: 'Test probe',
    steps: {
      look: step('look', 'read'),
      touch: step('touch', 'write'),
      destroy: step('destroy', 'destructive'),
    },
  });
  return {
    plugin,
    calls,
    /** Resolves when a step reaches the gate. */
    reached: (name: string) => gate(name).reached,
    open: (name: string) => gate(name).open(),
  };
}
