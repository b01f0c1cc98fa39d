"""records.py - the compact trace file (format version 2, records.h) read
from Python, for the tests and the benchmarks: independently of the
viewer's C reader, so each checks the other.

A record is [u8 type][varint n][n bytes of payload] after the 4096-byte
header; numbers are LEB128 varints.
"""

HEADER_SIZE = 4096
EVENT, STACK, STRING, LOSS = 1, 2, 3, 4


def varint(data, i):
    """LEB128 at data[i]: (value, next index)."""
    v = shift = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def records(data, start=HEADER_SIZE):
    """(type, payload) of each whole record from `start`: a torn tail or
    a zero type (damage) ends it."""
    i = start
    while i < len(data):
        kind = data[i]
        try:
            n, j = varint(data, i + 1)
        except IndexError:
            return
        if kind == 0 or j + n > len(data):
            return
        yield kind, data[j:j + n]
        i = j + n
