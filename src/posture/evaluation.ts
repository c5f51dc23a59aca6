/**
 * Evaluation kit content: a 30-day plan, the onboarding checklist with each item's real status in
 * this build, and the exit criteria. Statuses are facts about this build; update them when it changes.
 */

export type Status = 'built' | 'partial' | 'not built';

export interface ChecklistItem {
  task: string;
  status: Status;
  how: string;
}

export interface PlanWeek {
  week: number;
  theme: string;
  tasks: string[];
}

export const checklist: readonly ChecklistItem[] = [
  {
    task: 'Connect alerting (Alertmanager, Grafana, PagerDuty or a signed webhook)',
    status: 'built',
    how: 'POST to /hooks/<tenant>/<source> with an ingest token — docs/ingress.md.',
  },
  {
    task: 'Connect Slack or Teams for approvals and run threads',
    status: 'built',
    how: 'Slack app (Bolt) or Teams bot; web approvals page as fallback — docs/chat.md.',
  },
  {
    task: 'First playbook in simulate-only mode',
    status: 'partial',
    how:
      'Dry runs exist (`warden simulate`, `/playbook simulate`, POST …/simulate, all receipted); there is ' +
      'no per-playbook simulate-only switch: keep the playbook disabled (`warden playbook disable`) or ' +
      'gate it with a Cedar forbid while you simulate.',
  },
  {
    task: 'Single sign-on (OIDC) and user provisioning (SCIM)',
    status: 'not built',
    how: 'Not in this build: API access uses tenant tokens; approvers are verified chat identities.',
  },
  {
    task: 'Bring your own signing key (BYOK, optional)',
    status: 'built',
    how: 'WARDEN_SIGNING_KEY takes an Ed25519 PKCS#8 PEM; no KMS integration yet — docs/operations.md.',
  },
];

export const plan: readonly PlanWeek[] = [
  {
    week: 1,
    theme: 'Connect and observe',
    tasks: [
      'Install Warden, create the tenant and its tokens; connect alerting and chat.',
      'Import an MTTM baseline of recent incidents (`warden baseline import`).',
      'Load one playbook for a routine alert; simulate it against real events only.',
    ],
  },
  {
    week: 2,
    theme: 'Simulate and gate',
    tasks: [
      'Review simulations and guardrail decisions in the run threads.',
      'Write the tenant policies (Cedar) and budgets; confirm a denial produces a receipt.',
      'Receive the first weekly Trust Report; verify its evidence bundle offline.',
    ],
  },
  {
    week: 3,
    theme: 'Act with approvals',
    tasks: [
      'Enable the playbook with approvals for privileged steps (dual control).',
      'Add a second playbook; exercise the kill switch and a breaker auto-disable.',
      'Run a DR drill (`warden dr-drill`) and record RPO/RTO.',
    ],
  },
  {
    week: 4,
    theme: 'Measure and decide',
    tasks: [
      'Compare MTTM against the baseline; read coverage and failure rate in the Trust Reports.',
      'Regenerate this posture pack and check it (`MANIFEST.json`, verify scripts).',
      'Review the exit criteria with security and on-call leads.',
    ],
  },
];

export const exitCriteria: readonly string[] = [
  'Every success metric below meets its target for the last two weekly Trust Reports.',
  'Zero bypasses: no privileged action without dual control, every isolation check passed.',
  'An evidence bundle and this pack verify offline with the shipped scripts, by someone outside the team.',
  'A DR drill restored and verified the ledger within the agreed RPO/RTO.',
  'On-call engineers approved from chat without leaving the incident thread.',
];
