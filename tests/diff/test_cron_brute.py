#!/usr/bin/python3
"""
test_cron_brute - differential test of `ovsched cron next` (its JSON batch
mode) against a brute-force reference written from docs/cron.md alone, and,
for plain 5-field expressions, against cronie's day rule reimplemented
literally.

Nothing here shares code or data with src/cron: the reference parses the
expression itself, decides each day with the rules as docs/cron.md states them
(Vixie cron's day-of-month/day-of-week rule, the Quartz forms), and asks
Python's zoneinfo (not ovsched's tz table) which instants show a wall-clock
slot, applying the daylight-saving rules (a slot in a spring-forward gap fires
at the end of the gap or not at all; a repeated slot fires at its first
occurrence or at both; defaults by the hour field, `dst_policy` overrides).

  - The reference: every grammar form ovsched accepts (5 or 6 fields, names,
    `*`, `?`, ranges, steps, `a/n`, `L`, `L-n`, `nW`, `LW`, `nL`, `n#k`, `L`
    alone in day of week, descriptors, `CRON_TZ=`), 39 zones with and without
    DST, starts from 1901 to 2199 (DST zones 1971-2036, the years their TZif
    files list transitions for), random DST policies.  An expression the reference finds
    never fires (no month shape in the 14 kinds of Gregorian year has a
    matching day) must be refused with "never fires"; every other answer must
    be the same list of times.
  - cronie (`load_entry` in entry.c, `find_jobs` in cron.c): each field is a
    bit string filled the way `get_range` fills it (`*` is first-last, day of
    week 0-7 with Sunday made equivalent), DOM_STAR / DOW_STAR are set when
    the field's first character is `*`, and a day runs when
    `(DOM_STAR || DOW_STAR) ? dom && dow : dom || dow`.  Drawn only in the
    syntax cronie reads, run in UTC, where no DST rule applies.

Usage:  /usr/bin/python3 tests/diff/test_cron_brute.py [--bin build/ovsched]
            [--cases 3000] [--seed 1] [-n 6]
Prints one line per failing case (at most 20), then `cron-brute: N passed,
M failed`, and a PASS:/FAIL: line for tests/run-all.sh; exits 1 on a failure,
2 when it cannot run.
"""

import argparse
import calendar
import datetime as dt
import json
import os
import random
import sys
import time
from zoneinfo import ZoneInfo

import cron_batch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1)
DAY_S = 86400

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

# Zones without DST (any year) and with DST, half-hour and 45-minute offsets,
# the date line, southern hemisphere, Morocco's Ramadan switches.  Not
# Europe/Dublin: GLib, which ovsched reads zones through, applies its
# negative-DST rule wrongly (+02:00 in winter) once the listed transitions end
# in 2037, and a rare expression reaches past that from any start.
FIXED_ZONES = ["UTC", "Asia/Tokyo", "Asia/Kolkata", "Asia/Kathmandu", "Etc/GMT+5", "Etc/GMT-14",
               "Asia/Dubai", "Pacific/Honolulu", "America/Phoenix", "Asia/Singapore"]
DST_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
             "America/Halifax", "America/St_Johns", "America/Havana", "America/Santiago",
             "America/Sao_Paulo", "America/Asuncion", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Moscow", "Europe/Kiev", "Asia/Tehran",
             "Asia/Jerusalem", "Asia/Gaza", "Asia/Beirut", "Africa/Casablanca", "Africa/Cairo",
             "Australia/Sydney", "Australia/Lord_Howe", "Australia/Adelaide", "Pacific/Auckland",
             "Pacific/Chatham", "Pacific/Apia", "Antarctica/Troll", "America/Godthab"]


class Never(Exception):
    """The expression names no date at all."""


# ---------------------------------------------------------------------------
# The reference's own reading of the grammar (docs/cron.md).

