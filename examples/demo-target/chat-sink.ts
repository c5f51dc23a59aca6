/**
 * Chat sink: the demo's stand-in for Microsoft Teams. It speaks the part of the Bot Framework
 * connector protocol Warden's Teams channel uses — send to a conversation, reply to an activity,
 * update an activity, each answered `{ "id": … }` — under a service URL such as
 * `http://127.0.0.1:3101/chat/`, and keeps what it received so a person (or `warden demo`) can read
 * the run threads and approval cards: `GET /chat/messages` (JSON), `GET /chat` (plain text).
 */

/** One activity Warden sent, as the sink recorded it. */
export interface ChatMessage {
  seq: number;
  /** The id the sink answered with (threads and updates refer to it). */
  id: string;
  call: 'send' | 'reply' | 'update';
  /** Decoded; a thread is `<channel>;messageid=<root id>`. */
  conversationId: string;
  /** The activity replied to or replaced. */
  activityId: string | null;
  at: string;
  /** The activity's text, or the text blocks of its Adaptive Card, joined by newlines. */
  text: string;
  /** The Adaptive Card, when the activity carries one. */
  card: Record<string, unknown> | null;
  /** `Action.Execute` verbs and their data (the buttons a person can click). */
  actions: Array<{ verb: string; title: string; data: unknown }>;
}

export interface ChatSinkAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const route = /^\/chat(?:\/[^/]+)*?\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/;
const maxMessages = 2000;

/** Texts of TextBlocks and FactSets, depth first, and the Action.Execute buttons, anywhere in a card. */
function walkCard(node: unknown, texts: string[], actions: ChatMessage['actions']): void {
  if (Array.isArray(node)) {
    for (const n of node) walkCard(n, texts, actions);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Record<string, unknown>;
  if (o.type === 'TextBlock' && typeof o.text === 'string') texts.push(o.text);
  if (o.type === 'Fact' || (typeof o.title === 'string' && typeof o.value === 'string')) {
    if (o.type !== 'Action.Execute') texts.push(`${o.title}: ${o.value}`);
  }
  if (o.type === 'Action.Execute' && typeof o.verb === 'string') {
    actions.push({ verb: o.verb, title: String(o.title ?? o.verb), data: o.data ?? null });
  }
  for (const [key, value] of Object.entries(o)) {
    if (key !== 'data' && typeof value === 'object') walkCard(value, texts, actions);
  }
}

function describe(activity: Record<string, unknown>) {
  const texts: string[] = [];
  const actions: ChatMessage['actions'] = [];
  if (typeof activity.text === 'string' && activity.text !== '') texts.push(activity.text);
  let card: Record<string, unknown> | null = null;
  const attachments = Array.isArray(activity.attachments) ? activity.attachments : [];
  for (const a of attachments as Array<Record<string, unknown>>) {
    if (a?.contentType === 'application/vnd.microsoft.card.adaptive' && a.content) {
      card = a.content as Record<string, unknown>;
      walkCard(card, texts, actions);
    }
  }
  return { text: texts.join('\n'), card, actions };
}

export interface ChatSink {
  /** Answers a request under `/chat`, or undefined when the path is not the sink's. */
  handle(method: string, path: string, body: unknown): ChatSinkAnswer | undefined;
  messages(): readonly ChatMessage[];
}

export function createChatSink(): ChatSink {
  const messages: ChatMessage[] = [];
  let next = 1_700_000_000_000;

  function record(
    call: ChatMessage['call'],
    conversationId: string,
    activityId: string | null,
    activity: unknown,
  ): ChatSinkAnswer {
    if (typeof activity !== 'object' || activity === null || Array.isArray(activity)) {
      return {
        status: 400,
        body: { error: { code: 'BadArgument', message: 'expected an activity object' } },
      };
    }
    const id = call === 'update' && activityId ? activityId : String(++next);
    if (messages.length >= maxMessages) messages.shift();
    messages.push({
      seq: (messages.at(-1)?.seq ?? 0) + 1,
      id,
      call,
      conversationId,
      activityId,
      at: new Date().toISOString(),
      ...describe(activity as Record<string, unknown>),
    });
    return { status: 200, body: { id } };
  }

  function transcript(): string {
    if (messages.length === 0) return 'No messages yet.\n';
    return `${messages
      .map((m) => {
        const where = m.conversationId.includes(';messageid=') ? '  ↳ in thread' : '#ops';
        const what = m.call === 'update' ? `updated ${m.activityId}` : m.id;
        const buttons = m.actions.length
          ? `\n      [${m.actions.map((a) => a.title).join('] [')}]`
          : '';
        const text = m.text
          .split('\n')
          .map((l) => `      ${l}`)
          .join('\n');
        return `${m.at} ${where} (${what})\n${text}${buttons}`;
      })
      .join('\n\n')}\n`;
  }

  return {
    messages: () => messages,
    handle(method, path, body) {
      if (path === '/chat' && method === 'GET') {
        return {
          status: 200,
          body: transcript(),
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        };
      }
      if (path === '/chat/messages' && method === 'GET') return { status: 200, body: { messages } };
      const match = route.exec(path);
      if (!match)
        return path === '/chat' || path.startsWith('/chat/')
          ? { status: 404, body: { error: { code: 'NotFound', message: `no route ${path}` } } }
          : undefined;
      const conversationId = decodeURIComponent(match[1] ?? '');
      const activityId = match[2] ? decodeURIComponent(match[2]) : null;
      if (method === 'POST')
        return record(activityId ? 'reply' : 'send', conversationId, activityId, body);
      if (method === 'PUT' && activityId) return record('update', conversationId, activityId, body);
      return {
        status: 405,
        body: { error: { code: 'MethodNotAllowed', message: `${method} ${path}` } },
      };
    },
  };
}
