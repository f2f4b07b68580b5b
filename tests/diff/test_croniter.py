#!/usr/bin/python3
"""
test_croniter - differential test of `ovsched cron next` against croniter.

croniter is an independent cron implementation (Debian's python3-croniter,
1.3.5).  This script draws a seeded, reproducible set of random cases
(expression, zone, start), asks croniter for the next N fire times, asks
ovsched for the same in ONE batch run of `ovsched cron next` (JSON lines on
stdin), and compares the two lists exactly.

Only cases where the two engines are documented to mean the same thing are
drawn; docs/cron-compat.md lists every difference and why it is left out.
In short, with the croniter 1.3.5 source (croniter/croniter.py) as reference:

  - Syntax is translated, not just copied: a 6-field expression has seconds
    FIRST in ovsched and LAST in croniter; ovsched's `?` is croniter's `*`;
    ovsched's Quartz `5L` (last Friday) is croniter's `L5`.  Forms croniter
    lacks (`W`, `LW`, `L-n`, `L` alone in day of week, `@every`) are not drawn.
  - Day-of-month / day-of-week: ovsched decides by the text, as Vixie cron
    does (either field starting with `*` or `?` -> AND; both restricted ->
    OR).  croniter's default decides by the expanded set (`_expand` turns a
    field that lists every value into '*', and `_get_next` ORs only when
    neither field is '*'); with `day_or=False` it always ANDs.  So an AND case
    is asked of croniter with day_or=False, an OR case with the default, and
    an OR case is kept only when croniter's expansion ORs too, or when both
    fields list every day (see day_or_for()).
  - `a/n` in day of week runs to 6 in ovsched and to 7 (= Sunday) in croniter:
    such items are drawn only when the step cannot reach 7.
  - croniter 6-field expressions do not map weekday 7 to Sunday (LOWMAP is
    skipped for index 4 when there are 6 fields): a 6-field case is kept only
    when its day of week expands as it would in a 5-field expression.
  - `n#k` / `nL` weekdays: croniter ignores the day of month beside them, so
    they are drawn only with day of month `*` or `?`.
  - croniter bugs that give wrong answers are stepped around: a listed day of
    month past the end of the current month makes it skip days of the next
    month (croniter_overshoots()), and a day-of-month list that fits none of
    the months makes it raise even beside a weekday (can_fire()).  A schedule
    croniter finds nothing of within its 50-year search is left out.
  - Daylight saving: croniter does wall-clock arithmetic on aware datetimes
    and then patches offsets (`_get_next`, "DST Handling"); ovsched follows
    SPEC section 4 (shift gaps, fire a fixed hour once in an overlap).  A case
    is kept only when the zone's UTC offset is constant from two days before
    the start to one day after croniter's last fire time, read from the zone's
    TZif file.  Zones without DST (UTC, Asia/Tokyo, Asia/Kolkata, ...) are kept
    for any year; DST zones contribute their many windows between transitions.

Usage:  /usr/bin/python3 tests/diff/test_croniter.py [--bin build/ovsched]
            [--cases 20000] [--seed 1] [-n 5]
The binary may also be given as OVSCHED_BIN.  croniter is installed for
Debian's /usr/bin/python3 only; started by another python3 the script
re-executes itself with that one.

Prints one line per failing case (at most 20), then a last line exactly
`croniter-diff: N passed, M failed`; exits 1 when any case failed, 2 when it
could not run.
"""

import argparse
import bisect
import calendar
import datetime as dt
import json
import os
import random
import struct
import sys
import time

import cron_batch

try:
    from zoneinfo import TZPATH, ZoneInfo
    from croniter import croniter, CroniterBadDateError
except ImportError as exc:
    # Started by another python3 (pyenv, a venv): croniter lives in Debian's.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] +
                 sys.argv[1:])
    sys.stderr.write(
        "croniter-diff: cannot import croniter/zoneinfo (%s); install python3-croniter "
        "and run with /usr/bin/python3\n" % exc)
    sys.exit(2)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRONITER_VERSION_READ = "1.3.5"  # the version whose source the exclusions come from

