import { describe, expect, it } from 'vitest';
import { signSlack } from '../../../test/fakes/slack-api.js';
import { slackSignatureProblem } from './slack-signature.js';

// Slack's worked example ("Verifying requests from Slack").
const known = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  rawBody:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
const knownNow = 1531420618 * 1000;

describe('slackSignatureProblem', () => {
  it("accepts Slack's documented example at its own time", () => {
    expect(slackSignatureProblem({ ...known, nowMs: knownNow })).toBeUndefined();
  });

  it('refuses the documented example replayed today', () => {
    expect(slackSignatureProblem(known)).toMatch(/stale/);
  });

  it('refuses a body changed by one character', () => {
    const rawBody = known.rawBody.replace('roadrunner', 'roadrunnex');
    expect(slackSignatureProblem({ ...known, rawBody, nowMs: knownNow })).toMatch(/mismatch/);
  });

  it('refuses another secret', () => {
    const problem = slackSignatureProblem({ ...known, signingSecret: 'x', nowMs: knownNow });
    expect(problem).toMatch(/mismatch/);
  });

  it('accepts 300 s either way and refuses 301 s old or in the future', () => {
    const body = 'a=1';
    const at = (skew: number) => {
      const ts = known.timestamp;
      const headers = signSlack('s3cret', body, Number(ts));
      return slackSignatureProblem({
        signingSecret: 's3cret',
        rawBody: body,
        signature: headers['x-slack-signature'],
        timestamp: ts,
        nowMs: knownNow + skew * 1000,
      });
    };
    expect(at(300)).toBeUndefined();
    expect(at(-300)).toBeUndefined();
    expect(at(301)).toMatch(/stale/);
    expect(at(-301)).toMatch(/future/);
    expect(at(-3600)).toMatch(/future/);
  });

  it('refuses missing headers, a non-numeric timestamp and an unknown version', () => {
    const base = { ...known, nowMs: knownNow };
    expect(slackSignatureProblem({ ...base, signature: undefined })).toMatch(/missing/);
    expect(slackSignatureProblem({ ...base, timestamp: undefined })).toMatch(/missing/);
    expect(slackSignatureProblem({ ...base, timestamp: '1531420618.5' })).toMatch(/unix/);
    const v1 = known.signature.replace('v0=', 'v1=');
    expect(slackSignatureProblem({ ...base, signature: v1 })).toMatch(/version/);
  });
});