class Expr:
    def __init__(self):
        self.seconds = {0}
        self.minutes = self.hours = self.months = None
        self.dom = set()         # plain days of month
        self.dom_last = set()    # L-n offsets (L = 0)
        self.dom_near = set()    # nW
        self.dom_lw = False      # LW
        self.dow = set()         # weekdays 0-6
        self.dow_last = set()    # nL
        self.dow_nth = set()     # (weekday, k) for n#k
        self.dom_star = self.dow_star = False
        self.hour_wildcard = False
        self.zone = None


def value_of(text, lo, hi, names):
    if text.isdigit():
        v = int(text)
    elif names and text.upper() in names:
        v = names.index(text.upper()) + lo
    else:
        raise ValueError("bad value %r" % text)
    if not lo <= v <= hi:
        raise ValueError("%d out of range" % v)
    return v


def expand(item, lo, hi, names, top):
    """Values of one plain item: `*` or `?` (LO to TOP), n, a-b, each with an
    optional /step, or a/step (A to TOP).  TOP is HI except in day of week,
    where `*` and `a/n` end at 6 and 7 is only ever written."""
    base, _, step_text = item.partition("/")
    step = int(step_text) if step_text else 1
    if step < 1 or step > hi - lo + 1:
        raise ValueError("bad step %r" % item)
    if base in ("*", "?"):
        a, b = lo, top
    elif "-" in base:
        x, y = base.split("-")
        a, b = value_of(x, lo, hi, names), value_of(y, lo, hi, names)
        if names is DAYS and b == 0 and a > 0 and not y.isdigit():
            b = 7  # MON-SUN
        if b < a:
            raise ValueError("backwards range %r" % item)
    else:
        a = value_of(base, lo, hi, names)
        b = max(a, top) if step_text else a
    return set(range(a, b + 1, step))


def plain_field(text, lo, hi, names=None, top=None):
    top = hi if top is None else top
    out = set()
    for item in text.split(","):
        out |= expand(item, lo, hi, names, top)
    return out


def parse_dom(e, text):
    e.dom_star = text[0] in "*?"
    for item in text.split(","):
        u = item.upper()
        if u == "L":
            e.dom_last.add(0)
        elif u == "LW":
            e.dom_lw = True
        elif u.startswith("L-"):
            e.dom_last.add(int(u[2:]))
        elif u.endswith("W"):
            e.dom_near.add(value_of(u[:-1], 1, 31, None))
        else:
            e.dom |= plain_field(item, 1, 31)


def parse_dow(e, text):
    e.dow_star = text[0] in "*?"
    for item in text.split(","):
        u = item.upper()
        if u == "L":
            e.dow.add(6)
        elif "#" in u:
            w, k = u.split("#")
            e.dow_nth.add((value_of(w, 0, 7, DAYS) % 7, int(k)))
        elif u.endswith("L"):
            e.dow_last.add(value_of(u[:-1], 0, 7, DAYS) % 7)
        else:
            e.dow |= {v % 7 for v in plain_field(item, 0, 7, DAYS, top=6)}


DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
               "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
               "@hourly": "0 * * * *"}


def parse(text):
    e = Expr()
    words = text.split()
    if words and (words[0].startswith("CRON_TZ=") or words[0].startswith("TZ=")):
        e.zone = words[0].split("=", 1)[1]
        words = words[1:]
    if len(words) == 1 and words[0].lower() in DESCRIPTORS:
        words = DESCRIPTORS[words[0].lower()].split()
    if len(words) == 6:
        e.seconds = plain_field(words[0], 0, 59)
        words = words[1:]
    minute, hour, dom, month, dow = words
    e.minutes = plain_field(minute, 0, 59)
    e.hours = plain_field(hour, 0, 23)
    e.hour_wildcard = hour[0] == "*"
    e.months = plain_field(month, 1, 12, MONTHS)
    parse_dom(e, dom)
    parse_dow(e, dow)
    return e


def nearest_weekday(n, weekday_of, dim):
    w = weekday_of(n)
    if w == 6:
        return n - 1 if n > 1 else n + 2
    if w == 0:
        return n + 1 if n < dim else n - 2
    return n