# Zones: without DST (any year), with DST or historical offset changes (the
# window check keeps only stretches of constant offset).  Half-hour and
# 45-minute offsets, negative DST (Dublin), the date line, Lord Howe's 30-minute
# DST, Morocco's Ramadan switches, zones that abolished DST.
ZONES = [
    "UTC", "Asia/Tokyo", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dubai", "Pacific/Honolulu",
    "America/Phoenix", "Etc/GMT+5", "Etc/GMT-14", "Pacific/Kiritimati", "Africa/Nairobi",
    "Asia/Singapore", "America/Caracas", "America/Sao_Paulo", "Asia/Tehran",
    "America/New_York", "Europe/London", "Europe/Berlin", "Europe/Dublin",
    "Australia/Sydney", "Australia/Lord_Howe", "Australia/Adelaide", "Pacific/Auckland",
    "Pacific/Chatham", "America/St_Johns", "America/Santiago", "Pacific/Apia",
    "Africa/Casablanca", "America/Los_Angeles", "Asia/Jerusalem",
]

MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
               "DEC"]
DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
MAX_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
DESCRIPTORS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]

DAY_S = 86400


# ---------------------------------------------------------------------------
# Time zones: where does the UTC offset change?  Read from the TZif file itself
# (RFC 8536), independently of both engines.

