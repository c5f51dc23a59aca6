import { describe, expect, it } from 'vitest';
import { approvalClick, callerOf, commandText } from './teams-activity.js';

const from = { id: '29:1alice', aadObjectId: 'aad-alice', name: 'Alice' };

describe('callerOf', () => {
  it('identifies the caller by AAD object id and conversation tenant', () => {
    const caller = callerOf({
      from,
      conversation: {
        id: '19:ops',
        tenantId: 'tid-1',
        isGroup: true,
        conversationType: '',
        name: '',
      },
    });
    expect(caller).toEqual({
      identity: { platform: 'teams', actor: 'teams:aad-alice', workspace: 'tid-1', name: 'Alice' },
    });
  });

  it('falls back to channelData.tenant.id when the conversation has no tenant', () => {
    const caller = callerOf({ from, channelData: { tenant: { id: 'tid-2' } } });
    expect(caller).toMatchObject({ identity: { workspace: 'tid-2' } });
  });

  it('refuses a caller without an AAD object id, whatever name it shows', () => {
    const caller = callerOf({
      from: { id: '29:guest', name: 'teams:aad-alice' },
      channelData: { tenant: { id: 'tid-1' } },
    });
    expect(caller).toHaveProperty('refused');
  });

  it('refuses an activity that names no tenant', () => {
    expect(callerOf({ from, channelData: { tenant: { id: 42 } } })).toHaveProperty('refused');
  });
});

describe('commandText', () => {
  it('strips mentions, non-breaking spaces and the playbook prefix', () => {
    expect(commandText('<at>Warden</at>&nbsp;playbook  simulate restart-ingest shard=7 ')).toBe(
      'simulate restart-ingest shard=7',
    );
    expect(commandText('/playbook list')).toBe('list');
    expect(commandText('<at>Warden Bot</at> kill on')).toBe('kill on');
  });

  it('keeps words that only start like the prefix', () => {
    expect(commandText('playbooks')).toBe('playbooks');
  });

  it('answers an empty command for a bare mention', () => {
    expect(commandText('<at>Warden</at>')).toBe('');
    expect(commandText(undefined)).toBe('');
  });
});

describe('approvalClick', () => {
  it('reads the verb and ticket of an Action.Execute invoke', () => {
    const click = approvalClick({
      type: 'invoke',
      name: 'adaptiveCard/action',
      value: { action: { type: 'Action.Execute', verb: 'approve', data: { ticket: 't1' } } },
    });
    expect(click).toEqual({ verb: 'approve', ticket: 't1' });
  });

  it('reads the Action.Submit fallback message', () => {
    const click = approvalClick({
      type: 'message',
      value: { warden: 'approval', verb: 'reject', ticket: 't2' },
    });
    expect(click).toEqual({ verb: 'reject', ticket: 't2' });
  });

  it('ignores unknown verbs, missing tickets and other activities', () => {
    const invoke = (action: unknown) =>
      approvalClick({ type: 'invoke', name: 'adaptiveCard/action', value: { action } });
    expect(invoke({ verb: 'delete', data: { ticket: 't1' } })).toBeUndefined();
    expect(invoke({ verb: 'approve', data: { ticket: 7 } })).toBeUndefined();
    expect(invoke({ verb: 'approve' })).toBeUndefined();
    expect(approvalClick({ type: 'message', value: { verb: 'approve', ticket: 't1' } })).toBe(
      undefined,
    );
  });
});
