"""Compiled kernels of the multi-index hash (numba, no GIL): building tables, radius search,
brute-force scans. Kept apart from `pdq_index` so the Python-level logic stays typed and readable.

Hashes are held as rows of four uint64 words, most significant bits first, so bit `k` of the hash
(counting from the first hex digit's top bit) is bit `63 - k % 64` of word `k // 64`.

A table covers a contiguous run of `width` bits of the hash (its substring). Its entries are
sorted by the substring's top `prefix_bits` bits (a direct-addressed offset array gives each
prefix's bucket); an entry is one uint32, the id shifted left past the substring's remaining low
bits, which fill the bottom. A probe visits one bucket per prefix within radius, reads each
entry once (one cache miss per bucket), and filters on the low bits before any full hash is read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types, uint64
from numba.core import cgutils
from numba.extending import intrinsic

_AHEAD = 16  # how many iterations ahead the search loops prefetch


@intrinsic
def _prefetch_intrinsic(typingctx: Any, array: Any, index: Any) -> Any:
    """Ask the processor to start loading `array[index]` into cache (LLVM's prefetch)."""
    signature = types.void(array, index)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        array_type = sig.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
            context, builder, array_type, view, [args[1]], wraparound=False
        )
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        # read, high temporal locality, data cache
        builder.call(
            function,
            [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)],
        )
        return context.get_dummy_value()

    return signature, codegen


_prefetch: Any = _prefetch_intrinsic


@njit(cache=True, nogil=True, boundscheck=False)
def substring(words: np.ndarray, row: int, start: int, width: int) -> np.int64:
    """Bits [start, start + width) of hash `row` as an integer (width <= 32)."""
    word = start >> 6
    offset = start & 63
    if offset + width <= 64:
        value = (words[row, word] >> uint64(64 - offset - width)) & uint64((1 << width) - 1)
    else:
        high_bits = 64 - offset
        low_bits = width - high_bits
        high = words[row, word] & uint64((1 << high_bits) - 1)
        low = words[row, word + 1] >> uint64(64 - low_bits)
        value = (high << uint64(low_bits)) | low
    return np.int64(value)


@njit(cache=True, nogil=True, boundscheck=False)
def build_table(
    words: np.ndarray,
    count: int,
    start: int,
    width: int,
    prefix_bits: int,
    offsets: np.ndarray,
    entries: np.ndarray,
) -> None:
    """Fill one table over hashes [0, count) in place: a counting sort on the prefix.

    `offsets` has 2**prefix_bits + 1 slots, `entries` (uint32) `count`; ids must fit in the
    32 - (width - prefix_bits) bits above the low bits.
    """
    low_bits = width - prefix_bits
    buckets = 1 << prefix_bits
    offsets[:] = 0
    for row in range(count):
        key = substring(words, row, start, width)
        offsets[(key >> low_bits) + 1] += 1
    for bucket in range(buckets):
        offsets[bucket + 1] += offsets[bucket]
    cursor = offsets[:-1].copy()
    mask = (1 << low_bits) - 1
    for row in range(count):
        key = substring(words, row, start, width)
        slot = key >> low_bits
        position = cursor[slot]
        cursor[slot] = position + 1
        entries[position] = (row << low_bits) | (key & mask)


@njit(cache=True, nogil=True, boundscheck=False)
def _popcount(value: int | np.int64) -> np.int64:
    """Set bits of a 64-bit word (SWAR; LLVM emits POPCNT where the CPU has it)."""
    x = uint64(value)
    x = x - ((x >> uint64(1)) & uint64(0x5555555555555555))
    x = (x & uint64(0x3333333333333333)) + ((x >> uint64(2)) & uint64(0x3333333333333333))
    x = (x + (x >> uint64(4))) & uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * uint64(0x0101010101010101)) >> uint64(56))


@njit(cache=True, nogil=True, boundscheck=False)
def _distance(words: np.ndarray, row: int, query: np.ndarray) -> np.int64:
    total = np.int64(0)
    for w in range(4):
        total += _popcount(words[row, w] ^ query[w])
    return total


