/**
 * Cross-tenant cases: one row per thing tenant B may try on tenant A's ids, over every route the
 * app registers — the `/api/v1` routes, the hooks, the dashboard pages, secure links, the static
 * approval pages and the chat routes (Slack commands and clicks, Teams commands and clicks). A new
 * route needs a row here: the suite compares this list with the app's routes.
 */

/** What a request answered, and the text of the request (what B itself sent may come back). */
export interface Answer {
  status: number;
  /** Everything B got back: the body (files decoded), and what chat posted because of it. */
  text: string;
  request: string;
  /** The redirect's target, if any. */
  location?: string | null;
}

/** A's ids and state as the cases need them. */
export interface TenantA {
  id: string;
  runs: { done: string; waiting: string };
  ticket: string;
  receipt: string;
  report: string;
  link: { id: string; token: string };
  playbooks: { done: string; waiting: string; disabled: string };
  checkpointSize: number;
}

export interface CrossTenantContext {
  a: TenantA;
  /** B's own ids: a report link, B's playbook. */
  b: { id: string; link: { id: string; token: string }; playbook: string; week: string };
  /** An API call with B's token (`read` or `admin`). */
  api(who: 'read' | 'admin', method: string, path: string, body?: unknown): Promise<Answer>;
  /** A dashboard request in B's session (`read` or `admin`); forms get the session's CSRF token. */
  dashboard(
    who: 'read' | 'admin' | 'none',
    method: 'GET' | 'POST',
    path: string,
    form?: Record<string, string>,
  ): Promise<Answer>;
  /** `/playbook <text>` from B's Slack workspace, by B's operator. */
  slack(text: string): Promise<Answer>;
  /** An Approve click from B's Slack workspace on `ticket`. */
  slackClick(ticket: string): Promise<Answer>;
  /** A command message from B's Teams tenant, by B's operator. */
  teams(text: string): Promise<Answer>;
  /** An Action.Execute Approve from B's Teams tenant on `ticket`. */
  teamsClick(ticket: string): Promise<Answer>;
  /** A hook delivery to `tenant`'s path with B's own credentials for that source. */
  hook(
    tenant: string,
    source: 'alertmanager' | 'grafana' | 'pagerduty' | 'events/deploys',
  ): Promise<Answer>;
  /** Any other request, with no credentials. */
  get(path: string): Promise<Answer>;
  /** A's state, to check B changed none of it. */
  state(): Promise<{
    ticket: string;
    waitingRun: string;
    runs: number;
    triggers: number;
    receipts: number;
    disabled: string[];
    switches: string[];
  }>;
}

export interface CrossTenantCase {
  /** `METHOD /path` as the app registers it. */
  route: string;
  what: string;
  send(ctx: CrossTenantContext): Promise<Answer>;
  /** The statuses B may get; a 2xx only where B gets its own data. */
  expect: number[];
  /** Text B's answer must show (its own data), so that an empty answer cannot pass. */
  shows?: string;
  /** Checks beyond the answer: usually that A's state is unchanged. */
  after?(ctx: CrossTenantContext, answer: Answer): Promise<void> | void;
}

const notFound = [404];

