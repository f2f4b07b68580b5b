"""
cron_batch - ask `ovsched cron next` many questions in ONE batch run, as the
differential tests in this folder do: JSON lines in, one JSON answer per line
out, in order (docs/cron.md, "ovsched cron next").
"""

import json
import subprocess
import sys
import time


def ask(binary, requests, who, timeout=300):
    """Answers (parsed JSON) to REQUESTS (dicts), and the seconds it took; or
    None after telling stderr why, prefixed with WHO, when the run failed."""
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    t0 = time.monotonic()
    try:
        proc = subprocess.run([binary, "cron", "next"], input=lines, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        sys.stderr.write("%s: %s cron next did not finish in %d s\n" % (who, binary, timeout))
        return None, 0.0
    elapsed = time.monotonic() - t0
    answers = proc.stdout.splitlines()
    if proc.returncode != 0 or len(answers) != len(requests):
        sys.stderr.write("%s: %s cron next exited %d with %d lines for %d requests\n%s"
                         % (who, binary, proc.returncode, len(answers), len(requests),
                            proc.stderr))
        return None, elapsed
    return [json.loads(a) for a in answers], elapsed
