"""Registries: filled once at start-up, refusing duplicate keys (naming both owners), then frozen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from ze.core.errors import RegistryError

K = TypeVar("K")
V = TypeVar("V")


class Registry(Generic[K, V]):
    __slots__ = ("_frozen", "_items", "_owners", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: dict[K, V] = {}
        self._owners: dict[K, str] = {}
        self._frozen = False

    def register(self, key: K, value: V, owner: str = "core") -> None:
        if self._frozen:
            raise RegistryError(f"{self.name}: registry is frozen; {owner} registered {key!r} too late")
        if key in self._items:
            raise RegistryError(
                f"{self.name}: {key!r} registered twice, by {self._owners[key]} and by {owner}"
            )
        self._items[key] = value
        self._owners[key] = owner

    def freeze(self) -> Registry[K, V]:
        self._frozen = True
        return self

    @property
    def frozen(self) -> bool:
        return self._frozen

    def get(self, key: K, default: V | None = None) -> V | None:
        return self._items.get(key, default)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self):
        return self._items.items()

    def values(self):
        return self._items.values()

    def owner(self, key: K) -> str:
        return self._owners[key]
