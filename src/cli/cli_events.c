/*
 * cli_events - `ovsched events`: the daemon's events (docs/events.md) over
 * Server-Sent Events, `GET /v1/events`.
 *
 * Each SSE message carries `id:` = the event's seq, `event:` = its type and
 * `data:` = the JSON envelope.  We print one line per event for people
 * (`seq  time  type  job  status`) or the envelope with --json (one per line,
 * for `jq`).  Without --follow we ask for `follow=false`: the server replays
 * the log after `since` (default: from its oldest event) and ends the
 * stream, and so do we.  With --follow a dropped connection is retried with
 * `Last-Event-ID: <last seq seen>` after a short pause, so nothing still in
 * the server's log is missed or printed twice.
 *
 * A `since` older than the log is answered `resync` with the log's bounds:
 * we say that some events were pruned and go on from the oldest one kept.  A
 * `since` ahead of the log (it was reset) ends the command, or with --follow
 * goes on with new events.
 *
 * The SSE parser follows the WHATWG rules that matter here: lines end in LF,
 * CR or CRLF; a blank line dispatches; `data:` lines join with LF; a leading
 * space after the colon is dropped; lines starting with `:` are comments
 * (keep-alives).
 */
#include <curl/curl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/internal.h"
#include "events/events.h"

#define RECONNECT_DELAY_MS 1000
#define MAX_LINE           (1u << 20)
#define MAX_ERROR_BODY     4096

struct sse {
    FILE *out;
    bool json;
    GString *line; /* the line being read */
    GString *data; /* data: lines of the message being read */
    char *event;   /* event: of the message being read */
    char *id;      /* id: of the message being read */
    char *last_id; /* the last id dispatched: Last-Event-ID on reconnect */
    bool last_cr;  /* the previous byte was CR (a CRLF's LF is not a new line) */
    long printed;
    bool connected; /* a stream was open once: later failures are drops */
    bool follow;    /* --follow: a drop is retried, said once per outage */
    int drops;      /* failed connections in a row */
    CURL *curl;     /* the connection being read */
    long status;    /* its HTTP status, once known */
    GString *error; /* the body of an answer that is not a stream (an error) */
    bool resync;    /* the server answered resync: where to go on is in: */
    int64_t oldest_seq, latest_seq, resync_since;
};

static void print_event(struct sse *s)
{
    if (s->json) {
        fprintf(s->out, "%s\n", s->data->str);
    } else {
        json_t *ev = json_loads(s->data->str, 0, NULL);
        json_t *payload = json_object_get(ev, "payload"), *meta = json_object_get(ev, "metadata");
        char *seq = cli_cell_text(json_object_get(meta, "seq"));
        const char *type = json_string_value(json_object_get(ev, "type"));
        const char *at = json_string_value(json_object_get(meta, "timestamp"));
        const char *job = json_string_value(json_object_get(payload, "job_id"));
        const char *status = json_string_value(json_object_get(payload, "status"));
        fprintf(s->out, "%-8s %-24s %-28s %-24s %s\n", seq ? seq : (s->id ? s->id : "-"),
                at ? at : "-", type ? type : (s->event ? s->event : "message"), job ? job : "-",
                status ? status : "");
        g_free(seq);
        json_decref(ev);
    }
    fflush(s->out);
    s->printed++;
}

/* The server's own messages: `close` (this client fell behind: reconnect
 * and resume) and `resync` (the events after our position were pruned, or
 * the log was reset: say so, and go on from the log's latest event). */
static bool control_message(struct sse *s)
{
    bool resync = g_strcmp0(s->event, "resync") == 0;
    if (!resync && g_strcmp0(s->event, "close") != 0)
        return false;
    json_t *body = json_loads(s->data->str, 0, NULL);
    const char *message = json_string_value(json_object_get(body, "message"));
    json_t *latest = json_object_get(body, "latest_seq"), *since = json_object_get(body, "since");
    /* With the log's bounds we know where to go on (resume_after_resync);
     * an older log being pruned needs no words, a log reset does. */
    resync = resync && json_is_integer(latest) && json_is_integer(since);
    if (!resync || json_integer_value(since) >= json_integer_value(latest))
        fprintf(stderr, "ovsched: the server ended the stream (%s): %s\n", s->event,
                message ? message : s->data->str);
    if (resync) {
        s->resync = true;
        s->oldest_seq = json_integer_value(json_object_get(body, "oldest_seq"));
        s->latest_seq = json_integer_value(json_object_get(body, "latest_seq"));
        s->resync_since = json_integer_value(json_object_get(body, "since"));
    }
    json_decref(body);
    return true;
}

