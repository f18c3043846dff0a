#!/usr/bin/env python3
"""Generate the pickle-dialect fixtures for rss's tests.

Real bytes from CPython's own pickle module, as a pickle-dialect client makes them:
pickle.dumps(dict) at protocol 4 (Python 3.8-3.13 default), plus a few at
protocols 2, 3 and 5 (Python 3.14's default). Writes, under test/fixtures/pickle/:

  requests.json   {name, protocol, hex, dict, expected}: valid requests and the
                  rss Request each must decode to
  rejected.json   {name, hex, code, partial?}: pickles that the dialect must
                  refuse with that ProtocolError code (and partial, when set)

Run from the repository root:  python3 scripts/make-pickle-fixtures.py
Output is deterministic, so re-running it gives the committed files.
"""
import json
import os
import pickle
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'pickle')

requests = []
rejected = []


def add(name, d, expected, protocol=4):
    data = pickle.dumps(d, protocol=protocol)
    assert pickle.loads(data) == d
    requests.append({'name': name, 'protocol': protocol, 'hex': data.hex(), 'dict': d, 'expected': expected})


def reject(name, obj, code, partial=None, protocol=4):
    entry = {'name': name, 'hex': pickle.dumps(obj, protocol=protocol).hex(), 'code': code}
    if partial is not None:
        entry['partial'] = partial
    rejected.append(entry)


def reg(rq, name='alice', ip='127.0.0.1', port=5001):
    return {'TYPE': 'REGISTER', 'RQ#': rq, 'NAME': name, 'IP': ip, 'PORT': port}


def reg_expected(rq, name='alice', host='127.0.0.1', port=5001):
    return {'type': 'REGISTER', 'rq': rq, 'name': name, 'host': host, 'port': port}


