"""The block registry: a continuous-depth block is one `nn.Module` class registered by name."""

from __future__ import annotations

from torch import nn

BLOCKS: dict[str, type[nn.Module]] = {}


def register_block(cls):
    BLOCKS[cls.name] = cls
    return cls


def available_blocks() -> list[str]:
    return sorted(BLOCKS)
