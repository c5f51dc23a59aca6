/**
 * Match: does a trigger start a playbook? Alert label matchers as in Alertmanager (`value`, `!=v`,
 * `=~re`, `!~re`, regexes anchored), event source and type, and a playbook's own cron ticks. Only
 * firing alerts start runs; resolved ones are kept for linking and measurement.
 */
import type { TriggerEvent } from '../triggers/trigger-event.js';
import type { Playbook } from './playbook-schema.js';

type On = Playbook['spec']['on'][number];

const compiled = new Map<string, RegExp>();
function anchored(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}

/** One label matcher against a label value (a missing label is the empty string). */
export function labelMatches(matcher: string, value: string | undefined): boolean {
  const v = value ?? '';
  if (matcher.startsWith('=~')) return anchored(matcher.slice(2)).test(v);
  if (matcher.startsWith('!~')) return !anchored(matcher.slice(2)).test(v);
  if (matcher.startsWith('!=')) return v !== matcher.slice(2);
  return v === matcher;
}

export function onMatches(on: On, trigger: TriggerEvent, playbook: string): boolean {
  if ('alert' in on) {
    if (trigger.kind !== 'alert' || trigger.status !== 'firing') return false;
    if (on.alert.source && on.alert.source !== trigger.source) return false;
    return Object.entries(on.alert.match).every(([label, m]) =>
      labelMatches(m, trigger.labels[label]),
    );
  }
  if ('event' in on) {
    if (trigger.kind !== 'event') return false;
    const source = trigger.source === 'events' ? trigger.labels.source : trigger.source;
    return source === on.event.source && (!on.event.type || on.event.type === trigger.eventType);
  }
  return (
    trigger.source === 'cron' &&
    trigger.labels.playbook === playbook &&
    trigger.labels.cron === on.cron
  );
}

/**
 * @example
 * playbookMatches(playbook, trigger) // true if any `spec.on` entry matches
 */
export function playbookMatches(playbook: Playbook, trigger: TriggerEvent): boolean {
  return playbook.spec.on.some((on) => onMatches(on, trigger, playbook.metadata.name));
}
