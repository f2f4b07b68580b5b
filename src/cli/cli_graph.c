/*
 * cli_graph - `ovsched graph`: the dependency graph (GetJobGraph,
 * docs/graph.md) as text for people, as DOT for Graphviz (`ovsched graph
 * --dot | dot -Tsvg > graph.svg`), or the API's JSON.
 *
 * The text form lists the execution order (topological levels: every job of
 * level n depends only on jobs of levels < n), then each job with its status
 * and what it waits for.  Edges go from the dependency to its dependent.  A
 * DOT label is made of quoted parts joined by `\n`, Graphviz's own line
 * break inside a quoted string (the parts' own backslashes are escaped, the
 * separator's is not).
 */
#include <glib.h>
#include <string.h>

#include "cli/internal.h"

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

/* TEXT escaped for a DOT quoted string, appended to S. */
static void dot_escape(GString *s, const char *text)
{
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(s, '\\');
        g_string_append_c(s, *p);
    }
}

/* TEXT quoted for DOT. */
static char *dot_quote(const char *text)
{
    GString *s = g_string_new("\"");
    dot_escape(s, text);
    g_string_append_c(s, '"');
    return g_string_free(s, FALSE);
}

/* The quoted label of node V: its name (when it has one of its own), its id
 * and its state, one per line. */
static char *dot_label(json_t *v, const char *status)
{
    const char *id = json_string_value(json_object_get(v, "id"));
    const char *name = json_string_value(json_object_get(v, "name"));
    GString *s = g_string_new("\"");
    if (name && *name && g_strcmp0(name, id) != 0) {
        dot_escape(s, name);
        g_string_append(s, "\\n");
    }
    dot_escape(s, id);
    g_string_append(s, "\\n");
    dot_escape(s, status);
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
        char *id = dot_quote(str(v, "id")), *label = dot_label(v, status);
        fprintf(out, "  %s [label=%s, fillcolor=%s];\n", id, label, node_colour(status));
        g_free(id);
        g_free(label);
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

int cli_graph_run(struct cli_args *a)
{
    if (!a->nargs && (cli_args_has(a, CLI_O_DIRECTION) || cli_args_has(a, CLI_O_DEPTH)))
        return cli_usage_error(a->cmd, "--%s applies to the closure of a JOB: name one",
                               cli_args_has(a, CLI_O_DIRECTION) ? "direction" : "depth");
    struct cli_client client;
    cli_client_from_args(&client, a);
    json_t *request = json_object(), *body = NULL;
    if (a->nargs)
        json_object_set_new(request, "job_id", json_string(a->args[0]));
    if (a->nargs && cli_args_has(a, CLI_O_DIRECTION))
        json_object_set_new(request, "direction", json_string(cli_args_get(a, CLI_O_DIRECTION)));
    if (a->nargs && cli_args_has(a, CLI_O_DEPTH))
        json_object_set_new(request, "depth", json_integer(cli_args_int(a, CLI_O_DEPTH, 0)));
    int r = cli_rpc(&client, "GetJobGraph", request, &body);
    if (r != CLI_EXIT_OK)
        return r;
    if (client.json)
        cli_print_json(a->out, body);
    else if (cli_args_has(a, CLI_O_DOT))
        print_dot(body, a->out);
    else
        print_text(body, a->out);
    json_decref(body);
    return CLI_EXIT_OK;
}
