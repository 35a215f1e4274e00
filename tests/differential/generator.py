"""Random well-structured BPMN (hypothesis): blocks with one entry and one exit, nested.

block := user task | script | sequence of blocks | parallel split/join of blocks
       | exclusive split/join (conditions on data, a default flow) | embedded subprocess
       | multi-instance user task or subprocess over `items` (parallel or sequential)

Scripts change data deterministically, also in place in nested structures shared between
tasks (`state`, the items of `items`), which is where a live workflow and one read back from
its saved JSON could part ways. Every choice is drawn by hypothesis, so failures shrink.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.differential.bpmn_builder import MI, Container, Definitions
from tests.differential.harness import Scenario

START_VARIABLES = {"n": 3, "acc": [], "state": {"hits": 0, "log": []},
                   "items": [{"k": 1, "tags": []}, {"k": 2, "tags": []}, {"k": 3, "tags": []}]}

SCRIPTS = [  # {id} is replaced by the element id
    "v_{id} = n * 2 + len(acc)",
    "acc = acc + ['{id}']",
    "state['hits'] = state['hits'] + 1\nstate['log'].append('{id}')",
    "items[0]['tags'].append('{id}')",
    "n = n + 1",
    "last = '{id}'\nstate['last'] = last",
]
CONDITIONS = ["n % 2 == 0", "state['hits'] > 0", "len(acc) > 1", "answer is not None and answer.endswith('1')"]
ITEM_SCRIPTS = ["item['done'] = item['k'] * 10", "item['tags'].append('in')\nstate['hits'] = state['hits'] + 1"]


@dataclass
class Block:
    kind: str
    children: tuple["Block", ...] = ()
    param: Any = None


def blocks(max_leaves: int = 12) -> st.SearchStrategy[Block]:
    leaf = st.one_of(
        st.just(Block("user")),
        st.sampled_from(range(len(SCRIPTS))).map(lambda i: Block("script", param=i)),
        st.tuples(st.booleans(), st.sampled_from(range(len(ITEM_SCRIPTS))), st.booleans()).map(
            lambda t: Block("mi", param=t)),
    )

    def extend(inner: st.SearchStrategy[Block]) -> st.SearchStrategy[Block]:
        many = st.lists(inner, min_size=2, max_size=3).map(tuple)
        return st.one_of(
            many.map(lambda c: Block("seq", c)),
            many.map(lambda c: Block("parallel", c)),
            st.tuples(many, st.sampled_from(range(len(CONDITIONS)))).map(lambda t: Block("exclusive", t[0], t[1])),
            inner.map(lambda c: Block("sub", (c,))),
        )
    return st.recursive(leaf, extend, max_leaves=max_leaves)


class _Writer:
    def __init__(self) -> None:
        self.count = 0

    def new_id(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def emit(self, c: Container, block: Block) -> tuple[str, str]:
        """Add `block` to `c`; return its (entry, exit) node ids."""
        if block.kind == "user":
            node = self.new_id("User")
            c.user(node)
            return node, node
        if block.kind == "script":
            node = self.new_id("Script")
            c.script(node, SCRIPTS[block.param].format(id=node))
            return node, node
        if block.kind == "mi":
            sequential, script, as_sub = block.param
            node = self.new_id("Each")
            loop = MI(sequential=sequential, collection="items", element="item")
            if as_sub:
                sub = c.subprocess(node, loop=loop)
                s, u, sc, e = (self.new_id(k) for k in ("S", "ItemUser", "ItemScript", "E"))
                sub.start(s); sub.user(u); sub.script(sc, ITEM_SCRIPTS[script]); sub.end(e)
                sub.chain(s, u, sc, e)
            else:
                c.user(node, loop=loop)
            return node, node
        if block.kind == "seq":
            ends = [self.emit(c, child) for child in block.children]
            for (_, a), (b, _) in zip(ends, ends[1:]):
                c.flow(a, b)
            return ends[0][0], ends[-1][1]
        if block.kind == "sub":
            node = self.new_id("Sub")
            sub = c.subprocess(node)
            s, e = self.new_id("S"), self.new_id("E")
            sub.start(s); sub.end(e)
            first, last = self.emit(sub, block.children[0])
            sub.flow(s, first); sub.flow(last, e)
            return node, node
        kind = "parallel" if block.kind == "parallel" else "exclusive"
        split, join = self.new_id("Split"), self.new_id("Join")
        ends = [self.emit(c, child) for child in block.children]
        default = f"F_{split}_default" if kind == "exclusive" else None
        c.gateway(kind, split, default=default)
        c.gateway(kind, join)
        for i, (first, last) in enumerate(ends):
            if kind == "exclusive" and i == len(ends) - 1:
                c.flow(split, first, id=default)
            elif kind == "exclusive":
                c.flow(split, first, CONDITIONS[block.param] if i == 0 else f"not ({CONDITIONS[block.param]}) and n > {i}")
            else:
                c.flow(split, first)
            c.flow(last, join)
        return split, join


def scenario_for(block: Block) -> Scenario:
    """A deployable one-process BPMN for `block`, named by its content (stable across runs)."""
    digest = hashlib.sha1(repr(block).encode()).hexdigest()[:10]
    name = f"gen_{digest}"
    d = Definitions(name)
    p = d.process(name)
    writer = _Writer()
    p.start("StartEvent")
    p.script("Prepare", "answer = None")
    first, last = writer.emit(p, block)
    p.end("EndEvent")
    p.flow("StartEvent", "Prepare"); p.flow("Prepare", first); p.flow(last, "EndEvent")
    return Scenario(name=name, files={f"{name}.bpmn": d.xml()}, process=name,
                    variables={k: (v.copy() if isinstance(v, (dict, list)) else v) for k, v in START_VARIABLES.items()},
                    max_steps=60)
