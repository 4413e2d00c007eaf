/* row.c - small helpers of the unified row (see row.h): field lookup by
 * name, done once at start-up, and kind names for messages. */
#include "row.h"

#include <string.h>

int layout_find(const mts_layout *l, const char *name)
{
    for (int i = 0; i < l->n_fields; i++)
        if (!strcmp(l->fields[i].name, name))
            return i;
    return -1;
}

const char *field_kind_name(field_kind k)
{
    switch (k) {
    case FK_LONG:
        return "long";
    case FK_DOUBLE:
        return "double";
    case FK_STRING:
        return "string";
    case FK_LONG_ARRAY:
        return "long[]";
    case FK_DOUBLE_ARRAY:
        return "double[]";
    case FK_STRING_ARRAY:
        return "string[]";
    }
    return "?";
}
