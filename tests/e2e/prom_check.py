#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A strict parser for the Prometheus text exposition format (version 0.0.4).

    prom_check.py FILE [OUT.json]

Checks every line: HELP and TYPE (each at most once per family, both before the family's first
sample, TYPE one of counter/gauge/untyped/summary/histogram), sample syntax (metric and label
names, label values with only the \\\\, \\" and \\n escapes, a float value, an optional integer
timestamp), a family's samples contiguous, no duplicate series, no duplicate label in a sample,
counters named *_total and never negative, the text ending in a newline. Prints one line per
problem and exits 1 if there is any; otherwise writes {"name{a=\\"x\\",b=\\"y\\"}": value, ...}
(labels sorted) to OUT.json and prints "N families, N samples".
"""
import json
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "untyped", "summary", "histogram"}
SUFFIXES = ("_bucket", "_sum", "_count")


def parse_value(s):
    if s in ("NaN", "+Inf", "-Inf"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        raise ValueError(f"bad value '{s}'")
    return float(s)


def parse_labels(s, i):
    """s[i] == '{'; returns (labels, index after '}')."""
    labels = []
    i += 1
    while True:
        if s[i:i + 1] == "}":
            return labels, i + 1
        m = re.compile(LABEL).match(s, i)
        if not m:
            raise ValueError(f"bad label name at column {i + 1}")
        name, i = m.group(0), m.end()
        if s[i:i + 2] != '="':
            raise ValueError(f"expected =\" after label {name}")
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ValueError(f"unterminated value of label {name}")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ValueError(f"bad escape \\{nxt} in label {name}")
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("newline inside a label value")
            else:
                val.append(c)
                i += 1
        labels.append((name, "".join(val)))
        if s[i:i + 1] == ",":
            i += 1
        elif s[i:i + 1] != "}":
            raise ValueError(f"expected , or }} after label {name}")


def family_of(name, types):
    if name in types:
        return name
    for suf in SUFFIXES:
        if name.endswith(suf) and name[: -len(suf)] in types:
            return name[: -len(suf)]
    return name


def check(text):
    errors, series = [], {}
    helps, types, seen_sample, done = set(), {}, set(), set()
    current = None
    if not text.endswith("\n"):
        errors.append("the text does not end with a newline")
    for no, line in enumerate(text.split("\n")[:-1], 1):
        def err(msg):
            errors.append(f"line {no}: {msg}: {line!r}")
        if line == "":
            err("empty line")
            continue
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (" + NAME + r") (.*)", line)
            if not m:
                if re.match(r"# (HELP|TYPE)", line):
                    err("malformed HELP/TYPE line")
                continue  # a plain comment
            kind, name, rest = m.groups()
            if name in seen_sample:
                err(f"{kind} after samples of {name}")
            if kind == "HELP":
                if name in helps:
                    err(f"second HELP for {name}")
                helps.add(name)
            else:
                if rest not in TYPES:
                    err(f"unknown type '{rest}'")
                if name in types:
                    err(f"second TYPE for {name}")
                types[name] = rest
            if current != name:
                if current:
                    done.add(current)
                if name in done:
                    err(f"family {name} is split")
                current = name
            continue
        m = re.compile(NAME).match(line)
        if not m:
            err("bad metric name")
            continue
        name, i = m.group(0), m.end()
        labels = []
        try:
            if line[i:i + 1] == "{":
                labels, i = parse_labels(line, i)
            if line[i:i + 1] != " ":
                raise ValueError("expected one space before the value")
            parts = line[i + 1:].split(" ")
            if len(parts) not in (1, 2):
                raise ValueError("expected VALUE [TIMESTAMP]")
            value = parse_value(parts[0])
            if len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1]):
                raise ValueError(f"bad timestamp '{parts[1]}'")
        except ValueError as e:
            err(str(e))
            continue
        fam = family_of(name, types)
        if fam not in types:
            err(f"sample of {name} before (or without) its TYPE line")
        if fam not in helps:
            err(f"sample of {name} before (or without) its HELP line")
        if fam != current:
            err(f"sample of {fam} outside its family's block (current: {current})")
        seen_sample.add(fam)
        names = [k for k, _ in labels]
        if len(set(names)) != len(names):
            err("duplicate label name")
        if types.get(fam) == "counter":
            if not name.endswith("_total"):
                err(f"counter {name} is not named *_total")
            if value < 0 or math.isnan(value):
                err(f"counter {name} is {value}")
        key = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels)) + "}"
        if key in series:
            err(f"duplicate series {key}")
        series[key] = value
    return errors, series, len(types)


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    errors, series, n_fam = check(text)
    for e in errors:
        print(e)
    if errors:
        sys.exit(1)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            json.dump(series, f, indent=1, sort_keys=True)
    print(f"{n_fam} families, {len(series)} samples")


if __name__ == "__main__":
    main()
