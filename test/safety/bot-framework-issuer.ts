/**
 * A stand-in for Bot Framework's token issuer: its OpenID configuration and signing keys (JWKS,
 * endorsed for `msteams`) served on 127.0.0.1, and trusted by botbuilder in place of
 * login.botframework.com (its metadata cache is pointed here). Tokens are signed as the Bot
 * Connector signs the requests it sends to a bot — or by a forger's key, for the refusals.
 */
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

interface OpenIdMetadata {
  url: string;
  lastUpdated: number;
  keys?: unknown;
}

/** botbuilder's own copy of botframework-connector, whose metadata cache it reads. */
function botbuilderConnector() {
  const load = createRequire(createRequire(import.meta.url).resolve('botbuilder'));
  const { AuthenticationConstants } = load('botframework-connector') as {
    AuthenticationConstants: { ToBotFromChannelOpenIdMetadataUrl: string };
  };
  const { JwtTokenExtractor } = load('botframework-connector/lib/auth/jwtTokenExtractor') as {
    JwtTokenExtractor: {
      getOrAddOpenIdMetadata(url: string, proxy: undefined, hours: number): OpenIdMetadata;
    };
  };
  return JwtTokenExtractor.getOrAddOpenIdMetadata(
    AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl,
    undefined,
    24,
  );
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export interface BotFrameworkIssuer {
  /**
   * A channel → bot token for `appId` and `serviceUrl`, signed by the trusted key (or the forger's),
   * with `claims` and `header` overriding the defaults.
   */
  token(opts?: {
    claims?: Record<string, unknown>;
    header?: Record<string, unknown>;
    signer?: 'trusted' | 'forger';
  }): string;
  close(): Promise<void>;
}

/**
 * @example
 * const issuer = await startBotFrameworkIssuer({ appId, serviceUrl: connector.serviceUrl });
 * headers.authorization = `Bearer ${issuer.token()}`;
 */
export async function startBotFrameworkIssuer(opts: {
  appId: string;
  serviceUrl: string;
}): Promise<BotFrameworkIssuer> {
  const trusted = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'warden-test-key';
  const jwk = trusted.publicKey.export({ format: 'jwk' });
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openidconfiguration') {
      res.end(JSON.stringify({ issuer: 'https://api.botframework.com', jwks_uri: `${base}/keys` }));
    } else {
      res.end(JSON.stringify({ keys: [{ ...jwk, kid, use: 'sig', endorsements: ['msteams'] }] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const metadata = botbuilderConnector();
  const original = metadata.url;
  metadata.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/openidconfiguration`;
  metadata.lastUpdated = 0;
  metadata.keys = undefined;

  const sign = (key: KeyObject, text: string) =>
    b64url(createSign('RSA-SHA256').update(text).sign(key));
  return {
    token({ claims = {}, header = {}, signer = 'trusted' } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid, ...header }));
      const body = b64url(
        JSON.stringify({
          iss: 'https://api.botframework.com',
          aud: opts.appId,
          serviceurl: opts.serviceUrl,
          nbf: now - 60,
          exp: now + 3600,
          ...claims,
        }),
      );
      const key = signer === 'trusted' ? trusted.privateKey : forger.privateKey;
      return `${head}.${body}.${sign(key, `${head}.${body}`)}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        metadata.url = original;
        metadata.lastUpdated = 0;
        metadata.keys = undefined;
        server.close(() => resolve());
      }),
  };
}