static void dispatch(struct sse *s)
{
    if (s->data->len && s->data->str[s->data->len - 1] == '\n')
        g_string_truncate(s->data, s->data->len - 1);
    if (control_message(s)) {
        /* not an event: no position to remember */
    } else {
        if (s->id) {
            g_free(s->last_id);
            s->last_id = g_strdup(s->id);
        }
        if (s->data->len)
            print_event(s);
    }
    g_string_truncate(s->data, 0);
    g_clear_pointer(&s->event, g_free);
    g_clear_pointer(&s->id, g_free);
}

static void field(struct sse *s, const char *line)
{
    if (!*line) {
        dispatch(s);
        return;
    }
    if (*line == ':')
        return;
    const char *colon = strchr(line, ':');
    char *name = colon ? g_strndup(line, (gsize)(colon - line)) : g_strdup(line);
    const char *value = colon ? colon + 1 : "";
    if (*value == ' ')
        value++;
    if (strcmp(name, "data") == 0) {
        g_string_append(s->data, value);
        g_string_append_c(s->data, '\n');
    } else if (strcmp(name, "event") == 0) {
        g_free(s->event);
        s->event = g_strdup(value);
    } else if (strcmp(name, "id") == 0) {
        g_free(s->id);
        s->id = g_strdup(value);
    }
    g_free(name);
}

static size_t on_bytes(char *bytes, size_t size, size_t nmemb, void *userdata)
{
    struct sse *s = userdata;
    size_t n = size * nmemb;
    if (!s->status)
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200) { /* an error answer: keep it to say what it was */
        if (s->error->len < MAX_ERROR_BODY)
            g_string_append_len(s->error, bytes, (gssize)MIN(n, MAX_ERROR_BODY));
        return n;
    }
    for (size_t i = 0; i < n; i++) {
        char c = bytes[i];
        if (c == '\n' && s->last_cr) {
            s->last_cr = false;
            continue;
        }
        s->last_cr = c == '\r';
        if (c == '\n' || c == '\r') {
            field(s, s->line->str);
            g_string_truncate(s->line, 0);
        } else if (s->line->len < MAX_LINE) {
            g_string_append_c(s->line, c);
        }
    }
    return n;
}

struct events_args {
    struct cli_client client;
    bool follow;
    bool since_given; /* --since: the user asked for events from there */
    const char *since, *types, *job;
};

/* "HTTP 400: types: unknown event type 'x'" from an error answer. */
static void report_http_error(const struct sse *s, const char *url)
{
    json_t *body = json_loadb(s->error->str, s->error->len, 0, NULL);
    const char *code = json_string_value(json_object_get(body, "code"));
    const char *message = json_string_value(json_object_get(body, "message"));
    if (code && message)
        fprintf(stderr, "ovsched: %s: %s\n", code, message);
    else
        fprintf(stderr, "ovsched: %s: HTTP %ld\n", url, s->status);
    json_decref(body);
}

/* After a drop the position is the last event seen: `since` says it too,
 * for servers that prefer the query to Last-Event-ID. */
static char *stream_url(const struct events_args *a, const char *last_id, CURL *curl)
{
    GString *url = g_string_new(a->client.server);
    if (url->len && url->str[url->len - 1] == '/')
        g_string_truncate(url, url->len - 1);
    g_string_append(url, "/v1/events");
    const char *keys[] = {"since", "types", "job_id", "follow"},
               *values[] = {last_id ? last_id : a->since, a->types, a->job,
                            a->follow ? NULL : "false"};
    char sep = '?';
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (!values[i])
            continue;
        char *escaped = curl_easy_escape(curl, values[i], 0);
        g_string_append_printf(url, "%c%s=%s", sep, keys[i], escaped);
        curl_free(escaped);
        sep = '&';
    }
    return g_string_free(url, FALSE);
}

/* One connection: stream until the server closes it.  Returns the exit code
 * the failure maps to (CLI_EXIT_OK for a stream that ended cleanly). */
static int stream_once(const struct events_args *a, struct sse *s)
{
    CURL *curl = curl_easy_init();
    char *url = stream_url(a, s->last_id, curl), curl_err[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: text/event-stream");
    char *auth =
        a->client.token ? g_strdup_printf("Authorization: Bearer %s", a->client.token) : NULL;
    char *resume = s->last_id ? g_strdup_printf("Last-Event-ID: %s", s->last_id) : NULL;
    if (auth)
        headers = curl_slist_append(headers, auth);
    if (resume)
        headers = curl_slist_append(headers, resume);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_bytes);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    s->curl = curl;
    s->status = 0;
    g_string_truncate(s->error, 0);
    CURLcode cr = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    s->status = status;
    int r = CLI_EXIT_OK;
    if (status == 200) {
        s->connected = true;
        s->drops = 0;
    }
    if (status && status != 200) {
        report_http_error(s, url);
        json_t *body = json_loadb(s->error->str, s->error->len, 0, NULL);
        r = cli_exit_for_error(status, json_string_value(json_object_get(body, "code")));
        json_decref(body);
    } else if (cr != CURLE_OK && status == 0) {
        if (!s->follow || !s->connected)
            fprintf(stderr, "ovsched: cannot reach %s: %s\n", a->client.server,
                    *curl_err ? curl_err : curl_easy_strerror(cr));
        else if (s->drops == 0)
            fprintf(stderr, "ovsched: event stream lost (%s): reconnecting\n",
                    *curl_err ? curl_err : curl_easy_strerror(cr));
        r = CLI_EXIT_UNREACHABLE;
    } else if (cr != CURLE_OK && (!s->follow || s->drops == 0)) {
        fprintf(stderr, "ovsched: event stream interrupted: %s%s\n",
                *curl_err ? curl_err : curl_easy_strerror(cr), s->follow ? ": reconnecting" : "");
    }
    if (cr != CURLE_OK)
        s->drops++;
    /* A message cut off by the disconnect is dropped: the server sends it
     * again after Last-Event-ID. */
    g_string_truncate(s->line, 0);
    g_string_truncate(s->data, 0);
    g_clear_pointer(&s->event, g_free);
    g_clear_pointer(&s->id, g_free);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    g_free(auth);
    g_free(resume);
    g_free(url);
    return r;
}

