/** The legacy dialects every server speaks, by name. */
import type { Dialect } from './dialect';
import { pickleDialect } from './pickle/dialect';
import { textDialect } from './text';

export const legacyDialects: Record<'text' | 'pickle', Dialect> = { text: textDialect, pickle: pickleDialect };
