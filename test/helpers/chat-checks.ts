/**
 * Chat checks for tests: `validateAdaptiveCard` runs a card through the real `adaptivecards`
 * library (a devDependency, so it lives here and never in src/), `checkTeamsCard` adds what Teams
 * needs and the library does not check; `checkBlockKit` is re-exported for one import in tests.
 */
import { createRequire } from 'node:module';
import { teamsCardMaxChars } from '../../src/chat/teams/cards.js';

export { checkBlockKit } from '../../src/chat/slack/block-kit-check.js';

// adaptivecards' ESM entry fails in Node (extension-less imports); its UMD bundle loads without a DOM.
const AC = createRequire(import.meta.url)(
  'adaptivecards/dist/adaptivecards.js',
) as AdaptiveCardsModule;

interface AcEvent {
  event: number;
  message: string;
}
interface AdaptiveCardsModule {
  AdaptiveCard: new () => {
    parse(json: unknown, ctx: unknown): void;
    toJSON(ctx: unknown): unknown;
    validateProperties(): { validationEvents: AcEvent[] };
  };
  SerializationContext: new () => {
    targetVersion: unknown;
    eventCount: number;
    getEventAt(i: number): AcEvent;
  };
  Versions: Record<'v1_3' | 'v1_5', unknown>;
  ValidationEvent: Record<number, string>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parse(card: unknown, version: unknown) {
  const ac = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext();
  ctx.targetVersion = version;
  ac.parse(card, ctx);
  const events = Array.from({ length: ctx.eventCount }, (_, i) => ctx.getEventAt(i));
  return { ac, ctx, events };
}

const describeEvent = (e: AcEvent) => `${AC.ValidationEvent[e.event] ?? e.event}: ${e.message}`;

/** Paths present in `input` that the library dropped on a parse/serialise round trip. */
function dropped(input: unknown, output: unknown, path: string): string[] {
  if (Array.isArray(input)) {
    const out = Array.isArray(output) ? output : [];
    return input.flatMap((v, i) => dropped(v, out[i], `${path}[${i}]`));
  }
  if (!isObject(input)) return [];
  const out = isObject(output) ? output : {};
  return Object.entries(input).flatMap(([key, value]) => {
    // The library keeps an action's fallback only when it has to use it; checked separately below.
    if (key === 'fallback' && String(input.type).startsWith('Action.')) return [];
    if (!(key in out))
      return [`${path}.${key}: not an Adaptive Cards 1.5 property (dropped on parse)`];
    return dropped(value, out[key], `${path}.${key}`);
  });
}

/** Every object in the card with a `type`, with its JSON path. */
function typed(node: unknown, path = '$'): Array<[string, Json]> {
  if (Array.isArray(node)) return node.flatMap((v, i) => typed(v, `${path}[${i}]`));
  if (!isObject(node)) return [];
  const self: Array<[string, Json]> = typeof node.type === 'string' ? [[path, node]] : [];
  return [...self, ...Object.entries(node).flatMap(([k, v]) => typed(v, `${path}.${k}`))];
}

/**
 * What the `adaptivecards` library (3.0.6) finds wrong with a card, targeting 1.5: parse events
 * (unknown types, bad enum values), `validateProperties()` events (duplicate ids, missing
 * required properties), properties it does not know (dropped on a round trip), each
 * `Action.Execute` fallback parsed as a pre-1.4 client would, and a missing or too new `version`
 * (the library reports neither).
 * @example expect(validateAdaptiveCard(approvalCard(view))).toEqual([]);
 */
export function validateAdaptiveCard(card: unknown): string[] {
  const out: string[] = [];
  const version = isObject(card) ? card.version : undefined;
  if (typeof version !== 'string' || !/^1\.\d+$/.test(version)) {
    out.push(`version: ${JSON.stringify(version)}, expected "1.0" to "1.5"`);
  } else if (Number(version.split('.')[1]) > 5) {
    out.push(`version: ${version} is newer than Teams supports (1.5)`);
  }
  const { ac, ctx, events } = parse(card, AC.Versions.v1_5);
  out.push(...events.map(describeEvent));
  out.push(...ac.validateProperties().validationEvents.map(describeEvent));
  out.push(...dropped(card, ac.toJSON(ctx), '$'));
  // A 1.3 client does not know Action.Execute: the library must fall back cleanly.
  const old = parse(card, AC.Versions.v1_3);
  out.push(
    ...old.events
      .filter((e) => !e.message.includes('"Action.Execute"'))
      .map((e) => `as 1.3 (fallback): ${describeEvent(e)}`),
  );
  return out;
}

/**
 * What Teams needs beyond the schema: the card's size (`teamsCardMaxChars`), no media, no action
 * styles, every `Action.Execute` with a verb, unique id and an `Action.Submit` fallback, absolute
 * http(s) URLs, no empty texts or containers, and no `<` in Markdown TextBlocks.
 * @example expect(checkTeamsCard(card)).toEqual([]);
 */
export function checkTeamsCard(card: unknown): string[] {
  const out: string[] = [];
  const size = JSON.stringify(card).length;
  if (size > teamsCardMaxChars) out.push(`card: ${size} JSON chars, max ${teamsCardMaxChars}`);
  const ids = new Set<string>();
  for (const [path, node] of typed(card)) {
    const empty = (key: string) =>
      !(Array.isArray(node[key]) ? (node[key] as unknown[]).length : node[key]);
    if (typeof node.id === 'string') {
      if (ids.has(node.id)) out.push(`${path}: id "${node.id}" repeated`);
      ids.add(node.id);
    }
    switch (node.type) {
      case 'Media':
        out.push(`${path}: Media is not supported in Teams bot cards`);
        break;
      case 'TextBlock':
      case 'TextRun':
        if (typeof node.text !== 'string' || node.text.trim() === '')
          out.push(`${path}: empty text`);
        else if (node.type === 'TextBlock' && node.text.includes('<')) {
          out.push(`${path}: "<" in a Markdown TextBlock (Teams may read it as HTML)`);
        }
        break;
      case 'RichTextBlock':
        if (empty('inlines')) out.push(`${path}: no inlines`);
        break;
      case 'FactSet':
        if (empty('facts')) out.push(`${path}: no facts`);
        break;
      case 'Container':
        if (empty('items')) out.push(`${path}: no items`);
        break;
      case 'ActionSet':
        if (empty('actions')) out.push(`${path}: no actions`);
        break;
      case 'Action.OpenUrl':
        if (typeof node.url !== 'string' || !/^https?:\/\//.test(node.url)) {
          out.push(`${path}: url ${JSON.stringify(node.url)} is not absolute http(s)`);
        }
        break;
      case 'Action.Execute': {
        const fallback = node.fallback;
        if (!node.verb) out.push(`${path}: no verb`);
        if (!node.id) out.push(`${path}: no id`);
        if (!isObject(fallback) || fallback.type !== 'Action.Submit') {
          out.push(`${path}: no Action.Submit fallback`);
        }
        break;
      }
    }
    if (String(node.type).startsWith('Action.')) {
      if (node.style !== undefined)
        out.push(`${path}: action style (Teams ignores positive/destructive)`);
      if (typeof node.title !== 'string' || node.title === '') out.push(`${path}: no title`);
    }
  }
  return out;
}
