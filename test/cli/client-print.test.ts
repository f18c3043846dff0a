/** The result printing shared by the one-shot commands and the menu. */
import { describe, expect, it } from 'vitest';
import { printRetrieved, printSubjects, printWho } from '../../src/cli/client-actions';
import { Printer } from '../../src/cli/client-output';
import { memoryIo } from '../helpers/memory-io';

const printer = (json = false) => {
  const m = memoryIo({ NO_COLOR: '1' });
  return { m, p: new Printer(m.io, json) };
};
const flushed = () => new Promise((r) => setImmediate(r));

describe('client result printing', () => {
  it('says an empty list is empty only when asked (the menu), never in JSON', async () => {
    const cases: [(p: Printer, sayNone: boolean) => void, string][] = [
      [(p, say) => printRetrieved(p, { type: 'RETRIEVED', rq: 1, name: 'alice', texts: [], more: false }, say), '(no texts)\n'],
      [(p, say) => printWho(p, { type: 'WHO-LIST', rq: 1, name: 'alice', users: [] }, say), '(nobody shares a subject)\n'],
    ];
    for (const [print, note] of cases) {
      const quiet = printer();
      print(quiet.p, false);
      const told = printer();
      print(told.p, true);
      await flushed();
      expect(quiet.m.out()).toBe('');
      expect(told.m.out()).toBe(note);
    }
    const json = printer(true);
    printRetrieved(json.p, { type: 'RETRIEVED', rq: 1, name: 'alice', texts: [], more: false }, true);
    await flushed();
    expect(json.m.out()).toBe('');
  });

  it('a pushed text names its recipient only when asked (a menu acting for several users); JSON always carries it', async () => {
    const t = { seq: 7, from: 'ann', subject: 'news', text: 'hello', at: 1, to: 'kim' };
    const { m, p } = printer();
    p.text(t);
    p.text(t, true);
    const json = printer(true);
    json.p.text(t, true);
    await flushed();
    expect(m.out()).toBe('[news] ann: hello\n[news] ann: hello (for kim)\n');
    expect(JSON.parse(json.m.out())).toMatchObject({ type: 'TEXT', to: 'kim', seq: 7 });
  });

  it('prints lists and results the same way for both', async () => {
    const { m, p } = printer();
    printWho(p, { type: 'WHO-LIST', rq: 1, name: 'alice', users: [{ name: 'bob', online: true }, { name: 'carol', online: false }] }, true);
    printSubjects(p, { type: 'SUBJECTS-UPDATED', rq: 2, name: 'alice', subjects: [] }, 'alice');
    await flushed();
    expect(m.out()).toBe('bob online\ncarol offline\nalice follows no subjects\n');
  });
});