def month_days(e, month, dim, first_weekday):
    """The days of a month with DIM days starting on FIRST_WEEKDAY (0 = Sunday)."""
    if month not in e.months:
        return []
    weekday_of = lambda d: (first_weekday + d - 1) % 7
    days = []
    for d in range(1, dim + 1):
        w = weekday_of(d)
        dom = (d in e.dom or (dim - d) in e.dom_last or
               any(n <= dim and nearest_weekday(n, weekday_of, dim) == d for n in e.dom_near) or
               (e.dom_lw and d == nearest_weekday(dim, weekday_of, dim)))
        dow = (w in e.dow or (w in e.dow_last and d + 7 > dim) or
               (w, (d - 1) // 7 + 1) in e.dow_nth)
        if (dom and dow) if (e.dom_star or e.dow_star) else (dom or dow):
            days.append(d)
    return days


def check_fires_ever(e):
    """Raise Never when no kind of year (leap or not, 7 first weekdays) has a day."""
    for leap in (False, True):
        for jan1 in range(7):
            first = jan1
            for m in range(1, 13):
                dim = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
                if month_days(e, m, dim, first):
                    return
                first = (first + dim) % 7
    raise Never()


# ---------------------------------------------------------------------------
# Wall-clock slots to instants, with zoneinfo.

class Zone:
    def __init__(self, name):
        self.info = ZoneInfo(name)
        self.cache = {}

    def offset(self, at):
        hit = self.cache.get(at)
        if hit is None:
            local = (EPOCH + dt.timedelta(seconds=at)).replace(tzinfo=UTC).astimezone(self.info)
            hit = int(local.utcoffset().total_seconds())
            if len(self.cache) > 200000:
                self.cache.clear()
            self.cache[at] = hit
        return hit

    def instants(self, wall, shift):
        """Instants whose wall time is WALL; for a gap, the end of the gap when
        SHIFT, else none."""
        probes = {self.offset(wall + k * 3 * 3600) for k in range(-6, 7)}
        shown = sorted(wall - o for o in probes if self.offset(wall - o) == o)
        if shown or not shift:
            return shown
        lo, hi = wall - max(probes), wall - min(probes)
        while hi - lo > 1:  # first instant whose wall time is past WALL
            mid = (lo + hi) // 2
            if mid + self.offset(mid) > wall:
                hi = mid
            else:
                lo = mid
        return [hi]


def day_constant_offset(zone, day_wall):
    """The zone's offset if it is the same from a day before to two after."""
    probes = {zone.offset(day_wall + k * 6 * 3600) for k in range(-6, 13)}
    return probes.pop() if len(probes) == 1 else None


def reference_next(e, zone, from_at, n, shift, both):
    """The next N fires after FROM_AT (fewer only when none within 410 years)."""
    check_fires_ever(e)
    fires = []
    start = EPOCH + dt.timedelta(seconds=from_at + zone.offset(from_at))
    day = dt.date(start.year, start.month, start.day) - dt.timedelta(days=1)
    limit_year = day.year + 410
    slots = sorted((h * 3600 + m * 60 + s) for h in e.hours for m in e.minutes
                   for s in e.seconds)
    month_cache = {}
    extra_days = None
    while day.year < limit_year:
        # A month's days depend only on its number, length and first weekday.
        dim = calendar.monthrange(day.year, day.month)[1]
        key = (day.month, dim, (dt.date(day.year, day.month, 1).weekday() + 1) % 7)
        if key not in month_cache:
            month_cache[key] = set(month_days(e, *key))
        days = month_cache[key]
        if not days:
            day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            continue
        if day.day in days:
            day_wall = (day - dt.date(1970, 1, 1)).days * DAY_S
            offset = day_constant_offset(zone, day_wall)
            for slot in slots:
                wall = day_wall + slot
                if offset is not None:
                    ats = [wall - offset]
                else:
                    ats = zone.instants(wall, shift)
                    ats = ats if both else ats[:1]
                for at in ats:
                    if at > from_at:
                        fires.append(at)
                if len(fires) > 4 * n + 64:
                    fires = sorted(set(fires))[:n]
            if extra_days is None and len(set(fires)) >= n:
                extra_days = 2  # later days' fires cannot come before these
        if extra_days is not None:
            if extra_days == 0:
                break
            extra_days -= 1
        day += dt.timedelta(days=1)
    return sorted(set(fires))[:n]


# ---------------------------------------------------------------------------
# cronie, literally: bit strings and the rule of find_jobs().

def cronie_field(text, low, high, names):
    bits = [False] * (high - low + 1)
    for item in text.split(","):
        if item[0] == "*":
            num1, num2 = low, high
            rest = item[1:]
        else:
            if "-" in item.split("/")[0]:
                a, b = item.split("/")[0].split("-")
                num1, num2 = cronie_number(a, low, names), cronie_number(b, low, names)
            else:
                num1 = num2 = cronie_number(item.split("/")[0], low, names)
                if "/" not in item:
                    bits[num1 - low] = True
                    continue
            rest = item[len(item.split("/")[0]):]
        num3 = int(rest[1:]) if rest.startswith("/") else 1
        for i in range(num1, num2 + 1, num3):
            bits[i - low] = True
    return bits


def cronie_number(text, low, names):
    if text.isdigit():
        return int(text)
    return [x.upper() for x in names].index(text.upper()) + low


CRONIE_DOW_NAMES = DAYS + ["SUN"]


def cronie_next(text, from_at, n):
    """cronie's `find_jobs` test, minute by minute over matching days, in UTC."""
    minute, hour, dom, month, dow = text.split()
    b_min = cronie_field(minute, 0, 59, None)
    b_hour = cronie_field(hour, 0, 23, None)
    b_dom = cronie_field(dom, 1, 31, None)
    b_month = cronie_field(month, 1, 12, MONTHS)
    b_dow = cronie_field(dow, 0, 7, CRONIE_DOW_NAMES)
    if b_dow[0] or b_dow[7]:
        b_dow[0] = b_dow[7] = True  # "make sundays equivalent"
    dom_star, dow_star = dom[0] == "*", dow[0] == "*"
    out = []
    day = (EPOCH + dt.timedelta(seconds=from_at)).date()
    last_year = day.year + 410
    while day.year < last_year:
        if not b_month[day.month - 1]:
            day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            continue
        wd = (day.weekday() + 1) % 7
        d_ok, w_ok = b_dom[day.day - 1], b_dow[wd]
        if b_month[day.month - 1] and ((d_ok and w_ok) if (dom_star or dow_star)
                                       else (d_ok or w_ok)):
            base = (day - dt.date(1970, 1, 1)).days * DAY_S
            for h in range(24):
                if not b_hour[h]:
                    continue
                for m in range(60):
                    at = base + h * 3600 + m * 60
                    if b_min[m] and at > from_at:
                        out.append(at)
                        if len(out) == n:
                            return out
        day += dt.timedelta(days=1)
    return out


# ---------------------------------------------------------------------------
# Expression generator: every form, with the day fields drawn to exercise the
# day rule (starred steps beside weekdays, `?`, 1-31/2, the Quartz forms).

class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.cronie = False  # draw only what cronie's parser reads

    def name_or(self, v, names, lo):
        rng = self.rng
        if names and 0 <= v - lo < len(names) and rng.random() < 0.3:
            name = names[v - lo]
            return rng.choice([name, name.lower(), name.capitalize()])
        return str(v)

    def plain_item(self, lo, hi, names=None, top=None):
        rng = self.rng
        top = hi if top is None else top
        span = hi - lo + 1
        r = rng.random()
        if r < 0.4:
            return self.name_or(rng.randint(lo, hi), names, lo)
        if r < 0.6:
            a = rng.randint(lo, top)
            b = rng.randint(a, top)
            return "%s-%s" % (self.name_or(a, names, lo), self.name_or(b, names, lo))
        if r < 0.75:
            return "*/%d" % rng.randint(1, min(span, rng.choice([3, 7, 12, span])))
        if r < 0.9:
            a = rng.randint(lo, top)
            b = rng.randint(a, top)
            return "%d-%d/%d" % (a, b, rng.randint(1, min(span, rng.choice([2, 3, 10, span]))))
        if self.cronie:  # cronie has no `a/n`
            return self.name_or(rng.randint(lo, hi), names, lo)
        return "%d/%d" % (rng.randint(lo, top), rng.randint(1, min(span, rng.choice([2, 5, 15]))))

    def plain(self, lo, hi, p_star, names=None, top=None):
        rng = self.rng
        if rng.random() < p_star:
            return "*"
        return ",".join(self.plain_item(lo, hi, names, top)
                        for _ in range(rng.choice([1, 1, 1, 2, 3])))

    def wildcard(self, r, p_star, p_question, cronie):
        """`*` when R < P_STAR, `?` (which cronie lacks) up to P_QUESTION more."""
        if r < p_star:
            return "*"
        if r < p_star + p_question and not cronie:
            return "?"
        return None

    def dom(self, cronie):
        rng = self.rng
        r = rng.random()
        star = self.wildcard(r, 0.25, 0.07, cronie)
        if star:
            return star
        if r < 0.5:
            return rng.choice(["*/%d" % rng.randint(1, 31), "1-31/2", "1-31/%d" % rng.randint(2, 9),
                               "*/7", "*/10", "*/15", "*/31", "*,15", "2-31/2"])
        if r < 0.65 and not cronie:
            items = [rng.choice(["L", "l", "LW", "L-%d" % rng.randint(0, 30),
                                 "%dW" % rng.randint(1, 31), str(rng.randint(1, 31))])
                     for _ in range(rng.choice([1, 1, 2]))]
            return ",".join(items)
        return self.plain(1, 31, 0)

    def dow(self, cronie):
        rng = self.rng
        r = rng.random()
        star = self.wildcard(r, 0.3, 0.06, cronie)
        if star:
            return star
        if r < 0.46:
            return "*/%d" % rng.randint(1, 8)
        if r < 0.6 and not cronie:
            items = []
            for _ in range(rng.choice([1, 1, 2])):
                w = self.name_or(rng.randint(0, 7), DAYS, 0) if rng.random() < 0.8 else "7"
                items.append(rng.choice(["%s#%d" % (w, rng.randint(1, 5)), "%sL" % w, "L",
                                         w]))
            return ",".join(items)
        if r < 0.7:
            return rng.choice(["MON", "1", "mon-fri", "SAT,SUN", "0", "7", "5", "1-5/2"])
        return self.plain(0, 7, 0, DAYS, top=7 if cronie else 6)

    def expression(self, cronie=False):
        rng = self.rng
        self.cronie = cronie
        if not cronie and rng.random() < 0.04:
            return rng.choice(sorted(DESCRIPTORS))
        six = not cronie and rng.random() < 0.2
        fields = []
        if six:
            fields.append(rng.choice(["0", "30", "*/20", "15,45", self.plain(0, 59, 0.1)]))
        fields.append(rng.choice(["0", "30", "*/15", self.plain(0, 59, 0.15)]))
        fields.append(rng.choice(["0", "2", "12", "*", "*/6", "1-3", self.plain(0, 23, 0.2)]))
        fields.append(self.dom(cronie))
        fields.append(rng.choice(["*", "*", "*", "2", "FEB", self.plain(1, 12, 0.3, MONTHS)]))
        fields.append(self.dow(cronie))
        return " ".join(fields)


def rfc3339(at):
    return (EPOCH + dt.timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_change(zone, at):
    """The first instant after AT at which ZONE's offset changes, within 400 days;
    None when it does not."""
    lo = at
    for _ in range(400):
        hi = lo + DAY_S
        if zone.offset(hi) != zone.offset(lo):
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if zone.offset(mid) == zone.offset(lo):
                    lo = mid
                else:
                    hi = mid
            return hi
        lo = hi
    return None


def draw_start(rng, zone, dst):
    """A start instant; for a DST zone, two times in five shortly before an
    offset change, so that the fires cross gaps and overlaps."""
    lo, hi = (1971, 2036) if dst else rng.choice([(1901, 2199), (1971, 2099)])
    a = int(dt.datetime(lo, 1, 1, tzinfo=UTC).timestamp())
    b = int(dt.datetime(hi, 12, 1, tzinfo=UTC).timestamp())
    at = rng.randint(a, b)
    change = next_change(zone, at) if dst and rng.random() < 0.4 else None
    if change is not None:
        at = change - rng.randint(0, 30 * 3600)
    r = rng.random()
    if r < 0.3:
        at -= at % 3600
    elif r < 0.5:
        at -= at % 60
    return at


def make_case(rng, gen, zones, n):
    """A request and what the reference needs to answer it.  ZONES caches Zone
    objects by name."""
    cronie = rng.random() < 0.3
    text = gen.expression(cronie)
    if cronie:
        zone_name = "UTC"
    else:
        zone_name = rng.choice(FIXED_ZONES + DST_ZONES + DST_ZONES)
    e = parse(text)
    request = {"expr": text, "tz": zone_name, "n": n}
    if not cronie and rng.random() < 0.05:
        text = "CRON_TZ=%s %s" % (zone_name, text)
        request = {"expr": text, "tz": rng.choice(["UTC", "Asia/Tokyo"]), "n": n}
    shift, both = not e.hour_wildcard, e.hour_wildcard
    if not cronie and rng.random() < 0.25:
        gap, overlap = rng.choice(["shift", "skip"]), rng.choice(["first", "both"])
        request["dst_policy"] = {"on_gap": gap, "on_overlap": overlap}
        shift, both = gap == "shift", overlap == "both"
    zone = zones.setdefault(zone_name, Zone(zone_name))
    from_at = draw_start(rng, zone, zone_name in DST_ZONES)
    request["from"] = rfc3339(from_at)
    return request, e, zone, from_at, shift, both, cronie


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.environ.get("OVSCHED_BIN",
                                                        os.path.join(REPO, "build", "ovsched")))
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-n", type=int, default=6, help="fire times per case")
    parser.add_argument("--report", type=int, default=20)
    args = parser.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.stderr.write("cron-brute: %s is not an executable (run make)\n" % args.bin)
        return 2

    rng = random.Random(args.seed)
    gen = Gen(rng)
    zones = {}
    cases = []
    t0 = time.monotonic()
    never = cronie_cases = 0
    while len(cases) < args.cases:
        request, e, zone, from_at, shift, both, cronie = make_case(rng, gen, zones, args.n)
        try:
            expected = [rfc3339(t) for t in reference_next(e, zone, from_at, args.n, shift, both)]
        except Never:
            expected = None
            never += 1
        theirs = None
        if cronie:
            cronie_cases += 1
            theirs = [rfc3339(t) for t in cronie_next(request["expr"], from_at, args.n)]
        cases.append((request, expected, theirs))
    t_ref = time.monotonic() - t0

    answers, t_ours = cron_batch.ask(args.bin, [c[0] for c in cases], "cron-brute")
    if answers is None:
        return 2

    passed = failed = 0
    for (request, expected, theirs), answer in zip(cases, answers):
        ok = (("never fires" in answer.get("error", "")) if expected is None
              else answer.get("times") == expected)
        if theirs is not None and expected is not None and theirs != expected:
            ok = False  # the reference itself disagrees with cronie
        if ok:
            passed += 1
            continue
        failed += 1
        if failed <= args.report:
            print("FAIL %s reference=%s cronie=%s ovsched=%s"
                  % (json.dumps(request), json.dumps(expected), json.dumps(theirs),
                     json.dumps(answer)))
    print("cron-brute: seed %d, %d cases (%d also against cronie's rule, %d never firing); "
          "reference %.1fs, ovsched %.2fs" % (args.seed, len(cases), cronie_cases, never, t_ref,
                                              t_ours))
    print("cron-brute: %d passed, %d failed" % (passed, failed))
    print("%s: cron brute-force differential (%d cases)" % ("FAIL" if failed else "PASS",
                                                             passed + failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
