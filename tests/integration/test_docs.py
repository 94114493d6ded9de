"""The README's picture of the compose cluster is made from its text source
(docs/compose.dot, `make docs`) and shows every service of the compose
file."""
import html
import re
import subprocess

import yaml

from conftest import ROOT

DOT = ROOT / "docs" / "compose.dot"
SVG = ROOT / "docs" / "compose.svg"


def texts(svg):
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_the_picture_is_rendered_from_its_source():
    made = subprocess.run(["dot", "-Tsvg", str(DOT)], capture_output=True, text=True, check=True, timeout=60).stdout
    assert texts(SVG.read_text()) == texts(made), "docs/compose.svg is not docs/compose.dot rendered: run make docs"
    assert "docs/compose.svg" in (ROOT / "README.md").read_text()


def test_the_picture_shows_every_compose_service_and_published_port():
    compose = yaml.safe_load((ROOT / "compose" / "docker-compose.yml").read_text())
    nodes = set(re.findall(r"^\s*([\w-]+) \[label=", DOT.read_text(), re.M))
    labels = " ".join(texts(SVG.read_text()))
    for service, spec in compose["services"].items():
        assert service.replace("-", "") in nodes, f"service {service} is not in docs/compose.dot"
        for port in spec.get("ports", []):
            assert ":" + port.split(":")[-1] in labels, f"{service}'s port {port} is not in the picture"
    assert "flink-data" in labels
