"""Parses Prometheus text exposition (stdin) with prometheus_client's parser and prints it normalised: one line
per family ("family NAME TYPE") and per sample ("NAME{labels sorted} VALUE"). Run by Debian's /usr/bin/python3
(python3-prometheus-client); a parse error exits non-zero."""
import sys

from prometheus_client.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    print(f"family {family.name} {family.type}")
    for sample in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
        print(f"{sample.name}{{{labels}}} {sample.value!r}")