class ZoneOffsets:
    """Instants at which NAME's UTC offset changes, from its TZif file."""

    def __init__(self, name):
        data = None
        for base in TZPATH:
            path = os.path.join(base, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    data = f.read()
                break
        if data is None or data[:4] != b"TZif":
            raise RuntimeError("no TZif file for %s" % name)
        version = data[4:5]
        isut, isstd, leap, timecnt, typecnt, charcnt = struct.unpack(">6l", data[20:44])
        off = 44
        tsize = 4
        if version != b"\0":
            # Skip the 32-bit block; the 64-bit block and footer follow.
            off += timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut
            isut, isstd, leap, timecnt, typecnt, charcnt = struct.unpack(
                ">6l", data[off + 20:off + 44])
            off += 44
            tsize = 8
        times = struct.unpack(">%d%s" % (timecnt, "q" if tsize == 8 else "l"),
                              data[off:off + timecnt * tsize])
        off += timecnt * tsize
        indices = data[off:off + timecnt]
        off += timecnt
        offsets = [struct.unpack(">lBB", data[off + 6 * i:off + 6 * i + 6])[0]
                   for i in range(typecnt)]
        off += typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut
        footer = b""
        if version != b"\0" and data[off:off + 1] == b"\n":
            footer = data[off + 1:data.index(b"\n", off + 1)]
        self.changes = []
        current = offsets[0]
        for at, index in zip(times, indices):
            if offsets[index] != current:
                self.changes.append(at)
                current = offsets[index]
        # A POSIX rule with DST in the footer means transitions go on after the
        # last listed one; past that point we know nothing, so say "changes".
        self.known_until = times[-1] if (b"," in footer and times) else None
        self.has_rules = b"," in footer

    def changes_between(self, lo, hi):
        """True if the offset may change at some instant in (lo, hi]."""
        if self.known_until is not None and hi > self.known_until:
            return True
        i = bisect.bisect_right(self.changes, lo)
        return i < len(self.changes) and self.changes[i] <= hi


# ---------------------------------------------------------------------------
# Expression generator.  Each field is drawn in ovsched syntax and translated
# to croniter syntax; only forms with the same documented meaning are drawn.

def cased(rng, name):
    return rng.choice([name, name.lower(), name.capitalize()])


class Gen:
    def __init__(self, rng):
        self.rng = rng

    def value(self, kind, v):
        """Render value V of field KIND, sometimes as a name."""
        rng = self.rng
        if kind == "month" and rng.random() < 0.3:
            return cased(rng, MONTH_NAMES[v - 1])
        if kind == "dow" and v <= 6 and rng.random() < 0.3:
            return cased(rng, DAY_NAMES[v])
        return str(v)

    def step(self, span):
        rng = self.rng
        return rng.randint(1, min(span, rng.choice([3, 6, 12, 30, 60])))

    def item(self, kind, lo, hi):
        """One list item of a numeric field: (ovsched text, croniter text)."""
        rng = self.rng
        span = (8 if kind == "dow" else hi - lo + 1)  # ovsched: dow counts 0-7
        while True:
            r = rng.random()
            if r < 0.40:
                v = rng.randint(lo, hi)
                text = self.value(kind, v)
            elif r < 0.60:
                a = rng.randint(lo, hi)
                b = rng.randint(a, hi)
                text = "%s-%s" % (self.value(kind, a), self.value(kind, b))
                if kind == "dow" and b == 7 and rng.random() < 0.5 and a <= 6:
                    text = "%s-%s" % (self.value(kind, a), cased(rng, "SUN"))  # MON-SUN = 1-7
            elif r < 0.70:
                s = self.step(span)
                text = "*/%d" % s
            elif r < 0.85:
                a = rng.randint(lo, hi)
                b = rng.randint(a, hi)
                s = self.step(span)
                text = "%s-%s/%d" % (self.value(kind, a), self.value(kind, b), s)
            else:
                a = rng.randint(lo, hi)
                s = self.step(span)
                # croniter runs `a/s` in day of week to 7 (Sunday), ovsched to 6.
                if kind == "dow" and a > 0 and (7 - a) % s == 0:
                    continue
                text = "%s/%d" % (self.value(kind, a), s)
            return text, text

    def field(self, kind, lo, hi, p_star, p_step):
        rng = self.rng
        r = rng.random()
        if r < p_star:
            return "*", "*"
        if r < p_star + p_step:
            s = self.step(hi - lo + 1)
            return "*/%d" % s, "*/%d" % s
        items = [self.item(kind, lo, hi) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))]
        return ",".join(i[0] for i in items), ",".join(i[1] for i in items)

    def dom(self):
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            return "*", "*"
        if r < 0.42:
            return "?", "*"
        if r < 0.52:
            s = rng.randint(2, 16)
            return "*/%d" % s, "*/%d" % s
        if r < 0.62:
            # L alone or beside a few days (croniter reads `l` as the last day).
            extra = [str(rng.randint(1, 28)) for _ in range(rng.choice([0, 0, 1, 2]))]
            items = extra + [rng.choice(["L", "l"])]
            rng.shuffle(items)
            return ",".join(items), ",".join(items).lower()
        return self.field("dom", 1, 31, 0, 0)

    def dow(self, six, dom_is_star):
        rng = self.rng
        top = 6 if six else 7
        r = rng.random()
        if r < 0.40:
            return "*", "*"
        if r < 0.45:
            return "?", "*"
        if r < 0.50:
            s = rng.randint(1, 8)
            return "*/%d" % s, "*/%d" % s
        if r < 0.65 and dom_is_star:
            # Quartz n#k and nL (croniter: n#k and Ln), on their own: croniter
            # refuses them mixed with plain weekdays and ignores a day of month.
            ours, theirs = [], []
            for _ in range(rng.choice([1, 1, 2, 3])):
                w = rng.randint(0, top)
                if rng.random() < 0.7:
                    k = rng.randint(1, 5)
                    ours.append("%s#%d" % (self.value("dow", w), k))
                    theirs.append("%d#%d" % (w, k))
                else:
                    ours.append("%sL" % self.value("dow", w))
                    theirs.append("L%d" % w)
            return ",".join(ours), ",".join(theirs)
        return self.field("dow", 0, top, 0, 0)

    def expression(self):
        """(ovsched expression, croniter expression, is_six)."""
        rng = self.rng
        if rng.random() < 0.06:
            d = rng.choice(DESCRIPTORS)
            d = d.upper() if rng.random() < 0.2 else d
            return d, d.lower(), False
        six = rng.random() < 0.2
        sec = self.field("second", 0, 59, 0.25, 0.2) if six else None
        minute = self.field("minute", 0, 59, 0.15, 0.2)
        hour = self.field("hour", 0, 23, 0.2, 0.15)
        dom = self.dom()
        month = self.field("month", 1, 12, 0.6, 0.1)
        dow = self.dow(six, dom[0] in ("*", "?"))
        ours = [minute[0], hour[0], dom[0], month[0], dow[0]]
        theirs = [minute[1], hour[1], dom[1], month[1], dow[1]]
        if six:
            ours.insert(0, sec[0])   # ovsched: seconds first
            theirs.append(sec[1])    # croniter: seconds last
        sep = lambda: rng.choice([" ", " ", "  ", "\t"])
        text = ours[0]
        for f in ours[1:]:
            text += sep() + f
        return text, " ".join(theirs), six


