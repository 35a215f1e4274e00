"""The corpus as scenarios: every `corpus/*.bpmn`, with its optional `NAME.json` sidecar."""
from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from tests.differential.harness import Scenario

CORPUS = Path(__file__).resolve().parent / "corpus"
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def load(path: Path) -> Scenario:
    side = path.with_suffix(".json")
    sidecar = json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
    files = {name: (CORPUS / name).read_bytes() for name in sidecar.get("files", [])}
    files[path.name] = path.read_bytes()
    process = sidecar.get("process") or etree.fromstring(files[path.name]).find("bpmn:process", BPMN_NS).get("id")
    return Scenario(name=path.stem, files=files, process=process, variables=sidecar.get("variables", {}),
                    steps=sidecar.get("steps"), data=sidecar.get("data", {}),
                    raw_parser=sidecar.get("raw_parser", "camunda"), xfail=sidecar.get("xfail"))


def corpus_scenarios() -> list[Scenario]:
    return [load(path) for path in sorted(CORPUS.glob("*.bpmn"))]