@njit(cache=True, nogil=True, boundscheck=False)
def _probes(
    queries: np.ndarray,
    starts: np.ndarray,
    widths: np.ndarray,
    prefix_bits: np.ndarray,
    radii: np.ndarray,
    offset_base: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every bucket each query must visit: (query, table, bucket, low-bit budget, query low bits).

    The buckets of one table are those whose prefix is within the table's radius of the query's;
    what is left of the radius after the prefix bits is the budget for the low bits.
    """
    total = 0
    for t in range(len(starts)):
        if radii[t] < 0:
            continue
        visits = 0
        combinations = 1
        for flipped in range(min(radii[t], prefix_bits[t]) + 1):
            if flipped > 0:
                combinations = combinations * (prefix_bits[t] - flipped + 1) // flipped
            visits += combinations
        total += visits
    size = total * len(queries)
    probe_query = np.empty(size, dtype=np.int32)
    probe_table = np.empty(size, dtype=np.int32)
    probe_bucket = np.empty(size, dtype=np.int64)
    probe_budget = np.empty(size, dtype=np.int32)
    probe_low = np.empty(size, dtype=np.int64)
    flips = np.empty(64, dtype=np.int64)
    k = 0
    for q in range(len(queries)):
        for t in range(len(starts)):
            radius = radii[t]
            if radius < 0:
                continue
            pbits = prefix_bits[t]
            lbits = widths[t] - pbits
            key = substring(queries, q, starts[t], widths[t])
            qprefix = key >> lbits
            qlow = key & ((1 << lbits) - 1)
            for flipped in range(min(radius, pbits) + 1):
                for i in range(flipped):
                    flips[i] = i
                while True:
                    prefix = qprefix
                    for i in range(flipped):
                        prefix ^= np.int64(1) << flips[i]
                    probe_query[k] = q
                    probe_table[k] = t
                    probe_bucket[k] = offset_base[t] + prefix
                    probe_budget[k] = radius - flipped
                    probe_low[k] = qlow
                    k += 1
                    i = flipped - 1
                    while i >= 0 and flips[i] == pbits - flipped + i:
                        i -= 1
                    if i < 0:
                        break
                    flips[i] += 1
                    for j in range(i + 1, flipped):
                        flips[j] = flips[j - 1] + 1
    return probe_query, probe_table, probe_bucket, probe_budget, probe_low


@njit(cache=True, nogil=True, boundscheck=False)
def search_tables(
    words: np.ndarray,
    queries: np.ndarray,
    query_group: np.ndarray,
    threshold: int,
    starts: np.ndarray,
    widths: np.ndarray,
    prefix_bits: np.ndarray,
    radii: np.ndarray,
    offset_base: np.ndarray,
    offsets: np.ndarray,
    entries: np.ndarray,
    count: int,
    alive: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every indexed id within `threshold` of each query, as (group, id, distance) triples.

    Each query reports an id once (the first table whose probe reaches it); queries of the same
    group may report the same id (the caller keeps the smallest distance). Exact as long as
    sum(radii + 1) > threshold: a hash within the threshold is within its radius in some table.

    The work is done in passes over the whole batch (bucket bounds, then low-bit filtering, then
    verification), each a loop of independent memory reads, so the processor keeps many cache
    misses in flight instead of waiting for each one in turn.
    """
    probe_query, probe_table, probe_bucket, probe_budget, probe_low = _probes(
        queries, starts, widths, prefix_bits, radii, offset_base
    )
    probes = len(probe_query)
    begins = np.empty(probes, dtype=np.int64)
    ends = np.empty(probes, dtype=np.int64)
    for k in range(probes):
        if k + _AHEAD < probes:
            _prefetch(offsets, probe_bucket[k + _AHEAD])
        bucket = probe_bucket[k]
        begins[k] = offsets[bucket]
        ends[k] = offsets[bucket + 1]
    size = 0
    for k in range(probes):
        size += ends[k] - begins[k]
    cand_query = np.empty(size, dtype=np.int32)
    cand_table = np.empty(size, dtype=np.int32)
    cand_id = np.empty(size, dtype=np.int64)
    found = 0
    for k in range(probes):
        if k + _AHEAD < probes:
            _prefetch(entries, probe_table[k + _AHEAD] * count + begins[k + _AHEAD])
        table_base = probe_table[k] * count
        qlow = probe_low[k]
        budget = probe_budget[k]
        query = probe_query[k]
        table = probe_table[k]
        lbits = widths[table] - prefix_bits[table]
        mask = (np.int64(1) << lbits) - 1
        for position in range(table_base + begins[k], table_base + ends[k]):
            entry = np.int64(entries[position])
            # Branch-free: always write, advance only when the low bits are within budget.
            cand_query[found] = query
            cand_table[found] = table
            cand_id[found] = entry >> lbits
            found += _popcount((entry & mask) ^ qlow) <= budget
    distances = np.empty(found, dtype=np.int64)
    flat = words.reshape(-1)
    for c in range(found):
        if c + _AHEAD < found:
            _prefetch(flat, cand_id[c + _AHEAD] * 4)
        distances[c] = _distance(words, cand_id[c], queries[cand_query[c]])
    keep = np.zeros(found, dtype=np.bool_)
    hits = 0
    for c in range(found):
        if distances[c] > threshold:
            continue
        row = cand_id[c]
        q = cand_query[c]
        if not alive[row]:
            continue
        # Reported already if an earlier table's probe reached it too.
        seen = False
        for earlier in range(cand_table[c]):
            if radii[earlier] < 0:
                continue
            a = substring(words, row, starts[earlier], widths[earlier])
            b = substring(queries, q, starts[earlier], widths[earlier])
            if _popcount(a ^ b) <= radii[earlier]:
                seen = True
                break
        if not seen:
            keep[c] = True
            hits += 1
    out_group = np.empty(hits, dtype=np.int64)
    out_id = np.empty(hits, dtype=np.int64)
    out_distance = np.empty(hits, dtype=np.int64)
    h = 0
    for c in range(found):
        if keep[c]:
            out_group[h] = query_group[cand_query[c]]
            out_id[h] = cand_id[c]
            out_distance[h] = distances[c]
            h += 1
    return out_group, out_id, out_distance


@njit(cache=True, nogil=True, boundscheck=False)
def scan(
    words: np.ndarray,
    begin: int,
    end: int,
    queries: np.ndarray,
    query_group: np.ndarray,
    threshold: int,
    alive: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Brute force over rows [begin, end): (group, id, distance) within `threshold`, all pairs."""
    out_group = np.empty(16, dtype=np.int64)
    out_id = np.empty(16, dtype=np.int64)
    out_distance = np.empty(16, dtype=np.int64)
    found = 0
    for q in range(len(queries)):
        query = queries[q]
        for row in range(begin, end):
            if not alive[row]:
                continue
            distance = _distance(words, row, query)
            if distance <= threshold:
                if found == len(out_id):
                    out_group = np.concatenate((out_group, np.empty_like(out_group)))
                    out_id = np.concatenate((out_id, np.empty_like(out_id)))
                    out_distance = np.concatenate((out_distance, np.empty_like(out_distance)))
                out_group[found] = query_group[q]
                out_id[found] = row
                out_distance[found] = distance
                found += 1
    return out_group[:found], out_id[:found], out_distance[:found]
