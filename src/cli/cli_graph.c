/*
 * cli_graph - `ovsched graph`: the dependency graph (GetJobGraph, SPEC section
 * 5 and 8) as text for people, as DOT for Graphviz (`ovsched graph --dot |
 * dot -Tsvg > graph.svg`), or the API's JSON.
 *
 * The text form lists the execution order (topological levels: every job of
 * level n depends only on jobs of levels < n), then each job with its status
 * and what it waits for.  Edges go from the dependency to its dependent.
 */
#include <glib.h>
#include <string.h>

#include "cli/internal.h"

static const char graph_usage[] =
    "usage: ovsched graph [JOB] [--direction up|down|both] [--depth N] [--dot] [--json]\n"
    "                     [--server URL] [--token T]\n";

enum { OPT_DIRECTION = 1, OPT_DEPTH, OPT_DOT };

static const char *node_colour(const char *status)
{
    static const struct {
        const char *status, *colour;
    } colours[] = {
        {"COMPLETED", "palegreen"}, {"FAILED", "salmon"},        {"RUNNING", "lightblue"},
        {"WAITING", "khaki"},       {"UPSTREAM_FAILED", "pink"}, {"PAUSED", "lightgrey"},
    };
    for (size_t i = 0; status && i < G_N_ELEMENTS(colours); i++)
        if (strcmp(status, colours[i].status) == 0)
            return colours[i].colour;
    return "white";
}

/* TEXT quoted for DOT. */
static char *dot_quote(const char *text)
{
    GString *s = g_string_new("\"");
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(s, '\\');
        g_string_append_c(s, *p);
    }
    g_string_append_c(s, '"');
    return g_string_free(s, FALSE);
}

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void print_dot(json_t *graph, FILE *out)
{
    fputs("digraph ovsched {\n  rankdir=LR;\n  node [shape=box, style=filled];\n", out);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(graph, "nodes"), i, v)
    {
        const char *status =
            str(v, "last_run_status") ? str(v, "last_run_status") : str(v, "status");
        char *id = dot_quote(str(v, "id"));
        char *label = g_strdup_printf("%s\\n%s", str(v, "id"), status ? status : "");
        char *qlabel = dot_quote(label);
        fprintf(out, "  %s [label=%s, fillcolor=%s];\n", id, qlabel, node_colour(status));
        g_free(id);
        g_free(label);
        g_free(qlabel);
    }
    json_array_foreach(json_object_get(graph, "edges"), i, v)
    {
        char *from = dot_quote(str(v, "from")), *to = dot_quote(str(v, "to"));
        fprintf(out, "  %s -> %s;\n", from, to);
        g_free(from);
        g_free(to);
    }
    fputs("}\n", out);
}

static void print_text(json_t *graph, FILE *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(graph, "levels"), i, v)
    {
        char *ids = cli_cell_text(v);
        fprintf(out, "level %zu: %s\n", i, ids ? ids : "");
        g_free(ids);
    }
    static const char *const headers[] = {"JOB",      "NAME",     "STATUS",
                                          "LAST RUN", "NEXT RUN", "DEPENDS ON"};
    struct cli_table *t = cli_table_new(G_N_ELEMENTS(headers), headers, NULL);
    json_array_foreach(json_object_get(graph, "nodes"), i, v)
    {
        GString *deps = g_string_new(NULL);
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(graph, "edges"), k, e)
        {
            if (g_strcmp0(str(e, "to"), str(v, "id")) == 0)
                g_string_append_printf(deps, "%s%s", deps->len ? " " : "", str(e, "from"));
        }
        const char *cells[] = {str(v, "id"),
                               str(v, "name"),
                               str(v, "status"),
                               str(v, "last_run_status"),
                               str(v, "next_run_time"),
                               deps->str};
        cli_table_add(t, cells);
        g_string_free(deps, TRUE);
    }
    if (json_array_size(json_object_get(graph, "levels")))
        fputc('\n', out);
    cli_table_print(t, out);
    cli_table_free(t);
}

int cli_graph_main(int argc, char **argv, FILE *in, FILE *out)
{
    (void)in;
    static const struct option options[] = {
        {"direction", required_argument, NULL, OPT_DIRECTION},
        {"depth", required_argument, NULL, OPT_DEPTH},
        {"dot", no_argument, NULL, OPT_DOT},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct cli_client client;
    cli_client_init(&client);
    const char *direction = NULL, *depth = NULL;
    bool dot = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (cli_client_option(&client, c, optarg))
            continue;
        if (c == OPT_DIRECTION && g_regex_match_simple("^(up|down|both)$", optarg, 0, 0))
            direction = optarg;
        else if (c == OPT_DEPTH && g_regex_match_simple("^[0-9]+$", optarg, 0, 0))
            depth = optarg;
        else if (c == OPT_DOT)
            dot = true;
        else if (c == CLI_OPT_HELP) {
            fputs(graph_usage, out);
            return CLI_EXIT_OK;
        } else {
            if (c == OPT_DIRECTION || c == OPT_DEPTH)
                fprintf(stderr, "ovsched: graph: --%s: bad value '%s'\n",
                        c == OPT_DIRECTION ? "direction (up, down or both)" : "depth (an integer)",
                        optarg);
            fputs(graph_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "ovsched: graph: one JOB at most\n%s", graph_usage);
        return CLI_EXIT_USAGE;
    }
    json_t *request = json_object(), *body = NULL;
    if (optind < argc)
        json_object_set_new(request, "job_id", json_string(argv[optind]));
    if (direction)
        json_object_set_new(request, "direction", json_string(direction));
    if (depth)
        json_object_set_new(request, "depth", json_integer(g_ascii_strtoll(depth, NULL, 10)));
    int r = cli_rpc(&client, "GetJobGraph", request, &body);
    if (r != CLI_EXIT_OK)
        return r;
    if (client.json)
        cli_print_json(out, body);
    else if (dot)
        print_dot(body, out);
    else
        print_text(body, out);
    json_decref(body);
    return CLI_EXIT_OK;
}
