#!/usr/bin/env python3
"""Prints each failed test in the given .trx files with the head of its message and stack trace,
then (with --logs DIR) the last warnings and errors of the node logs written most recently."""
import os
import sys
import xml.etree.ElementTree as ET

args = sys.argv[1:]
logs = None
if len(args) >= 2 and args[0] == "--logs":
    logs, args = args[1], args[2:]

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
failed = 0
for path in args:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"cannot read {path}: {e}")
        continue
    for result in root.iterfind(".//t:UnitTestResult", NS):
        outcome = result.get("outcome")
        if outcome in ("Passed", "NotExecuted", "Inconclusive"):
            continue
        failed += 1
        print(f"{outcome.upper()} {result.get('testName')} ({result.get('duration')})")
        for tag in ("Message", "StackTrace"):
            node = result.find(f".//t:ErrorInfo/t:{tag}", NS)
            if node is not None and node.text:
                lines = node.text.strip().splitlines()
                for line in lines[:40]:
                    print(f"    {line}")
                if len(lines) > 40:
                    print(f"    ... {len(lines) - 40} more lines")

if logs and failed and os.path.isdir(logs):
    files = sorted((os.path.join(logs, f) for f in os.listdir(logs) if f.endswith(".log")), key=os.path.getmtime, reverse=True)
    shown = 0
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.rstrip() for line in f if " WRN " in line or " ERR " in line or " FTL " in line]
        if not lines:
            continue
        print(f"== last warnings and errors of {os.path.basename(path)} (all node logs: {logs})")
        for line in lines[-15:]:
            print(f"    {line[:400]}")
        shown += 1
        if shown == 5:
            break
print(f"{failed} test(s) not passed")
