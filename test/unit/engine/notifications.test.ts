/**
 * The oslo notification format as the in-process bus records it: what a
 * consumer (Ceilometer, an audit service) would read off RabbitMQ.
 */
import { describe, expect, it } from 'vitest';
import { makeNotification } from '../../../services/common/rpc/envelope.js';
import { InProcessTransport } from '../../../services/common/rpc/inprocess.js';

const ctx = {
  requestId: 'req-1',
  userId: 'u1',
  projectId: 'p1',
  roles: ['member'],
  isAdminProject: false,
};

describe('notifications', () => {
  it('builds an oslo notification with the context at the top level and an upper-case priority', () => {
    const when = new Date('2026-11-26T07:08:09.123Z');
    const n = makeNotification(
      'dragon-engine.h1',
      'dragon.checkpoint.create.end',
      'info',
      { a: 1 },
      {
        project_id: 'p1',
      },
      when,
    );
    expect(n).toMatchObject({
      publisher_id: 'dragon-engine.h1',
      event_type: 'dragon.checkpoint.create.end',
      priority: 'INFO',
      payload: { a: 1 },
      timestamp: '2026-11-26 07:08:09.123000',
      _context_project_id: 'p1',
    });
    expect(n.message_id).not.toBe(makeNotification('x', 'y', 'info', {}, {}).message_id);
  });

  it('records what is sent on the in-process bus, oldest first, as JSON would carry it', async () => {
    const t = new InProcessTransport();
    await t.notify('dragon.checkpoint.create.start', { checkpoint_id: 'c1' }, ctx, 'info', 'dragon-engine.h');
    await t.notify('dragon.checkpoint.create.error', { checkpoint_id: 'c1', error: 'boom' }, ctx, 'error');
    expect(t.notifications.map((n) => [n.event_type, n.priority])).toEqual([
      ['dragon.checkpoint.create.start', 'INFO'],
      ['dragon.checkpoint.create.error', 'ERROR'],
    ]);
    expect(t.notifications[0].publisher_id).toBe('dragon-engine.h');
    expect(t.notifications[1].publisher_id).toMatch(/^dragon-engine\./);
    expect(t.notifications[1]._context_user_id).toBe('u1');
  });
});