def day_or_for(ours_expr, cron_expanded, six):
    """The croniter `day_or` argument under which croniter picks the same days
    as ovsched for this expression, or None when no argument does.  See the
    module comment."""
    if ours_expr.startswith("@"):
        return True  # every descriptor has a `*` day field, and croniter sees it
    fields = ours_expr.split()
    dom_text, dow_text = (fields[3], fields[5]) if six else (fields[2], fields[4])
    if dom_text[0] in "*?" or dow_text[0] in "*?":
        return False  # ovsched ANDs; croniter's day_or=False always does
    # Both restricted: ovsched ORs.  croniter ORs too unless `_expand` made a
    # field '*' (it lists every value); then it ANDs, which is the same days
    # only when both fields list every value.
    c_dom_all = cron_expanded[2] == ["*"]
    c_dow_all = cron_expanded[4] == ["*"]
    if c_dom_all == c_dow_all:
        return True
    return None


def can_fire(cron_expanded, nth):
    """Exclude day-of-month lists that exist in none of the months (croniter
    raises CroniterBadDateError, also beside a restricted day of week; ovsched
    refuses them at parse time unless the day of week makes them fire), and
    5th weekdays in February only (decades apart, beyond croniter's 50-year
    search)."""
    months = range(1, 13) if cron_expanded[3] == ["*"] else cron_expanded[3]
    if nth and all(m == 2 for m in months):
        if any(5 in ks for ks in nth.values()):
            return False
    doms = cron_expanded[2]
    if doms == ["*"] or "l" in doms:
        return True
    # Even when a restricted day of week would make the OR fire, croniter's
    # `_get_next` runs the day-of-month half on its own and raises when that
    # half can never match (`0 0 31 11 6`).
    return any(d <= MAX_DAYS[m] for d in doms for m in months)


def croniter_overshoots(cron_expanded, zinfo, from_at, last_at):
    """croniter bug: `_get_next_nearest_diff` returns the first listed day of
    month >= today even when it is past the month's end, so `proc_day_of_month`
    adds (day - today) days and lands inside the next month, skipping its
    earlier days: `0 0 1,31 * *` from Feb 20 gives Mar 31, not Mar 1.  True if
    croniter's search from FROM_AT to LAST_AT crosses the end of a month where
    that can skip a listed day."""
    days = [d for d in cron_expanded[2] if isinstance(d, int)]
    if cron_expanded[2] == ["*"] or not days:
        return False
    year, month = dt.datetime.fromtimestamp(from_at, zinfo).timetuple()[:2]
    last = dt.datetime.fromtimestamp(last_at, zinfo).timetuple()[:2]
    while (year, month) < last:
        length = calendar.monthrange(year, month)[1]
        beyond = [d for d in days if d > length]
        if beyond and min(days) < min(beyond) - length:
            return True
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return False


# ---------------------------------------------------------------------------

def rfc3339(at):
    return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%SZ")


def draw_start(rng, zinfo, offsets):
    """A start instant: random, or on a minute, hour or local midnight."""
    if offsets.has_rules:
        lo, hi = 1971, 2036  # within the transitions the TZif file lists
    elif rng.random() < 0.1:
        lo, hi = 1901, 2500  # negative epochs, 2100/2200/2300 (not leap), 2400
    else:
        lo, hi = 1971, 2199
    start = dt.datetime(lo, 1, 1, tzinfo=dt.timezone.utc)
    span = int((dt.datetime(hi, 12, 31, tzinfo=dt.timezone.utc) - start).total_seconds())
    at = int(start.timestamp()) + rng.randint(0, span)
    r = rng.random()
    if r < 0.2:
        at -= at % 60
    elif r < 0.4:
        at -= at % 3600
    elif r < 0.6:
        local = dt.datetime.fromtimestamp(at, zinfo)
        midnight = local.replace(hour=0, minute=0, second=0)
        at = int(midnight.timestamp())
    return at


