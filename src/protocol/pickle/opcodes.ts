/**
 * The pickle opcodes rss reads or writes: exactly those Python's
 * `pickle.dumps` emits for dicts, lists, str, int, bool and None at protocols
 * 2 to 4 (checked against CPython 3.11 with pickletools). Every other opcode
 * (GLOBAL, REDUCE, BUILD, STACK_GLOBAL, INST, OBJ, NEWOBJ, PERSID, EXT*,
 * floats, bytes, tuples, protocol 5 buffers ...) is absent on purpose: the
 * reader rejects what is not in this table.
 */
export const OP = {
  PROTO: 0x80,
  FRAME: 0x95,
  STOP: 0x2e, // '.'
  MARK: 0x28, // '('
  EMPTY_DICT: 0x7d, // '}'
  EMPTY_LIST: 0x5d, // ']'
  SETITEM: 0x73, // 's'
  SETITEMS: 0x75, // 'u'
  APPEND: 0x61, // 'a'
  APPENDS: 0x65, // 'e'
  MEMOIZE: 0x94,
  BINPUT: 0x71, // 'q'
  LONG_BINPUT: 0x72, // 'r'
  BINGET: 0x68, // 'h'
  LONG_BINGET: 0x6a, // 'j'
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE: 0x58, // 'X'
  BININT: 0x4a, // 'J'
  BININT1: 0x4b, // 'K'
  BININT2: 0x4d, // 'M'
  /** Python emits LONG1 for ints outside the signed 32-bit range (e.g. RQ# >= 2**31). */
  LONG1: 0x8a,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  NONE: 0x4e, // 'N'
} as const;

/** Names of opcodes that are refused, so an error names what an attacker tried (diagnostics only). */
export const REFUSED_NAMES: Readonly<Record<number, string>> = {
  0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x62: 'BUILD', 0x69: 'INST',
  0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x50: 'PERSID', 0x51: 'BINPERSID',
  0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER', 0x47: 'BINFLOAT', 0x74: 'TUPLE', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x29: 'EMPTY_TUPLE', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8b: 'LONG4', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x32: 'DUP', 0x30: 'POP', 0x31: 'POP_MARK',
  0x64: 'DICT', 0x6c: 'LIST', 0x67: 'GET', 0x70: 'PUT', 0x49: 'INT', 0x4c: 'LONG',
  0x53: 'STRING', 0x55: 'SHORT_BINSTRING', 0x54: 'BINSTRING', 0x56: 'UNICODE', 0x46: 'FLOAT',
};
