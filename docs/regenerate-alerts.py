#!/usr/bin/env python3
"""Refresh the JSON examples in docs/alerts.md from real output on the fixtures.

Run from the repository root after a detector changes its output:
    cargo build && python3 docs/regenerate-alerts.py
crates/cli/tests/docs.rs fails while any example differs from what the code produces.
"""
import json, re, subprocess

out = subprocess.run(
    ["./target/debug/snaptrail", "hunt", "--no-state", "--config", "tests/data/snaptrail.toml", "--format", "jsonl",
     "tests/data/seed", "tests/data/aws", "tests/data/gcp", "tests/data/azure"],
    capture_output=True, text=True)
alerts = [json.loads(l) for l in out.stdout.splitlines()]
doc = open("docs/alerts.md").read()

def replace(match):
    name = match.group(1)
    example = next(a for a in alerts if a["detector"] == name)
    return f"### `{name}`{match.group(2)}```json\n{json.dumps(example, indent=1)}\n```\n"

doc = re.sub(r"### `([^`]+)`(\n\n[^\n]*\n+)```json\n.*?\n```\n", replace, doc, flags=re.S)
open("docs/alerts.md", "w").write(doc)
