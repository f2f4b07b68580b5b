/*
 * cli_events - `ovsched events`: follow the daemon's event stream (SPEC
 * section 6) over Server-Sent Events, `GET /v1/events`.
 *
 * Each SSE message carries `id:` = the event's seq, `event:` = its type and
 * `data:` = the JSON envelope.  We print one line per event for people
 * (`seq  time  type  job  status`) or the envelope with --json (one per line,
 * for `jq`).  With --follow a dropped connection is retried with
 * `Last-Event-ID: <last seq seen>` after a short pause, so nothing still in
 * the server's log is missed or printed twice; without it the command ends
 * when the server closes the stream.
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

#define RECONNECT_DELAY_MS 1000
#define MAX_LINE           (1u << 20)

static const char events_usage[] =
    "usage: ovsched events [--follow] [--since SEQ] [--types TYPE,...] [--job ID] [--json]\n"
    "                      [--server URL] [--token T]\n";

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
    fprintf(stderr, "ovsched: the server ended the stream (%s): %s\n", s->event,
            message ? message : s->data->str);
    json_t *latest = json_object_get(body, "latest_seq");
    if (resync && json_is_integer(latest)) {
        g_free(s->last_id);
        s->last_id = g_strdup_printf("%lld", (long long)json_integer_value(latest));
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
    const char *since, *types, *job;
};

/* After a drop the position is the last event seen: `since` says it too,
 * for servers that prefer the query to Last-Event-ID. */
static char *stream_url(const struct events_args *a, const char *last_id, CURL *curl)
{
    GString *url = g_string_new(a->client.server);
    if (url->len && url->str[url->len - 1] == '/')
        g_string_truncate(url, url->len - 1);
    g_string_append(url, "/v1/events");
    const char *keys[] = {"since", "types", "job_id"},
               *values[] = {last_id ? last_id : a->since, a->types, a->job};
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
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode cr = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    int r = CLI_EXIT_OK;
    if (status == 200) {
        s->connected = true;
        s->drops = 0;
    }
    if (cr == CURLE_HTTP_RETURNED_ERROR) {
        fprintf(stderr, "ovsched: %s: HTTP %ld\n", url, status);
        r = cli_exit_for_error(status, NULL);
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

enum { OPT_FOLLOW = 1, OPT_SINCE, OPT_TYPES, OPT_JOB };

int cli_events_main(int argc, char **argv, FILE *in, FILE *out)
{
    (void)in;
    static const struct option options[] = {
        {"follow", no_argument, NULL, OPT_FOLLOW},
        {"since", required_argument, NULL, OPT_SINCE},
        {"types", required_argument, NULL, OPT_TYPES},
        {"job", required_argument, NULL, OPT_JOB},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct events_args a = {0};
    cli_client_init(&a.client);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f", options, NULL)) != -1) {
        if (cli_client_option(&a.client, c, optarg))
            continue;
        if (c == OPT_FOLLOW || c == 'f')
            a.follow = true;
        else if (c == OPT_SINCE && g_regex_match_simple("^[0-9]+$", optarg, 0, 0))
            a.since = optarg;
        else if (c == OPT_TYPES)
            a.types = optarg;
        else if (c == OPT_JOB)
            a.job = optarg;
        else if (c == CLI_OPT_HELP) {
            fputs(events_usage, out);
            return CLI_EXIT_OK;
        } else {
            if (c == OPT_SINCE)
                fprintf(stderr, "ovsched: --since: a sequence number, got '%s'\n", optarg);
            fputs(events_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ovsched: events: unexpected argument '%s'\n%s", argv[optind],
                events_usage);
        return CLI_EXIT_USAGE;
    }
    struct sse s = {.out = out, .json = a.client.json, .follow = a.follow};
    s.line = g_string_new(NULL);
    s.data = g_string_new(NULL);
    int r;
    for (;;) {
        r = stream_once(&a, &s);
        /* Reconnect after a drop, not after the server said no (auth, 404). */
        if (!a.follow || (r != CLI_EXIT_OK && r != CLI_EXIT_UNREACHABLE))
            break;
        if (r == CLI_EXIT_UNREACHABLE && !s.connected)
            break; /* never connected: a wrong --server, not a drop */
        g_usleep(RECONNECT_DELAY_MS * 1000);
    }
    g_string_free(s.line, TRUE);
    g_string_free(s.data, TRUE);
    g_free(s.last_id);
    return r;
}
