/**
 * A Standard Webhooks receiver on 127.0.0.1: verifies every request with the `standardwebhooks`
 * library (`Webhook.verify`), answers 401 when it fails, and processes each `webhook-id` once.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  /** The raw body, exactly as it arrived. */
  raw: string;
  /** Whether `Webhook.verify` accepted it. */
  verified: boolean;
  /** The status the receiver answered. */
  status: number;
}

/** What the receiver answers instead of processing: a status, or no answer at all. */
export type ReceiverBehaviour =
  | { status: number; headers?: Record<string, string> }
  | { hang: true };

export interface FakeWebhookReceiver {
  /** e.g. `http://127.0.0.1:41234/hooks/warden`. */
  url: string;
  /** `whsec_…`, 32 random bytes. */
  secret: string;
  /** Every request, in arrival order. */
  attempts: ReceivedWebhook[];
  /** Parsed bodies of verified, processed messages, by `webhook-id` (each processed once). */
  processed: Map<string, unknown>;
  /** Answers the next `times` requests this way instead of processing them. */
  behave(behaviour: ReceiverBehaviour, times?: number): void;
  /** Posts raw bytes with the given headers to the receiver (to replay or tamper); the status. */
  post(raw: string, headers: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/**
 * @example
 * const receiver = await startWebhookReceiver();
 * receiver.behave({ status: 503 }, 1); // the first attempt fails, the retry succeeds
 */
export async function startWebhookReceiver(): Promise<FakeWebhookReceiver> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const webhook = new Webhook(secret);
  const attempts: ReceivedWebhook[] = [];
  const processed = new Map<string, unknown>();
  const queue: ReceiverBehaviour[] = [];

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const headers = flat(req.headers);
    const attempt: ReceivedWebhook = { headers, raw, verified: false, status: 0 };
    attempts.push(attempt);
    const behaviour = queue.shift();
    if (behaviour && 'hang' in behaviour) return;
    let event: unknown;
    try {
      event = webhook.verify(raw, headers);
      attempt.verified = true;
    } catch {
      attempt.status = 401;
      return res.writeHead(401).end('bad signature');
    }
    attempt.status = behaviour?.status ?? 204;
    if (behaviour) return res.writeHead(behaviour.status, behaviour.headers).end();
    const id = headers['webhook-id'] ?? '';
    if (!processed.has(id)) processed.set(id, event);
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/hooks/warden`;

  return {
    url,
    secret,
    attempts,
    processed,
    behave(behaviour, times = 1) {
      for (let i = 0; i < times; i++) queue.push(behaviour);
    },
    async post(raw, headers) {
      const res = await fetch(url, { method: 'POST', body: raw, headers });
      await res.body?.cancel();
      return res.status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function flat(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}
