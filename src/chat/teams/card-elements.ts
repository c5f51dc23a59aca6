/**
 * Card-elements: the Adaptive Card 1.5 building blocks the Teams cards are made of — text runs,
 * rich text, fact sets, bullets, links, headings and groups — and the size caps that shrink a card
 * until it fits Teams' message size.
 */
import {
  clean,
  moreLine,
  oneLine,
  type RenderOptions,
  resolveUrl,
  truncate,
} from '../render-text.js';
import type { Link } from '../views.js';

export type Color = 'Good' | 'Attention' | 'Warning' | 'Accent';
export type Spacing = 'None' | 'Small' | 'Medium';

export interface TextRun {
  type: 'TextRun';
  text: string;
  weight?: 'Bolder';
  size?: 'Medium' | 'Large';
  fontType?: 'Monospace';
  color?: Color;
  isSubtle?: boolean;
}
export interface RichTextBlock {
  type: 'RichTextBlock';
  inlines: TextRun[];
  spacing?: Spacing;
  separator?: boolean;
}
export interface TextBlock {
  type: 'TextBlock';
  text: string;
  wrap: true;
  weight?: 'Bolder';
  spacing?: Spacing;
}
export interface FactSet {
  type: 'FactSet';
  facts: Array<{ title: string; value: string }>;
  spacing?: Spacing;
}
export interface Container {
  type: 'Container';
  items: CardElement[];
  spacing?: Spacing;
  separator?: boolean;
}
export interface ActionSubmit {
  type: 'Action.Submit';
  title: string;
  data: { warden: 'approval'; verb: 'approve' | 'reject'; ticket: string };
}
export interface ActionExecute {
  type: 'Action.Execute';
  id: string;
  title: string;
  verb: 'approve' | 'reject';
  data: { ticket: string };
  fallback: ActionSubmit;
}
export interface ActionOpenUrl {
  type: 'Action.OpenUrl';
  title: string;
  url: string;
}
export interface ActionSet {
  type: 'ActionSet';
  actions: Array<ActionExecute | ActionOpenUrl>;
  spacing?: Spacing;
}
export type CardElement = TextBlock | RichTextBlock | FactSet | Container | ActionSet;

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  version: '1.5';
  fallbackText: string;
  body: CardElement[];
}

/**
 * The most JSON characters a card may take. Teams limits a bot message by its UTF-16 size (40 KB in
 * older docs, 100 KB now): 18,000 characters is 36 KB, leaving room for the activity around it.
 */
export const teamsCardMaxChars = 18_000;

/** The Approve / Reject Action.Execute ids on an approval card. */
export const APPROVE_ACTION = 'warden-approve';
export const REJECT_ACTION = 'warden-reject';

// ---- elements -------------------------------------------------------------------------------

/** Caps on text and list lengths, shrunk together when a card is too big. */
export function capsAt(scale: number) {
  const n = (x: number) => Math.max(1, Math.floor(x * scale));
  return { text: n(1000), short: n(200), items: n(10), links: n(10), steps: n(30), tickets: n(15) };
}
export type Caps = ReturnType<typeof capsAt>;

export function run(text: string, style: Omit<TextRun, 'type' | 'text'> = {}): TextRun {
  return { type: 'TextRun', text, ...style };
}
export const mono = (text: string, max: number) =>
  run(truncate(oneLine(text), max) || '—', { fontType: 'Monospace' });
export const bold = (text: string) => run(text, { weight: 'Bolder' });
export const subtle = (text: string) => run(text, { isSubtle: true });
/** `✅ step-1 · http.request`, ids in monospace. */
export const stepRuns = (icon: string, id: string, uses: string) => [
  icon ? `${icon} ` : '',
  mono(id, 100),
  ' · ',
  mono(uses, 100),
];

