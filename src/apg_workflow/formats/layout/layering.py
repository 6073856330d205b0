"""Sugiyama-style layering of a directed graph on integer vertices.

1. cycles are broken: the edges a depth-first search from the roots finds going back to a vertex
   on its stack are reversed (for layering only);
2. every vertex gets the layer of the longest path reaching it;
3. edges spanning several layers get one dummy vertex per layer crossed, which reserves them a row;
4. a few barycenter sweeps order each layer to reduce crossings (the best order seen is kept);
5. rows: each vertex takes the median row of its predecessors, pushed down below the vertex
   above it in its layer.

Pure graph code: :mod:`.container` maps the flow nodes of a (sub-)process onto it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, pairwise

SWEEPS = 4  # down + up sweep pairs


@dataclass(frozen=True, slots=True)
class Link:
    """A directed edge. ``below`` > 0: it leaves a boundary event, so its target prefers the rows
    under the source; the higher ``below``, the lower among the source's other successors."""

    source: int
    target: int
    below: int = 0

    @property
    def bias(self) -> float:
        """What the link adds to its source's position in its target's barycenter: 0, then ½, ⅔, …"""
        return self.below / (self.below + 1)


@dataclass(slots=True)
class Layering:
    """The result. Vertices ``0 .. count-1`` are the caller's; higher ones are dummies."""

    layer: list[int]  # per vertex
    row: list[int]  # per vertex, compact (0 .. rows-1), strictly increasing within a layer
    layers: list[list[int]]  # the vertices of each layer, top to bottom
    chains: list[list[int]]  # per link: source, dummies…, target; empty for a back link
    back: list[bool]  # per link: it closes a cycle (self-loops included)

    @property
    def row_count(self) -> int:
        return max(self.row, default=-1) + 1


Adjacency = list[list[tuple[int, float]]]  # per vertex: (neighbour, barycenter bias)


def layer_graph(count: int, links: Sequence[Link], roots: Sequence[int]) -> Layering:
    """Lay out ``count`` vertices joined by ``links``; the depth-first search starts at ``roots``."""
    back, rank = _break_cycles(count, links, roots)
    layer = _longest_path(count, links, back, rank)
    preds: Adjacency = [[] for _ in range(count)]
    succs: Adjacency = [[] for _ in range(count)]
    chains: list[list[int]] = []
    sort_key = list(rank)
    for index, link in enumerate(links):
        if back[index]:
            chains.append([])
            continue
        path = [link.source]
        for crossed in range(layer[link.source] + 1, layer[link.target]):
            path.append(len(layer))
            layer.append(crossed)
            sort_key.append(rank[link.target])  # long edges start under the nodes they skip
            preds.append([])
            succs.append([])
        path.append(link.target)
        for step, (a, b) in enumerate(pairwise(path)):
            bias = link.bias if step == 0 else 0.0
            succs[a].append((b, 0.0))
            preds[b].append((a, bias))
        chains.append(path)
    layers: list[list[int]] = [[] for _ in range(max(layer, default=-1) + 1)]
    for vertex in sorted(range(len(layer)), key=lambda v: (sort_key[v], v)):
        layers[layer[vertex]].append(vertex)
    layers = _order(layers, preds, succs)
    row = _rows(layers, preds)
    return Layering(layer=layer, row=row, layers=layers, chains=chains, back=back)


def _break_cycles(count: int, links: Sequence[Link], roots: Sequence[int]) -> tuple[list[bool], list[int]]:
    """Back links of an iterative depth-first search, and each vertex's discovery rank."""
    out: list[list[int]] = [[] for _ in range(count)]
    has_incoming = [False] * count
    for index, link in enumerate(links):
        out[link.source].append(index)
        if link.source != link.target:
            has_incoming[link.target] = True
    state = [0] * count  # 0 unseen, 1 on the stack, 2 done
    rank = [0] * count
    back = [False] * len(links)
    seen = 0
    sources = (v for v in range(count) if not has_incoming[v])
    for start in chain(roots, sources, range(count)):
        if state[start]:
            continue
        state[start], rank[start], seen = 1, seen, seen + 1
        stack = [(start, 0)]
        while stack:
            vertex, next_out = stack[-1]
            if next_out == len(out[vertex]):
                state[vertex] = 2
                stack.pop()
                continue
            stack[-1] = (vertex, next_out + 1)
            index = out[vertex][next_out]
            target = links[index].target
            if state[target] == 1:
                back[index] = True
            elif state[target] == 0:
                state[target], rank[target], seen = 1, seen, seen + 1
                stack.append((target, 0))
    return back, rank