/* --types in the names the server knows, lower case ("job_created,job_failed");
 * NULL after saying which one is unknown. */
static char *normalise_types(const struct cli_command *cmd, const char *text)
{
    char **names = g_strsplit(text, ",", -1);
    GString *out = g_string_new(NULL);
    bool ok = true;
    for (char **name = names; ok && *name; name++) {
        char *lower = g_ascii_strdown(g_strstrip(*name), -1);
        enum events_type type;
        if (events_type_from_string(lower, &type) == 0) {
            g_string_append_printf(out, "%s%s", out->len ? "," : "", lower);
        } else {
            GString *known = g_string_new(NULL);
            for (int i = 0; i < EVENTS_TYPE_COUNT; i++)
                g_string_append_printf(known, "%s%s", i ? ", " : "",
                                       events_type_to_string((enum events_type)i));
            cli_usage_error(cmd, "--types: unknown event type '%s' (known: %s)", *name, known->str);
            g_string_free(known, TRUE);
            ok = false;
        }
        g_free(lower);
    }
    g_strfreev(names);
    return g_string_free(out, !ok);
}

/* After a resync: go on from the oldest event kept (some were pruned), or
 * for a `since` ahead of the log, stop (or with --follow, go on live). */
static bool resume_after_resync(const struct events_args *a, struct sse *s)
{
    s->resync = false;
    if (s->resync_since >= s->latest_seq) {
        if (!a->follow)
            return false;
        g_free(s->last_id);
        s->last_id = g_strdup_printf("%lld", (long long)s->latest_seq);
        return true;
    }
    if (a->since_given) /* asked for events the log no longer holds */
        fprintf(stderr, "ovsched: events %lld to %lld were pruned from the log; from %lld on:\n",
                (long long)s->resync_since + 1, (long long)s->oldest_seq - 1,
                (long long)s->oldest_seq);
    g_free(s->last_id);
    s->last_id = g_strdup_printf("%lld", (long long)(s->oldest_seq > 0 ? s->oldest_seq - 1 : 0));
    return true;
}

int cli_events_run(struct cli_args *args)
{
    struct events_args a = {0};
    cli_client_from_args(&a.client, args);
    a.follow = cli_args_has(args, CLI_O_FOLLOW);
    a.since = cli_args_get(args, CLI_O_SINCE);
    a.since_given = a.since != NULL;
    a.job = cli_args_get(args, CLI_O_JOB);
    /* Without --follow, what the log holds: from its start unless told. */
    if (!a.follow && !a.since)
        a.since = "0";
    char *types = NULL;
    if (cli_args_has(args, CLI_O_TYPES) &&
        !(types = normalise_types(args->cmd, cli_args_get(args, CLI_O_TYPES))))
        return CLI_EXIT_USAGE;
    a.types = types;
    struct sse s = {.out = args->out, .json = a.client.json, .follow = a.follow};
    s.line = g_string_new(NULL);
    s.data = g_string_new(NULL);
    s.error = g_string_new(NULL);
    int r;
    for (;;) {
        r = stream_once(&a, &s);
        if (r == CLI_EXIT_OK && s.resync && resume_after_resync(&a, &s))
            continue;
        /* Reconnect after a drop, not after the server said no (auth, 404). */
        if (!a.follow || (r != CLI_EXIT_OK && r != CLI_EXIT_UNREACHABLE))
            break;
        if (r == CLI_EXIT_UNREACHABLE && !s.connected)
            break; /* never connected: a wrong --server, not a drop */
        g_usleep(RECONNECT_DELAY_MS * 1000);
    }
    g_string_free(s.line, TRUE);
    g_string_free(s.data, TRUE);
    g_string_free(s.error, TRUE);
    g_free(s.last_id);
    g_free(types);
    return r;
}