def croniter_times(expr, zinfo, from_at, count, day_or):
    start = dt.datetime.fromtimestamp(from_at, zinfo)
    it = croniter(expr, start, day_or=day_or)
    return [int(it.get_next(float)) for _ in range(count)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.environ.get("OVSCHED_BIN",
                                                        os.path.join(REPO, "build", "ovsched")))
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CRONITER_DIFF_SEED", 1)))
    parser.add_argument("-n", type=int, default=5, help="fire times per case")
    parser.add_argument("--report", type=int, default=20, help="failing cases to print")
    args = parser.parse_args()

    if not os.access(args.bin, os.X_OK):
        sys.stderr.write("croniter-diff: %s is not an executable (run make, or pass --bin)\n"
                         % args.bin)
        return 2
    try:
        import importlib.metadata
        version = importlib.metadata.version("croniter")
    except Exception:
        version = "unknown"
    if version != CRONITER_VERSION_READ:
        print("croniter-diff: warning: croniter %s, but the subset was chosen from %s's source"
              % (version, CRONITER_VERSION_READ))

    rng = random.Random(args.seed)
    gen = Gen(rng)
    zones = {name: (ZoneInfo(name), ZoneOffsets(name)) for name in ZONES}
    cases = []
    drawn = near_change = overshoot = too_rare = 0
    t0 = time.monotonic()
    while len(cases) < args.cases:
        drawn += 1
        ours_expr, cron_expr, six = gen.expression()
        expanded, nth = croniter.expand(cron_expr)
        if six and croniter.expand("0 0 * * " + cron_expr.split()[4])[0][4] != expanded[4]:
            # croniter 6-field: weekday 7 stays 7, is never Sunday, and counts
            # as an eighth weekday when `_expand` checks for "every value".
            continue
        day_or = day_or_for(ours_expr, expanded, six)
        if day_or is None or not can_fire(expanded, nth):
            continue
        zone = rng.choice(ZONES)
        zinfo, offsets = zones[zone]
        request_tz = zone
        if rng.random() < 0.05:
            prefix = rng.choice(["CRON_TZ", "TZ"])
            ours_expr = "%s=%s %s" % (prefix, zone, ours_expr)
            request_tz = rng.choice(["UTC", "America/New_York", "Asia/Kolkata"])
        from_at = draw_start(rng, zinfo, offsets)
        try:
            theirs = croniter_times(cron_expr, zinfo, from_at, args.n, day_or)
        except CroniterBadDateError:
            too_rare += 1  # nothing within croniter's 50 years
            continue
        if offsets.changes_between(from_at - 2 * DAY_S, theirs[-1] + DAY_S):
            near_change += 1
            continue
        if croniter_overshoots(expanded, zinfo, from_at, theirs[-1]):
            overshoot += 1
            continue
        case = {"expr": ours_expr, "tz": request_tz, "from": rfc3339(from_at), "n": args.n}
        if rng.random() < 0.1:
            # No offset change in the window, so no DST policy may change anything.
            case["dst_policy"] = {"on_gap": rng.choice(["shift", "skip"]),
                                  "on_overlap": rng.choice(["first", "both"])}
        cases.append((case, cron_expr, zone, [rfc3339(t) for t in theirs]))
    t_croniter = time.monotonic() - t0

    answers, t_ovsched = cron_batch.ask(args.bin, [c[0] for c in cases], "croniter-diff",
                                        timeout=120)
    if answers is None:
        return 2

    passed = failed = 0
    for (case, cron_expr, zone, theirs), answer in zip(cases, answers):
        ours = answer.get("times", answer.get("error"))
        if ours == theirs:
            passed += 1
            continue
        failed += 1
        if failed <= args.report:
            # The request is printed as ovsched reads it: pipe it to
            # `build/ovsched cron next` to reproduce.
            print("FAIL %s zone=%s croniter=%r ours=%s theirs=%s"
                  % (json.dumps(case), zone, cron_expr, json.dumps(ours), json.dumps(theirs)))
    if failed > args.report:
        print("... %d more failing cases not shown" % (failed - args.report))
    print("croniter-diff: croniter %s, seed %d, %d zones; drew %d expressions; left out %d "
          "starts near a UTC-offset change, %d month ends croniter overshoots and %d "
          "schedules rarer than croniter's 50-year search; croniter %.1fs, ovsched %.2fs"
          % (version, args.seed, len(ZONES), drawn, near_change, overshoot, too_rare,
             t_croniter, t_ovsched))
    print("croniter-diff: %d passed, %d failed" % (passed, failed))
    # One line for tests/run-all.sh, which counts PASS:/FAIL: lines.
    print("%s: croniter differential (%d cases)" % ("FAIL" if failed else "PASS", passed + failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
