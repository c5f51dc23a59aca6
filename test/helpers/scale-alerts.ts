/**
 * Scale-out load: Alertmanager (webhook v4) deliveries of one alert each, posted to several ingress
 * processes with a bounded number in flight, every answer kept with the ingress that gave it.
 */

export interface Accepted {
  triggerId: string;
  duplicate: boolean;
  runs: string[];
}

export interface Delivery {
  /** Which ingress (index into the URLs) to post to. */
  ingress: number;
  alertname: string;
  /** Unique per alert: its fingerprint and its `n` label. */
  n: number;
}

export interface Answer extends Delivery {
  status: number;
  accepted: Accepted[];
  /** The body when the status is not 202. */
  error?: string;
}

/** One firing alert, as Alertmanager posts it. */
export function alertmanagerBody(alertname: string, n: number): string {
  return JSON.stringify({
    version: '4',
    status: 'firing',
    receiver: 'warden',
    alerts: [
      {
        status: 'firing',
        labels: { alertname, n: String(n), severity: 'page' },
        startsAt: '2026-11-24T00:00:00Z',
        fingerprint: `${alertname}-${n}`,
      },
    ],
  });
}

/**
 * Posts each group of deliveries (the members of a group at the same moment), `concurrency`
 * groups at a time, to `<url>/hooks/<tenant>/alertmanager` of the ingress each names.
 * @example
 * const answers = await postAlerts(urls, 'acme', token, [[{ ingress: 0, alertname: 'X', n: 1 }]]);
 */
export async function postAlerts(
  urls: readonly string[],
  tenant: string,
  token: string,
  groups: readonly Delivery[][],
  concurrency = 16,
): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  const post = async (d: Delivery): Promise<Answer> => {
    const res = await fetch(`${urls[d.ingress]}/hooks/${tenant}/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: alertmanagerBody(d.alertname, d.n),
    });
    const text = await res.text();
    if (res.status !== 202) return { ...d, status: res.status, accepted: [], error: text };
    return { ...d, status: res.status, accepted: (JSON.parse(text) as Answer).accepted };
  };
  const lane = async () => {
    while (next < groups.length) {
      const group = groups[next++] ?? [];
      answers.push(...(await Promise.all(group.map(post))));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return answers;
}

export interface LoadPlan {
  /** `ScaleLoad` alerts, alternating between two ingresses. */
  load: number;
  /** `ScaleBudget` alerts, spread evenly among the load ones (`load` must be a multiple). */
  budget: number;
  /** Every this many load alerts one is posted to both ingresses at the same moment. */
  twinEvery: number;
}

/**
 * The groups `postAlerts` sends: load alerts in order, a budget alert after every `load / budget`,
 * and twins (one alert, both ingresses) every `twinEvery`.
 * @example
 * loadPlan({ load: 4, budget: 2, twinEvery: 4 });
 * // [[L0→0, L0→1], [L1→1], [B0→0], [L2→0], [L3→1], [B1→1]]
 */
export function loadPlan(plan: LoadPlan): Delivery[][] {
  const groups: Delivery[][] = [];
  const perBudget = plan.load / plan.budget;
  for (let n = 0; n < plan.load; n++) {
    const alert = { alertname: 'ScaleLoad', n };
    groups.push(
      n % plan.twinEvery === 0
        ? [
            { ...alert, ingress: 0 },
            { ...alert, ingress: 1 },
          ]
        : [{ ...alert, ingress: n % 2 }],
    );
    if ((n + 1) % perBudget === 0) {
      const b = (n + 1) / perBudget - 1;
      groups.push([{ alertname: 'ScaleBudget', n: b, ingress: b % 2 }]);
    }
  }
  return groups;
}