class Evil:
    """Pickling this only records a reference to os.system; nothing runs here."""

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def main():
    # --- every request type, as a pickle client sends it (protocol 4) ---
    add('initialization', {'TYPE': 'INITIALIZATION', 'MESSAGE': 'New Client!'}, {'type': 'INITIALIZATION'})
    add('register', reg(1), reg_expected(1))
    add('de-register', {'TYPE': 'DE-REGISTER', 'RQ#': 2, 'NAME': 'alice'},
        {'type': 'DE-REGISTER', 'rq': 2, 'name': 'alice'})
    add('update-socket', {'TYPE': 'UPDATE-SOCKET', 'RQ#': 3, 'NAME': 'alice', 'IP': '10.0.0.7', 'PORT': 6000},
        {'type': 'UPDATE', 'rq': 3, 'name': 'alice', 'host': '10.0.0.7', 'port': 6000})
    add('subjects', {'TYPE': 'SUBJECTS', 'RQ#': 4, 'NAME': 'alice', 'SUBJECT-LIST': 'a,b,c'},
        {'type': 'SUBJECTS', 'rq': 4, 'name': 'alice', 'subjects': ['a', 'b', 'c']})
    add('publish', {'TYPE': 'PUBLISH', 'RQ#': 5, 'NAME': 'alice', 'SUBJECT': 'news', 'TEXT': 'hello world'},
        {'type': 'PUBLISH', 'rq': 5, 'name': 'alice', 'subject': 'news', 'text': 'hello world'})
    add('retrieve-texts', {'TYPE': 'RETRIEVE-TEXTS', 'RQ#': 6, 'NAME': 'alice'},
        {'type': 'RETRIEVE-TEXTS', 'rq': 6, 'name': 'alice'})
    add('end-connection', {'TYPE': 'END-CONNECTION', 'RQ#': 7, 'IP': '127.0.0.1', 'PORT': 5001},
        {'type': 'END-CONNECTION', 'rq': 7, 'host': '127.0.0.1', 'port': 5001})

    # --- other protocols ---
    add('register at protocol 2 (BINUNICODE, BINPUT)', reg(8), reg_expected(8), protocol=2)
    add('register at protocol 3', reg(9), reg_expected(9), protocol=3)
    add('publish at protocol 2', {'TYPE': 'PUBLISH', 'RQ#': 10, 'NAME': 'bob', 'SUBJECT': 's', 'TEXT': 't'},
        {'type': 'PUBLISH', 'rq': 10, 'name': 'bob', 'subject': 's', 'text': 't'}, protocol=2)
    add('register at protocol 5 (Python 3.14 default)', reg(11), reg_expected(11), protocol=5)

    # --- integers: every int opcode CPython picks ---
    add('RQ# 0 (BININT1)', reg(0), reg_expected(0))
    add('RQ# 300 (BININT2)', reg(300), reg_expected(300))
    add('RQ# 70000 (BININT)', reg(70000), reg_expected(70000))
    add('RQ# 2**31 (LONG1)', reg(2 ** 31), reg_expected(2 ** 31))
    add('RQ# 2**32-1, the largest (LONG1)', reg(2 ** 32 - 1), reg_expected(2 ** 32 - 1))
    add('PORT 65535', reg(12, port=65535), reg_expected(12, port=65535))

    # --- digit strings for RQ# and PORT ---
    add('PORT as str', reg(13, port='5002'), reg_expected(13, port=5002))
    add('RQ# as str', reg('14'), reg_expected(14))
    add('RQ# and PORT as str at protocol 2', reg('15', port='6001'), reg_expected(15, port=6001), protocol=2)

    # --- strings ---
    add('unicode name', reg(16, name='Zoë-李'), reg_expected(16, name='Zoë-李'))
    add('unicode text with astral characters',
        {'TYPE': 'PUBLISH', 'RQ#': 17, 'NAME': 'bob', 'SUBJECT': 'café', 'TEXT': 'héllo ✓ 🎉 — done'},
        {'type': 'PUBLISH', 'rq': 17, 'name': 'bob', 'subject': 'café', 'text': 'héllo ✓ 🎉 — done'})
    long_text = ''.join(chr(ord('a') + i % 26) for i in range(300))
    add('long text (BINUNICODE at protocol 4)',
        {'TYPE': 'PUBLISH', 'RQ#': 18, 'NAME': 'bob', 'SUBJECT': 'news', 'TEXT': long_text},
        {'type': 'PUBLISH', 'rq': 18, 'name': 'bob', 'subject': 'news', 'text': long_text})
    max_text = 'é' * 450  # 900 UTF-8 bytes: LIMITS.maxTextBytes
    add('text of exactly 900 bytes',
        {'TYPE': 'PUBLISH', 'RQ#': 19, 'NAME': 'bob', 'SUBJECT': 'news', 'TEXT': max_text},
        {'type': 'PUBLISH', 'rq': 19, 'name': 'bob', 'subject': 'news', 'text': max_text})
    add('empty text', {'TYPE': 'PUBLISH', 'RQ#': 20, 'NAME': 'bob', 'SUBJECT': 'news', 'TEXT': ''},
        {'type': 'PUBLISH', 'rq': 20, 'name': 'bob', 'subject': 'news', 'text': ''})
    shared = 'same'  # one object twice: CPython memoizes it and emits BINGET the second time
    add('shared string (BINGET)', {'TYPE': 'PUBLISH', 'RQ#': 21, 'NAME': shared, 'SUBJECT': shared, 'TEXT': 'x'},
        {'type': 'PUBLISH', 'rq': 21, 'name': 'same', 'subject': 'same', 'text': 'x'})

    # --- subject lists ---
    add('subjects with blanks and empty entries',
        {'TYPE': 'SUBJECTS', 'RQ#': 22, 'NAME': 'alice', 'SUBJECT-LIST': ' a , ,b,,c ,'},
        {'type': 'SUBJECTS', 'rq': 22, 'name': 'alice', 'subjects': ['a', 'b', 'c']})
    add('empty subject list', {'TYPE': 'SUBJECTS', 'RQ#': 23, 'NAME': 'alice', 'SUBJECT-LIST': ''},
        {'type': 'SUBJECTS', 'rq': 23, 'name': 'alice', 'subjects': []})
    add('one subject', {'TYPE': 'SUBJECTS', 'RQ#': 24, 'NAME': 'alice', 'SUBJECT-LIST': 'sports'},
        {'type': 'SUBJECTS', 'rq': 24, 'name': 'alice', 'subjects': ['sports']})

    # --- tolerated extras ---
    add('extra keys are ignored', {**reg(25), 'EXTRA': [1, None, True], 'MORE': {'k': False}}, reg_expected(25))
    add('one-key dict (SETITEM)', {'TYPE': 'INITIALIZATION'}, {'type': 'INITIALIZATION'})

    # --- well-formed pickles the dialect refuses ---
    reject('unknown TYPE', {'TYPE': 'REGISTER-SUCCESS', 'RQ#': 1}, 'RSS_UNKNOWN_TYPE')
    reject('canonical name instead of the pickle name', {'TYPE': 'UPDATE', 'RQ#': 1, 'NAME': 'a'}, 'RSS_UNKNOWN_TYPE')
    reject('no TYPE', {'RQ#': 1, 'NAME': 'a'}, 'RSS_UNKNOWN_TYPE')
    reject('top level is a list', ['REGISTER', 1], 'RSS_MALFORMED')
    reject('top level is a str', 'REGISTER', 'RSS_MALFORMED')
    reject('non-string key', {1: 'x', 'TYPE': 'INITIALIZATION'}, 'RSS_MALFORMED')
    reject('negative RQ#', reg(-1), 'RSS_MALFORMED')
    reject('RQ# above 2**32-1', reg(2 ** 32), 'RSS_MALFORMED')
    reject('RQ# beyond 64 bits (LONG1 of 9 bytes)', reg(2 ** 70), 'RSS_MALFORMED')
    reject('PORT 0', reg(26, port=0), 'RSS_MALFORMED', {'type': 'REGISTER', 'rq': 26, 'name': 'alice'})
    reject('PORT 70000', reg(27, port=70000), 'RSS_MALFORMED', {'type': 'REGISTER', 'rq': 27, 'name': 'alice'})
    reject('PORT not digits', reg(28, port='50a'), 'RSS_MALFORMED', {'type': 'REGISTER', 'rq': 28, 'name': 'alice'})
    reject('missing NAME', {'TYPE': 'DE-REGISTER', 'RQ#': 29}, 'RSS_MALFORMED', {'type': 'DE-REGISTER', 'rq': 29})
    reject('text of 901 bytes', {'TYPE': 'PUBLISH', 'RQ#': 30, 'NAME': 'bob', 'SUBJECT': 's', 'TEXT': 'x' * 901},
           'RSS_TOO_LARGE', {'type': 'PUBLISH', 'rq': 30, 'name': 'bob'})
    reject('SUBJECT-LIST as a list', {'TYPE': 'SUBJECTS', 'RQ#': 31, 'NAME': 'bob', 'SUBJECT-LIST': ['a', 'b']},
           'RSS_MALFORMED', {'type': 'SUBJECTS', 'rq': 31, 'name': 'bob'})
    reject('RQ# as a float (BINFLOAT)', reg(1.5), 'RSS_MALFORMED')
    reject('RQ# as bool (NEWTRUE is not an int here)', reg(True), 'RSS_MALFORMED')
    reject('a tuple value', {**reg(32), 'IP': ('127.0.0.1',)}, 'RSS_MALFORMED')
    reject('a bytes value', {**reg(33), 'NAME': b'alice'}, 'RSS_MALFORMED')
    reject('protocol 0 text pickle', reg(34), 'RSS_MALFORMED', protocol=0)
    reject('protocol 1', reg(35), 'RSS_MALFORMED', protocol=1)
    reject('object with __reduce__ (os.system), protocol 4: STACK_GLOBAL + REDUCE', {'TYPE': Evil()}, 'RSS_MALFORMED')
    reject('object with __reduce__ (os.system), protocol 2: GLOBAL + REDUCE', {'TYPE': Evil()}, 'RSS_MALFORMED',
           protocol=2)
    reject('bytearray at protocol 5 (BYTEARRAY8)', {'TYPE': bytearray(b'x')}, 'RSS_MALFORMED', protocol=5)
    reject('a set (EMPTY_SET, ADDITEMS)', {'TYPE': {'a'}}, 'RSS_MALFORMED')
    nested = 'x'
    for _ in range(16):
        nested = [nested]
    reject('17 levels of nesting', {**reg(36), 'X': nested}, 'RSS_TOO_LARGE')
    shared_list = [1]
    reject('shared list (BINGET of a container)', {**reg(37), 'A': shared_list, 'B': shared_list}, 'RSS_MALFORMED')
    recursive = []
    recursive.append(recursive)
    reject('recursive list', {**reg(38), 'A': recursive}, 'RSS_MALFORMED')

    os.makedirs(OUT, exist_ok=True)
    for fname, rows in (('requests.json', requests), ('rejected.json', rejected)):
        with open(os.path.join(OUT, fname), 'w', encoding='utf-8') as f:
            json.dump(rows, f, ensure_ascii=False, indent=1)
            f.write('\n')
    print(f'{len(requests)} requests, {len(rejected)} rejected (Python {sys.version.split()[0]})')


if __name__ == '__main__':
    main()
