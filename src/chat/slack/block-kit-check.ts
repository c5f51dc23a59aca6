/**
 * Block-kit-check: Slack's documented Block Kit limits, and `checkBlockKit`, which lists the limits a
 * message breaks — the renderers stay within them, and the tests of the renderers and the Slack
 * adapter check every message against them.
 */

/** Slack's documented Block Kit limits (UTF-16 units; Slack counts characters, never more). */
export const blockKitLimits = {
  blocksPerMessage: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  blockId: 255,
  actionId: 255,
  /** Ours, not Slack's (which cuts at 40,000): the notification text stays a short sentence. */
  fallbackText: 4000,
} as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `<…>` sequences a bot may send; anything else (`<!channel>`, stray `<`) is a problem. */
const controlSequence =
  /^<(?:https?:\/\/[^\s|<>]+|mailto:[^\s|<>]+|!date\^\d+\^[^|<>]*|@[UW][A-Z0-9]+|#C[A-Z0-9]+|!subteam\^[A-Z0-9]+)(?:\|[^<>]*)?>/;

/** Where mrkdwn text is not escaped: a raw `&`, a `<` that opens no control sequence, a stray `>`. */
function mrkdwnProblems(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '&' && !/^&(?:amp|lt|gt);/.test(text.slice(i, i + 5)))
      out.push(`unescaped "&" at ${i}`);
    if (c === '>') out.push(`unescaped ">" at ${i}`);
    if (c === '<') {
      const m = controlSequence.exec(text.slice(i));
      if (m) i += m[0].length - 1;
      else out.push(`unescaped "<" or broadcast at ${i}: ${JSON.stringify(text.slice(i, i + 20))}`);
    }
  }
  return out;
}

function textProblems(where: string, t: unknown, max: number, plainOnly = false): string[] {
  if (!isObject(t) || typeof t.text !== 'string') return [`${where}: not a text object`];
  if (t.type !== 'plain_text' && (plainOnly || t.type !== 'mrkdwn')) {
    return [
      `${where}: type ${String(t.type)}, expected ${plainOnly ? 'plain_text' : 'plain_text or mrkdwn'}`,
    ];
  }
  const out: string[] = [];
  if (t.text.length === 0) out.push(`${where}: empty text`);
  if (t.text.length > max) out.push(`${where}: ${t.text.length} chars, max ${max}`);
  if (t.type === 'mrkdwn') out.push(...mrkdwnProblems(t.text).map((p) => `${where}: ${p}`));
  return out;
}

function elementProblems(where: string, e: unknown, actionIds: Set<string>): string[] {
  if (!isObject(e)) return [`${where}: not an object`];
  const out: string[] = [];
  if (typeof e.action_id === 'string') {
    if (e.action_id.length > blockKitLimits.actionId)
      out.push(`${where}: action_id over ${blockKitLimits.actionId} chars`);
    if (actionIds.has(e.action_id))
      out.push(`${where}: action_id "${e.action_id}" repeated in the message`);
    actionIds.add(e.action_id);
  }
  if (e.type !== 'button') return out;
  out.push(...textProblems(`${where}.text`, e.text, blockKitLimits.buttonText, true));
  if (typeof e.value === 'string' && e.value.length > blockKitLimits.buttonValue) {
    out.push(`${where}: value ${e.value.length} chars, max ${blockKitLimits.buttonValue}`);
  }
  if (typeof e.url === 'string' && e.url.length > blockKitLimits.buttonUrl)
    out.push(`${where}: url too long`);
  if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') {
    out.push(`${where}: style ${String(e.style)}, expected primary or danger`);
  }
  return out;
}

function blockProblems(where: string, b: Json, actionIds: Set<string>): string[] {
  const L = blockKitLimits;
  const list = (v: unknown) => (Array.isArray(v) ? (v as unknown[]) : []);
  switch (b.type) {
    case 'header':
      return textProblems(`${where}.text`, b.text, L.headerText, true);
    case 'section': {
      const fields = list(b.fields);
      const out = [
        ...(b.text === undefined ? [] : textProblems(`${where}.text`, b.text, L.sectionText)),
        ...fields.flatMap((f, i) => textProblems(`${where}.fields[${i}]`, f, L.fieldText)),
        ...(b.accessory === undefined
          ? []
          : elementProblems(`${where}.accessory`, b.accessory, actionIds)),
      ];
      if (b.text === undefined && fields.length === 0)
        out.push(`${where}: neither text nor fields`);
      if (fields.length > L.fieldsPerSection)
        out.push(`${where}: ${fields.length} fields, max ${L.fieldsPerSection}`);
      return out;
    }
    case 'context': {
      const elements = list(b.elements);
      const out = elements.flatMap((e, i) =>
        isObject(e) && e.type === 'image'
          ? []
          : textProblems(`${where}.elements[${i}]`, e, L.contextText),
      );
      if (elements.length === 0 || elements.length > L.contextElements) {
        out.push(`${where}: ${elements.length} elements, expected 1 to ${L.contextElements}`);
      }
      return out;
    }
    case 'actions': {
      const elements = list(b.elements);
      const out = elements.flatMap((e, i) =>
        elementProblems(`${where}.elements[${i}]`, e, actionIds),
      );
      if (elements.length === 0 || elements.length > L.actionsElements) {
        out.push(`${where}: ${elements.length} elements, expected 1 to ${L.actionsElements}`);
      }
      return out;
    }
    default:
      return [];
  }
}

/**
 * The Block Kit limits a message breaks, as readable lines (empty when it is fine): block count,
 * text lengths per block type, button text / value / style, unique block_id and action_id, and
 * mrkdwn that is not escaped (a raw `&`, `<` or `>`, or a broadcast such as `<!channel>`).
 * @example expect(checkBlockKit(approvalMessage(view))).toEqual([]);
 */
export function checkBlockKit(message: { text?: unknown; blocks?: unknown }): string[] {
  const L = blockKitLimits;
  const out: string[] = [];
  if (typeof message.text !== 'string' || message.text.trim() === '')
    out.push('text: no notification text');
  else {
    if (message.text.length > L.fallbackText)
      out.push(`text: ${message.text.length} chars, max ${L.fallbackText}`);
    out.push(...mrkdwnProblems(message.text).map((p) => `text: ${p}`));
  }
  const blocks = Array.isArray(message.blocks) ? (message.blocks as unknown[]) : [];
  if (blocks.length > L.blocksPerMessage)
    out.push(`blocks: ${blocks.length}, max ${L.blocksPerMessage}`);
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  for (const [i, b] of blocks.entries()) {
    const where = `blocks[${i}]${isObject(b) ? ` ${String(b.type)}` : ''}`;
    if (!isObject(b)) {
      out.push(`${where}: not an object`);
      continue;
    }
    if (typeof b.block_id === 'string') {
      if (b.block_id.length > L.blockId) out.push(`${where}: block_id over ${L.blockId} chars`);
      if (blockIds.has(b.block_id)) out.push(`${where}: block_id "${b.block_id}" repeated`);
      blockIds.add(b.block_id);
    }
    out.push(...blockProblems(where, b, actionIds));
  }
  return out;
}
