#!/usr/bin/env python3
"""Prints each failed test in the given .trx files with the head of its message and stack trace."""
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
failed = 0
for path in sys.argv[1:]:
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
print(f"{failed} test(s) not passed")
