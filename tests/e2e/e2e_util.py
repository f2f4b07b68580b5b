"""What every end-to-end script shares: one PASS:/FAIL: line per check (the
lines tests/run-all.sh counts) and a bounded wait for a condition.  New scripts
import these; older ones still carry their own copies."""
import sys
import time

failures = 0


def check(name, ok, detail=""):
    """Print PASS: NAME, or FAIL: NAME with DETAIL, and count the failures."""
    global failures
    if ok:
        print("PASS: " + name)
    else:
        failures += 1
        print("FAIL: " + name + ("\n  " + str(detail)[:2000] if detail else ""))
    sys.stdout.flush()


def wait_for(predicate, timeout=10.0, step=0.05):
    """PREDICATE's first true value within TIMEOUT seconds, else its last one."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
