/** The "policy-gated actions" claim: the built-in Cedar policies, the tenant's own, a real denial. */
import type { Knex } from 'knex';
import type { Claim, PackLink } from './claim.js';
import { receiptLabel } from './claim.js';
import { latestReceipts } from './latest-receipts.js';
import { type PackWriter, packageFile } from './pack-writer.js';

const builtins = [
  'baseline.cedar',
  'destructive.cedar',
  'dual-control.cedar',
  'warden.cedarschema',
];

export async function policyClaim(
  deps: { knex: Knex; writer: PackWriter },
  tenant: string,
  tenantPolicyFile: string | undefined,
): Promise<Claim> {
  const { knex, writer } = deps;
  const links: PackLink[] = [];
  for (const name of builtins) {
    const href = await writer.copy(
      packageFile(`src/guardrails/policies/${name}`),
      `policies/${name}`,
    );
    links.push({ href, label: `${name} (built-in)` });
  }
  if (tenantPolicyFile) {
    links.push({
      href: await writer.copy(tenantPolicyFile, 'policies/tenant-policies.cedar'),
      label: `the tenant's own policies`,
    });
  }
  const [denial] = await latestReceipts(knex, tenant, { kind: 'step.denied', limit: 1 });
  let summary =
    'Every step passes the kill switches, budgets and these Cedar policies before it runs; ' +
    'privileged steps are denied by default and need dual control.';
  if (denial) {
    const reasons = denial.payload.reasons;
    links.push({
      href: await writer.json('policies/denial-receipt.json', denial),
      label: `a real denial: ${receiptLabel(denial)}`,
    });
    summary += ` Latest denial: ${Array.isArray(reasons) ? reasons.join(', ') : 'see receipt'}.`;
  } else {
    summary += ' No step of this tenant has been denied yet, so there is no denial receipt yet.';
  }
  return { id: 'policy', title: 'Policy-gated actions', evidenced: true, summary, links };
}
