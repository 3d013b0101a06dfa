"""Aggregates are spread over 64 shards; drain partitions own disjoint sets of them."""

import zlib

SHARDS = 64


def shard_of(aggregate_type: str, aggregate_id: str) -> int:
    return zlib.crc32(f"{aggregate_type}:{aggregate_id}".encode()) % SHARDS