def _longest_path(count: int, links: Sequence[Link], back: list[bool], rank: list[int]) -> list[int]:
    """Layer = length of the longest path reaching the vertex, back links reversed."""
    succs: list[list[int]] = [[] for _ in range(count)]
    indegree = [0] * count
    for index, link in enumerate(links):
        if link.source == link.target:
            continue
        a, b = (link.target, link.source) if back[index] else (link.source, link.target)
        succs[a].append(b)
        indegree[b] += 1
    layer = [0] * count
    ready = deque(sorted((v for v in range(count) if indegree[v] == 0), key=rank.__getitem__))
    while ready:
        vertex = ready.popleft()
        for succ in succs[vertex]:
            layer[succ] = max(layer[succ], layer[vertex] + 1)
            indegree[succ] -= 1
            if indegree[succ] == 0:
                ready.append(succ)
    return layer


def _order(layers: list[list[int]], preds: Adjacency, succs: Adjacency) -> list[list[int]]:
    """Barycenter sweeps down and up; the order with the fewest crossings seen wins."""
    position = [0] * len(preds)
    _index(layers, position)
    best = [list(layer) for layer in layers]
    best_crossings = _crossings(layers, succs, position)
    for _ in range(SWEEPS):
        if best_crossings == 0:
            break
        for indices, neighbours in ((range(1, len(layers)), preds), (range(len(layers) - 2, -1, -1), succs)):
            for index in indices:
                layers[index] = _barycenter_sorted(layers[index], neighbours, position)
                _index([layers[index]], position)
            crossings = _crossings(layers, succs, position)
            if crossings < best_crossings:
                best, best_crossings = [list(layer) for layer in layers], crossings
    return best


def _barycenter_sorted(layer: list[int], neighbours: Adjacency, position: list[int]) -> list[int]:
    def key(vertex: int) -> tuple[float, int]:
        around = neighbours[vertex]
        if not around:
            return (position[vertex], position[vertex])
        return (sum(position[n] + bias for n, bias in around) / len(around), position[vertex])

    return sorted(layer, key=key)


def _index(layers: list[list[int]], position: list[int]) -> None:
    for layer in layers:
        for place, vertex in enumerate(layer):
            position[vertex] = place


def _crossings(layers: list[list[int]], succs: Adjacency, position: list[int]) -> int:
    """Edge crossings between adjacent layers: inversions of the targets' positions (Fenwick tree)."""
    total = 0
    for upper, lower in pairwise(layers):
        tree = [0] * (len(lower) + 1)
        placed = 0
        for vertex in upper:
            for target in sorted(position[succ] for succ, _ in succs[vertex]):
                not_above = 0  # targets placed so far at positions <= target
                i = target + 1
                while i > 0:
                    not_above += tree[i]
                    i -= i & -i
                total += placed - not_above
                i = target + 1
                while i <= len(lower):
                    tree[i] += 1
                    i += i & -i
                placed += 1
    return total


def _rows(layers: list[list[int]], preds: Adjacency) -> list[int]:
    """Each vertex on the median row of its predecessors (a row lower after a boundary event), but
    below the vertex above it; rows then renumbered without gaps."""
    row = [0] * len(preds)
    for layer in layers:
        previous = -1
        for vertex in layer:
            wanted = sorted(row[pred] + (1 if bias else 0) for pred, bias in preds[vertex])
            desired = wanted[(len(wanted) - 1) // 2] if wanted else 0
            row[vertex] = previous = max(desired, previous + 1)
    compact = {used: index for index, used in enumerate(sorted(set(row)))}
    return [compact[r] for r in row]
