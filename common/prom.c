/* prom.c - see prom.h. */
#include "prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void put(mts_buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void prom_family(mts_buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP ");
    put(b, name);
    buf_putc(b, ' ');
    for (const char *p = help; *p; p++) { /* help text escapes backslash and newline */
        if (*p == '\\')
            put(b, "\\\\");
        else if (*p == '\n')
            put(b, "\\n");
        else
            buf_putc(b, (uint8_t)*p);
    }
    put(b, "\n# TYPE ");
    put(b, name);
    buf_putc(b, ' ');
    put(b, type);
    buf_putc(b, '\n');
}

static void put_label_value(mts_buf *b, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            put(b, "\\\\");
        else if (*p == '"')
            put(b, "\\\"");
        else if (*p == '\n')
            put(b, "\\n");
        else
            buf_putc(b, (uint8_t)*p);
    }
}

void prom_sample(mts_buf *b, const char *name, double value, int n_labels, ...)
{
    put(b, name);
    if (n_labels > 0) {
        va_list ap;
        va_start(ap, n_labels);
        buf_putc(b, '{');
        for (int i = 0; i < n_labels; i++) {
            const char *k = va_arg(ap, const char *);
            const char *v = va_arg(ap, const char *);
            if (i)
                buf_putc(b, ',');
            put(b, k);
            put(b, "=\"");
            put_label_value(b, v ? v : "");
            buf_putc(b, '"');
        }
        buf_putc(b, '}');
        va_end(ap);
    }
    char num[64];
    if (isnan(value))
        snprintf(num, sizeof(num), " NaN\n");
    else if (isinf(value))
        snprintf(num, sizeof(num), " %sInf\n", value > 0 ? "+" : "-");
    else if (value == floor(value) && fabs(value) < 9e15)
        snprintf(num, sizeof(num), " %.0f\n", value); /* counters stay exact integers */
    else
        snprintf(num, sizeof(num), " %.17g\n", value);
    put(b, num);
}
