import { describe, expect, it } from 'vitest';
import { toMessage } from '../../src/protocol/schema';

const text = (seq: number) => ({ seq, from: 'bob', subject: 'news', text: `t${seq}`, at: 1000 + seq });

describe('toMessage', () => {
  it('checks every element of a list field and keeps only the fields its spec names', () => {
    const m = toMessage({ type: 'RETRIEVED', rq: 1, name: 'ann', texts: [text(1), { ...text(2), extra: 'x' }], more: false });
    expect(m).toEqual({ type: 'RETRIEVED', rq: 1, name: 'ann', texts: [text(1), text(2)], more: false });
    const who = toMessage({ type: 'WHO-LIST', rq: 2, name: 'ann', users: [{ name: 'bob', online: true }, { name: 'cy', online: false }] });
    expect(who).toMatchObject({ users: [{ name: 'bob', online: true }, { name: 'cy', online: false }] });
  });

  it('names the message type, the list element and its field in errors', () => {
    expect(() => toMessage({ type: 'PUBLISH', rq: 1, name: 'ann', subject: 'news' })).toThrow('field PUBLISH.text: is missing');
    expect(() => toMessage({ type: 'RETRIEVED', rq: 1, name: 'ann', texts: [text(1), { ...text(2), seq: -1 }], more: false }))
      .toThrow('field RETRIEVED.texts[1].seq: expected an integer');
    expect(() => toMessage({ type: 'WHO-LIST', rq: 1, name: 'ann', users: [{ name: 'bob', online: true }, { name: 'cy' }] }))
      .toThrow('field WHO-LIST.users[1].online: is missing');
    expect(() => toMessage({ type: 'TAKEOVER', from: 'A', epoch: 3, ring: [{ tag: 'A', host: 'h', port: 0 }] }))
      .toThrow('field TAKEOVER.ring[0].port: port 0 is not an address');
  });
});
