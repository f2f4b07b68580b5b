/*
 * cli_table - aligned text tables for people.
 *
 * Widths count characters (UTF-8), not bytes, so a job name with accents does
 * not shift its row.  A cell wider than its column's limit is cut and ends in
 * "..."; newlines and tabs inside a cell become spaces so one row stays one
 * line.  The last column is not padded (no trailing blanks).
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

struct cli_table {
    size_t ncols;
    const char *const *headers;
    const int *max_widths;
    GPtrArray *rows; /* of char *[ncols] */
};

struct cli_table *cli_table_new(size_t ncols, const char *const *headers, const int *max_widths)
{
    struct cli_table *t = g_new0(struct cli_table, 1);
    t->ncols = ncols;
    t->headers = headers;
    t->max_widths = max_widths;
    t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    return t;
}

/* CELL made printable on one line and cut to LIMIT characters (0: none). */
static char *fit(const char *cell, int limit)
{
    if (!cell || !*cell)
        return g_strdup("-");
    char *text = g_utf8_make_valid(cell, -1);
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    glong len = g_utf8_strlen(text, -1);
    if (limit > 3 && len > limit) {
        char *end = g_utf8_offset_to_pointer(text, limit - 3);
        char *cut = g_strdup_printf("%.*s...", (int)(end - text), text);
        g_free(text);
        return cut;
    }
    return text;
}

void cli_table_add(struct cli_table *table, const char *const *cells)
{
    char **row = g_new0(char *, table->ncols + 1);
    for (size_t i = 0; i < table->ncols; i++)
        row[i] = fit(cells[i], table->max_widths ? table->max_widths[i] : 0);
    g_ptr_array_add(table->rows, row);
}

static void print_row(const struct cli_table *t, const char *const *cells, const glong *widths,
                      FILE *out)
{
    for (size_t i = 0; i < t->ncols; i++) {
        fputs(cells[i], out);
        if (i + 1 == t->ncols)
            break;
        for (glong pad = widths[i] - g_utf8_strlen(cells[i], -1) + 2; pad > 0; pad--)
            fputc(' ', out);
    }
    fputc('\n', out);
}

void cli_table_print(const struct cli_table *table, FILE *out)
{
    glong *widths = g_new0(glong, table->ncols);
    for (size_t i = 0; i < table->ncols; i++)
        widths[i] = g_utf8_strlen(table->headers[i], -1);
    for (guint r = 0; r < table->rows->len; r++) {
        char **row = g_ptr_array_index(table->rows, r);
        for (size_t i = 0; i < table->ncols; i++)
            widths[i] = MAX(widths[i], g_utf8_strlen(row[i], -1));
    }
    print_row(table, table->headers, widths, out);
    for (guint r = 0; r < table->rows->len; r++)
        print_row(table, (const char *const *)g_ptr_array_index(table->rows, r), widths, out);
    g_free(widths);
}

void cli_table_free(struct cli_table *table)
{
    if (!table)
        return;
    g_ptr_array_free(table->rows, TRUE);
    g_free(table);
}

char *cli_cell_text(json_t *cell)
{
    if (json_is_string(cell))
        return g_strdup(json_string_value(cell));
    if (json_is_integer(cell))
        return g_strdup_printf("%lld", (long long)json_integer_value(cell));
    if (json_is_real(cell))
        return g_strdup_printf("%g", json_real_value(cell));
    if (json_is_boolean(cell))
        return g_strdup(json_is_true(cell) ? "true" : "false");
    if (json_is_array(cell)) {
        GString *s = g_string_new(NULL);
        size_t i;
        json_t *v;
        json_array_foreach(cell, i, v)
        {
            char *part = cli_cell_text(v);
            g_string_append_printf(s, "%s%s", i ? " " : "", part ? part : "null");
            g_free(part);
        }
        return g_string_free(s, FALSE);
    }
    if (json_is_object(cell)) {
        char *text = json_dumps(cell, JSON_COMPACT), *copy = g_strdup(text);
        free(text);
        return copy;
    }
    return NULL;
}

void cli_table_print_objects(FILE *out, json_t *rows, size_t ncols, const char *const *headers,
                             const char *const *keys, const int *max_widths)
{
    struct cli_table *t = cli_table_new(ncols, headers, max_widths);
    char **cells = g_new0(char *, ncols + 1);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (size_t k = 0; k < ncols; k++)
            cells[k] = cli_cell_text(json_object_get(row, keys[k]));
        cli_table_add(t, (const char *const *)cells);
        for (size_t k = 0; k < ncols; k++)
            g_clear_pointer(&cells[k], g_free);
    }
    g_free(cells);
    cli_table_print(t, out);
    cli_table_free(t);
}