/** The matrix: what B tries with A's ids, route by route. */
export const crossTenantCases: CrossTenantCase[] = [
  // --- /api/v1 -----------------------------------------------------------------------------------
  {
    route: 'GET /api/v1/runs/:id',
    what: "reads A's run",
    send: (c) => c.api('read', 'GET', `/runs/${c.a.runs.done}`),
    expect: notFound,
  },
  {
    route: 'GET /api/v1/runs',
    what: "lists runs filtered by A's playbook",
    send: (c) => c.api('read', 'GET', `/runs?playbook=${c.a.playbooks.done}`),
    expect: [200],
    shows: '"runs":[]',
  },
  {
    route: 'GET /api/v1/playbooks',
    what: 'lists playbooks',
    send: (c) => c.api('read', 'GET', '/playbooks'),
    expect: [200],
    shows: 'cache-flush',
  },
  {
    route: 'POST /api/v1/playbooks/:name/simulate',
    what: "simulates A's playbook",
    send: (c) =>
      c.api('read', 'POST', `/playbooks/${c.a.playbooks.done}/simulate`, {
        alert: { labels: { alertname: 'IngestLag' } },
      }),
    expect: notFound,
  },
  {
    route: 'POST /api/v1/playbooks/:name/run',
    what: "runs A's playbook",
    send: (c) => c.api('admin', 'POST', `/playbooks/${c.a.playbooks.done}/run`, { params: {} }),
    expect: notFound,
  },
  {
    route: 'POST /api/v1/playbooks/:name/disable',
    what: "disables A's playbook",
    send: (c) => c.api('admin', 'POST', `/playbooks/${c.a.playbooks.done}/disable`, {}),
    expect: notFound,
  },
  {
    route: 'POST /api/v1/playbooks/:name/enable',
    what: "enables A's disabled playbook",
    send: (c) => c.api('admin', 'POST', `/playbooks/${c.a.playbooks.disabled}/enable`, {}),
    expect: notFound,
  },
  {
    route: 'GET /api/v1/approvals',
    what: "lists approvals of A's run",
    send: (c) => c.api('read', 'GET', `/approvals?run=${c.a.runs.waiting}`),
    expect: [200],
  },
  {
    route: 'GET /api/v1/approvals/:id',
    what: "reads A's approval",
    send: (c) => c.api('read', 'GET', `/approvals/${c.a.ticket}`),
    expect: notFound,
  },
  {
    route: 'POST /api/v1/approvals/:id/decision',
    what: "approves A's approval",
    send: (c) =>
      c.api('admin', 'POST', `/approvals/${c.a.ticket}/decision`, {
        decision: 'approve',
        actor: 'slack:U0ALICE',
      }),
    expect: notFound,
  },
  {
    route: 'GET /api/v1/receipts',
    what: "lists receipts of A's run",
    send: (c) => c.api('read', 'GET', `/receipts?run=${c.a.runs.done}`),
    expect: [200],
  },
  {
    route: 'GET /api/v1/receipts/:id',
    what: "reads A's receipt",
    send: (c) => c.api('read', 'GET', `/receipts/${c.a.receipt}`),
    expect: notFound,
  },
  {
    route: 'GET /api/v1/ledger/checkpoint',
    what: "asks for a checkpoint of A's size",
    send: (c) => c.api('read', 'GET', `/ledger/checkpoint?size=${c.a.checkpointSize}`),
    expect: [200, 404],
  },
  {
    route: 'GET /api/v1/ledger/proof/:receiptId',
    what: "asks for the proof of A's receipt",
    send: (c) => c.api('read', 'GET', `/ledger/proof/${c.a.receipt}`),
    expect: notFound,
  },
  {
    route: 'GET /api/v1/ledger/consistency',
    what: "asks for consistency up to A's size",
    send: (c) => c.api('read', 'GET', `/ledger/consistency?from=1&to=${c.a.checkpointSize}`),
    expect: [200, 404],
  },
  {
    route: 'GET /api/v1/export',
    what: 'exports its evidence',
    send: (c) => c.api('read', 'GET', '/export'),
    expect: [200],
    shows: 'bravoinc',
  },
  {
    route: 'GET /api/v1/reports',
    what: 'lists reports',
    send: (c) => c.api('read', 'GET', '/reports'),
    expect: [200],
  },
  {
    route: 'GET /api/v1/reports/:id',
    what: "reads A's report",
    send: (c) => c.api('read', 'GET', `/reports/${c.a.report}`),
    expect: notFound,
  },
  {
    route: 'GET /api/v1/reports/:id/content',
    what: "downloads A's report",
    send: (c) => c.api('read', 'GET', `/reports/${c.a.report}/content`),
    expect: notFound,
  },
  {
    route: 'POST /api/v1/reports',
    what: "makes a report for the week of A's report",
    send: (c) => c.api('admin', 'POST', '/reports', { week: c.b.week }),
    expect: [201],
  },
  {
    route: 'POST /api/v1/kill-switch',
    what: "engages A's tenant switch",
    send: (c) =>
      c.api('admin', 'POST', '/kill-switch', { scope: 'tenant', tenant: c.a.id, engaged: true }),
    expect: [403],
  },
  {
    route: 'POST /api/v1/kill-switch',
    what: "engages a switch on A's playbook",
    send: (c) =>
      c.api('admin', 'POST', '/kill-switch', {
        scope: 'playbook',
        target: c.a.playbooks.done,
        engaged: true,
      }),
    expect: [404, 422],
  },
  {
    route: 'GET /api/v1/kill-switch',
    what: 'lists kill switches',
    send: (c) => c.api('read', 'GET', '/kill-switch'),
    expect: [200],
    shows: 'switches',
  },
  {
    route: 'GET /api/v1/metrics/summary',
    what: 'reads its headline figures',
    send: (c) => c.api('read', 'GET', '/metrics/summary?window=30d'),
    expect: [200],
    shows: '"succeeded":1',
  },
  {
    route: 'POST /api/v1/posture',
    what: 'builds its Posture Pack',
    send: (c) => c.api('admin', 'POST', '/posture'),
    expect: [200],
    shows: 'bravoinc',
  },
  {
    route: 'GET /api/v1/openapi.json',
    what: 'reads the API description',
    send: (c) => c.get('/api/v1/openapi.json'),
    expect: [200],
  },
  {
    route: 'GET /docs',
    what: 'reads the API reference',
    send: (c) => c.get('/docs'),
    expect: [200],
  },

  // --- hooks: B's credentials on A's paths -------------------------------------------------------
  ...(['alertmanager', 'grafana', 'pagerduty', 'events/deploys'] as const).map(
    (source): CrossTenantCase => ({
      route: `POST /hooks/:tenant/${source.replace('deploys', ':source')}`,
      what: `delivers to A's ${source} hook with B's credentials`,
      send: (c) => c.hook(c.a.id, source),
      expect: [401],
    }),
  ),

  // --- dashboard, in B's session -----------------------------------------------------------------
  {
    route: 'GET /dashboard',
    what: 'reads its overview',
    send: (c) => c.dashboard('admin', 'GET', '/dashboard?window=30d'),
    expect: [200],
    shows: 'cache-flush',
  },
  {
    route: 'GET /dashboard/runs/:id',
    what: "opens A's run page",
    send: (c) => c.dashboard('read', 'GET', `/dashboard/runs/${c.a.runs.waiting}`),
    expect: notFound,
  },
  {
    route: 'POST /dashboard/approvals/:id/decision',
    what: "approves A's approval from the dashboard",
    send: (c) =>
      c.dashboard('admin', 'POST', `/dashboard/approvals/${c.a.ticket}/decision`, {
        decision: 'approve',
      }),
    expect: [303],
    after: (_c, answer) => {
      if (!answer.location?.includes('notice=unknown_ticket')) {
        throw new Error(`expected the unknown_ticket notice, got ${answer.location}`);
      }
    },
  },
  {
    route: 'GET /dashboard/operator',
    what: 'opens the operator view',
    send: (c) => c.dashboard('admin', 'GET', '/dashboard/operator'),
    expect: [403],
  },
  {
    route: 'POST /dashboard/operator/kill-switch',
    what: 'moves the global kill switch',
    send: (c) => c.dashboard('admin', 'POST', '/dashboard/operator/kill-switch', { engaged: 'on' }),
    expect: [403],
  },
  {
    route: 'GET /dashboard/login',
    what: 'opens the sign-in page',
    send: (c) => c.dashboard('none', 'GET', '/dashboard/login'),
    expect: [200],
  },
  {
    route: 'POST /dashboard/login',
    what: 'signs in with its token',
    send: (c) => c.dashboard('none', 'POST', '/dashboard/login'),
    expect: [303],
  },
  {
    route: 'POST /dashboard/logout',
    what: 'signs out',
    send: (c) => c.dashboard('read', 'POST', '/dashboard/logout', {}),
    expect: [303],
  },
  {
    route: 'GET /dashboard/assets/dashboard.css',
    what: 'loads the stylesheet',
    send: (c) => c.get('/dashboard/assets/dashboard.css'),
    expect: [200],
  },

  // --- secure links and the static approval pages ------------------------------------------------
  {
    route: 'GET /r/:token',
    what: "opens B's own link with A's link id spliced in",
    send: (c) => c.get(`/r/${c.b.link.token.replace(c.b.link.id, c.a.link.id)}`),
    expect: notFound,
  },
  {
    route: 'GET /r/:token',
    what: "opens A's link with its signature altered",
    send: (c) =>
      c.get(`/r/${c.a.link.token.slice(0, -2)}${c.a.link.token.endsWith('AA') ? 'BB' : 'AA'}`),
    expect: notFound,
  },
  {
    route: 'GET /r/:token',
    what: "opens its own link (B's report, nothing of A)",
    send: (c) => c.get(`/r/${c.b.link.token}`),
    expect: [200],
    shows: 'Trust Report',
  },
  {
    route: 'GET /approvals',
    what: 'loads the web approvals page',
    send: (c) => c.get('/approvals'),
    expect: [200],
  },
  {
    route: 'GET /approvals/:id',
    what: "loads the web approvals page of A's ticket (static, embeds nothing)",
    send: (c) => c.get(`/approvals/${c.a.ticket}`),
    expect: [200],
  },
  {
    route: 'GET /healthz',
    what: 'asks for health',
    send: (c) => c.get('/healthz'),
    expect: [200],
  },
  {
    route: 'GET /readyz',
    what: 'asks for readiness',
    send: (c) => c.get('/readyz'),
    expect: [200],
  },

  // --- chat, from B's workspace and Teams tenant -------------------------------------------------
  ...chatCases('slack'),
  ...chatCases('teams'),
];