/** Literal text: TextRuns are not Markdown, so `*`, `<`, `[x](y)` show as typed. */
export function rich(
  inlines: Array<TextRun | string>,
  extra: Omit<RichTextBlock, 'type' | 'inlines'> = {},
): RichTextBlock {
  const runs = inlines
    .map((i) => (typeof i === 'string' ? run(i) : i))
    .filter((r) => r.text !== '');
  return { type: 'RichTextBlock', inlines: runs.length ? runs : [run('—')], ...extra };
}
export const para = (text: string, max: number) => rich([truncate(clean(text).trim(), max)]);

export function heading(text: string, color?: Color): RichTextBlock {
  const style = { size: 'Large', weight: 'Bolder', ...(color ? { color } : {}) } as const;
  return rich([run(truncate(oneLine(text), 200), style)]);
}

/** A titled group; no items, no group. */
export function group(title: string, items: CardElement[]): CardElement[] {
  if (items.length === 0) return [];
  return [
    {
      type: 'Container',
      spacing: 'Medium',
      items: [{ type: 'TextBlock', text: title, weight: 'Bolder', wrap: true }, ...items],
    },
  ];
}

/** One bullet per item, the rest counted. */
export function bullets(
  items: string[],
  max: number,
  caps: Caps,
  noun = '',
  mark = '• ',
): RichTextBlock[] {
  const shown = items.map((i) => truncate(oneLine(i), caps.text)).filter((i) => i !== '');
  const out = shown.slice(0, max).map((i) => rich([`${mark}${i}`], { spacing: 'Small' }));
  return shown.length > max
    ? [...out, rich([moreLine(shown.length - max, noun)], { spacing: 'Small' })]
    : out;
}

/** Markdown-safe text for a link label or a fact: no brackets, angle brackets or emphasis marks. */
export function mdSafe(text: string, max: number): string {
  const safe = oneLine(text)
    .replace(/\[/g, '(')
    .replace(/\]/g, ')')
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/[*`~\\]/g, (c) => ({ '*': '∗', '`': "'", '~': '∼', '\\': '⧵' })[c] ?? c);
  return truncate(safe, max);
}

/** `[label](url)` for an http(s) link; the label and the path as literal text otherwise. */
export function linkBlock(l: Link, opts: RenderOptions, caps: Caps): CardElement {
  const url = resolveUrl(l.url, opts.baseUrl);
  const label = mdSafe(l.label, 100) || 'link';
  if (!url || url.length > 2000)
    return rich([`• ${truncate(oneLine(l.label), 100)} `, mono(l.url, caps.short)]);
  const href = url.replace(/[()<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return { type: 'TextBlock', text: `- [${label}](${href})`, wrap: true, spacing: 'Small' };
}

export function links(items: Link[], opts: RenderOptions, caps: Caps): CardElement[] {
  const out = items.slice(0, caps.links).map((l) => linkBlock(l, opts, caps));
  return [...out, ...more(items.length - out.length, 'links')];
}

/** Facts with a value; values made Markdown-safe (Teams reads them as Markdown). */
export function facts(caps: Caps, pairs: Record<string, string>): FactSet {
  const shown = Object.entries(pairs).filter(([, v]) => v !== '');
  return {
    type: 'FactSet',
    spacing: 'Medium',
    facts: shown.map(([title, value]) => ({ title, value: mdSafe(value, caps.text) })),
  };
}

/** `… and N more` as a block, when N > 0. */
export const more = (hidden: number, noun: string) =>
  hidden > 0 ? [rich([moreLine(hidden, noun)])] : [];

/** The card at the largest scale that fits `teamsCardMaxChars`. */
export function sizedCard(
  fallbackText: string,
  build: (caps: Caps) => CardElement[],
): AdaptiveCard {
  let card: AdaptiveCard | undefined;
  for (const scale of [1, 0.5, 0.25, 0.1, 0.05]) {
    card = {
      type: 'AdaptiveCard',
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      version: '1.5',
      fallbackText: truncate(fallbackText, 300) || 'Warden',
      body: build(capsAt(scale)),
    };
    if (JSON.stringify(card).length <= teamsCardMaxChars) return card;
  }
  return card as AdaptiveCard;
}

// ---- cards ---------------------------------------------------------------------------------
