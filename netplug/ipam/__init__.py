"""IPAM: a pure allocator over a Store protocol, a file-per-IP store (CNI host-local's layout)
and a subnet pool that skips routed subnets."""

from netplug.ipam.allocator import Range, allocate, make_range, release
from netplug.ipam.store import DiskStore, MemoryStore, Store

__all__ = ["DiskStore", "MemoryStore", "Range", "Store", "allocate", "make_range", "release"]
