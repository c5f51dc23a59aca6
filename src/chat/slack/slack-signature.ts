/** Slack request signing (v0): Bolt's constant-time check, plus the future-timestamp bound it lacks. */
import { verifySlackRequest } from '@slack/bolt';

/** How far a request's timestamp may be from our clock, either way (Slack's documented 5 minutes). */
const maxClockSkewSeconds = 300;

export interface SlackSignatureInput {
  signingSecret: string;
  /** The exact request body bytes, as text. */
  rawBody: string;
  /** `X-Slack-Signature`, e.g. `v0=a2114d57…`. */
  signature: string | undefined;
  /** `X-Slack-Request-Timestamp`, unix seconds. */
  timestamp: string | undefined;
  /** @defaultValue Date.now() */
  nowMs?: number;
}

/**
 * Why a request is not Slack's, or undefined when it is. The reason is for logs only; callers answer
 * every failure with the same message.
 * @example
 * const problem = slackSignatureProblem({ signingSecret, rawBody, signature, timestamp });
 * if (problem) return unauthenticated(c);
 */
export function slackSignatureProblem(input: SlackSignatureInput): string | undefined {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) return 'missing signature or timestamp header';
  if (!/^\d{1,12}$/.test(timestamp)) return 'timestamp is not unix seconds';
  const nowMs = input.nowMs ?? Date.now();
  const ts = Number(timestamp);
  // Bolt only rejects stale timestamps; a replayed request must not be accepted from the future either.
  if (ts > Math.floor(nowMs / 1000) + maxClockSkewSeconds) return 'timestamp is in the future';
  try {
    verifySlackRequest({
      signingSecret: input.signingSecret,
      body: input.rawBody,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
      nowMilliseconds: nowMs,
    });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : 'verification failed';
  }
}