function chatCases(platform: 'slack' | 'teams'): CrossTenantCase[] {
  const route = platform === 'slack' ? 'POST /slack/events' : 'POST /teams/messages';
  const say = (c: CrossTenantContext, text: string) =>
    platform === 'slack' ? c.slack(text) : c.teams(text);
  const commands: Array<[string, (c: CrossTenantContext) => string]> = [
    ["status of A's run", (c) => `status ${c.a.runs.waiting}`],
    ["simulate A's playbook", (c) => `simulate ${c.a.playbooks.done} n=1`],
    ["run A's playbook", (c) => `run ${c.a.playbooks.done}`],
    ["disable A's playbook", (c) => `disable ${c.a.playbooks.done}`],
    ["enable A's disabled playbook", (c) => `enable ${c.a.playbooks.disabled}`],
    ['list approvals', () => 'approvals'],
    ['engage its kill switch', () => 'kill on'],
    ['release its kill switch', () => 'kill off'],
    ['list playbooks', () => 'list'],
    ['latest runs', () => 'status'],
  ];
  return [
    ...commands.map(
      ([what, text]): CrossTenantCase => ({
        route,
        what: `/playbook ${what}`,
        send: (c) => say(c, text(c)),
        expect: [200],
        ...(what === 'list playbooks' ? { shows: 'cache-flush' } : {}),
      }),
    ),
    {
      route,
      what: "clicks Approve on A's approval card",
      send: (c) => (platform === 'slack' ? c.slackClick(c.a.ticket) : c.teamsClick(c.a.ticket)),
      expect: [200],
    },
  ];
}
